"""Noto Sans CJK for reportlab: CJK text in the reports' PDFs as real, embedded, searchable text.

reportlab embeds only TrueType (glyf) outlines, and Noto Sans CJK ships as CFF-flavoured OpenType
collections (see app/services/codes/posters.py, which rasterizes for that reason). A report must be
text a clerk can search and copy, so the SC face found by :mod:`app.services.fonts` is converted to
TrueType with fontTools: cubic outlines to quadratic ones (cu2qu, within 1 unit of 1000, invisible in
print), with the real cmap, so a PDF text extractor reads the original characters back.

Converting is slow (seconds per thousand glyphs), so it is done once per machine for the characters
reports print (:data:`COVERAGE`: every CJK Unified Ideograph and Extension A, Latin, punctuation and
full-width forms; the bold face, used for titles and headers, covers GB2312), kept in
:data:`CACHE_DIR` (``make setup`` builds it; else the first report does) and registered once per
process; reportlab then embeds only the glyphs a PDF uses. A report that prints a character outside
the coverage (a rare name in Extension B, say) gets a font converted for its own characters instead:
slower, never wrong.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

from app.services.fonts import find_cjk_font

_MAX_ERR = 1.0  # font units (of 1000)
_reportlab_to_unicode = ttfonts.makeToUnicodeCMap


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with characters beyond the BMP (a rare name in CJK Extension B,
    U+2003E) as the UTF-16 surrogate pair the PDF format asks for: reportlab writes ``<2003E>``,
    which text extractors read as U+2003, so the name would not be found or copied right."""
    cmap = _reportlab_to_unicode(fontname, [v if v <= 0xFFFF else 0 for v in subset])
    for index, value in enumerate(subset):
        if value > 0xFFFF:
            high, low = divmod(value - 0x10000, 0x400)
            cmap = cmap.replace(f"<{index:02X}> <0000>", f"<{index:02X}> <{0xD800 + high:04X}{0xDC00 + low:04X}>", 1)
    return cmap


ttfonts.makeToUnicodeCMap = _to_unicode_cmap
#: Bumped when what is cached changes (coverage, conversion): older caches are ignored.
CACHE_VERSION = "1"
CACHE_DIR = Path(os.environ.get("HUIYI_FONT_CACHE") or Path(__file__).resolve().parents[3] / "instance" / "font-cache")
#: Tables nothing here needs, dropped before subsetting: decompiling Noto CJK's layout tables is
#: most of a subset's fixed cost, and reportlab draws one glyph per character with no shaping.
_UNUSED_TABLES = ("GSUB", "GPOS", "GDEF", "BASE", "VORG", "vhea", "vmtx", "JSTF", "MATH", "DSIG")


def _ranges(*spans: tuple[int, int]) -> str:
    return "".join(chr(c) for a, b in spans for c in range(a, b + 1))


_SYMBOLS = _ranges((0x20, 0x7E), (0xA0, 0xFF), (0x2010, 0x2027), (0x2030, 0x203B), (0x2103, 0x2103),
                   (0x2116, 0x2116), (0x2160, 0x216B), (0x2190, 0x2193), (0x2460, 0x249B), (0x2212, 0x2212),
                   (0x25A0, 0x25CF), (0x3000, 0x303F), (0xFF01, 0xFF5E), (0xFFE0, 0xFFE5))
#: What the cached regular face covers: every CJK Unified Ideograph (and Extension A) and the symbols.
COVERAGE = _SYMBOLS + _ranges((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


def _gb2312() -> str:
    out = []
    for c in range(0x4E00, 0xA000):
        try:
            chr(c).encode("gb2312")
        except UnicodeEncodeError:
            continue
        out.append(chr(c))
    return "".join(out)


#: What the cached bold face covers (titles and headers): GB2312's hanzi and the symbols.
BOLD_COVERAGE = _SYMBOLS + _gb2312()


def convert(chars: str, bold: bool, ps_name: str) -> bytes:
    """A TrueType font of Noto Sans CJK SC (bold or regular) with the glyphs of ``chars``, named
    ``ps_name`` (reportlab maps fonts to faces by PostScript name: each font needs its own)."""
    face = find_cjk_font(bold)
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    for tag in _UNUSED_TABLES:
        if tag in font:
            del font[tag]
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    options.desubroutinize = True
    options.notdef_outline = True
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=chars)
    subsetter.subset(font)

    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        # CFF contours run the other way round from TrueType's: reverse them while converting.
        glyphs[name].draw(Cu2QuPen(pen, _MAX_ERR, reverse_direction=True))
        glyf.glyphs[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    if "CFF " in font:
        del font["CFF "]
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    maxp.numGlyphs = len(order)
    for attr in ("maxPoints", "maxContours", "maxCompositePoints", "maxCompositeContours", "maxTwilightPoints",
                 "maxStorage", "maxFunctionDefs", "maxInstructionDefs", "maxStackElements",
                 "maxSizeOfInstructions", "maxComponentElements", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    font["maxp"] = maxp
    font["head"].glyphDataFormat = 0
    font["post"].formatType = 3.0  # no glyph names: not needed, and CFF's do not carry over
    font.sfntVersion = "\x00\x01\x00\x00"
    font["name"].setName(ps_name, 6, 3, 1, 0x409)
    font["name"].setName(ps_name, 6, 1, 0, 0)
    out = io.BytesIO()
    font.save(out)  # recalculates maxp, loca and the bounding boxes
    return out.getvalue()


def _cache_path(bold: bool) -> Path:
    face = find_cjk_font(bold)
    stat = face.path.stat()
    key = hashlib.sha1(f"{CACHE_VERSION}:{face.path}:{face.index}:{stat.st_size}:{stat.st_mtime_ns}:{bold}"
                       .encode()).hexdigest()[:12]
    return CACHE_DIR / f"NotoSansCJKsc-{'Bold' if bold else 'Regular'}-{key}.ttf"


def cached_font_file(bold: bool) -> Path:
    """The converted face covering :data:`COVERAGE` (bold: :data:`BOLD_COVERAGE`), built on first use."""
    path = _cache_path(bold)
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    data = convert(BOLD_COVERAGE if bold else COVERAGE, bold, f"HuiyiNotoSansCJKsc-{'Bold' if bold else 'Regular'}")
    # Written whole, then renamed: two processes building at once each leave a complete file.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".font-")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    return path


_lock = threading.Lock()
_registered: dict[bool, tuple[str, frozenset[int]]] = {}
_own: OrderedDict[str, str] = OrderedDict()
_OWN_KEEP = 4


def _cached(bold: bool) -> tuple[str, frozenset[int]]:
    """The process's registration of the cached face: its reportlab name and the code points it has."""
    if bold not in _registered:
        path = cached_font_file(bold)
        name = f"HuiyiCJK-{'B' if bold else 'R'}"
        font = ReportlabTTFont(name, str(path))
        pdfmetrics.registerFont(font)
        _registered[bold] = (name, frozenset(font.face.charToGlyph))
    return _registered[bold]


def register(chars: str | set[str], *, bold: bool = False) -> str:
    """The reportlab font name of Noto Sans CJK SC (bold or regular) that has every one of ``chars``."""
    wanted = set(chars)
    with _lock:
        name, covered = _cached(bold)
        if all(ord(ch) in covered or ch in "\n\r\t" for ch in wanted):
            return name
        # A character beyond the cached coverage: a font of this report's own characters.
        text = "".join(sorted(wanted | set(_SYMBOLS)))
        key = hashlib.sha1(f"{bold}:{text}".encode()).hexdigest()[:16]
        own = f"HuiyiCJK-{'B' if bold else 'R'}-{key}"
        if own not in _own:
            pdfmetrics.registerFont(ReportlabTTFont(own, io.BytesIO(convert(text, bold, own))))
            _own[own] = own
            while len(_own) > _OWN_KEEP:  # a worker's memory stays bounded
                old, _ = _own.popitem(last=False)
                pdfmetrics._fonts.pop(old, None)
                pdfmetrics._dynFaceNames.pop(old, None)
        _own.move_to_end(own)
        return own


if __name__ == "__main__":  # make setup: build the cache now rather than at the first report
    for weight in (False, True):
        print(f"{cached_font_file(weight)}", file=sys.stderr)
