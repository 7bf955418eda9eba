"""Noto Sans CJK for reportlab: CJK text in the reports' PDFs as real, embedded, searchable text.

reportlab embeds only TrueType (glyf) outlines, and Noto Sans CJK ships as CFF-flavoured OpenType
collections (see app/services/codes/posters.py, which rasterizes for that reason). A report must be
text a clerk can search and copy, so for each PDF we take the characters it will print, subset the
SC face found by :mod:`app.services.fonts` to them with fontTools, and convert those glyphs' cubic
outlines to quadratic TrueType ones (cu2qu, within 1 unit of 1000). A report of 10,000 people uses
a few thousand distinct characters: about a second, and reportlab subsets again when it writes.

The subset keeps the real cmap, so a PDF text extractor reads the original characters back.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont as ReportlabTTFont

from app.services.fonts import find_cjk_font

#: Always in the subset: digits, Latin, the punctuation and words every report prints.
BASE_CHARS = "".join(chr(c) for c in range(0x20, 0x7F)) + "，。：；、（）《》“”‘’—…·！？％／第页共签到表会议日期时间" \
    "单位姓名职务身份座位方式迟到请假缺席应实率签字备注序号合计打印生成于是否—－"
_MAX_ERR = 1.0  # font units (of 1000): invisible at any print size
_cache: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()
_CACHE_SIZE = 8


def _convert(chars: str, bold: bool, ps_name: str = "") -> bytes:
    face = find_cjk_font(bold)
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    options = subset.Options()
    options.layout_features = []  # no shaping: reportlab draws one glyph per character
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
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
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
    if ps_name:
        # reportlab maps fonts to faces by PostScript name: every subset needs its own, or a second
        # report would draw with the first one's glyphs (and print empty boxes).
        font["name"].setName(ps_name, 6, 3, 1, 0x409)
        font["name"].setName(ps_name, 6, 1, 0, 0)
    out = io.BytesIO()
    font.save(out)  # recalculates maxp, loca and the bounding boxes
    return out.getvalue()


def register(chars: str | set[str], *, bold: bool = False) -> str:
    """The reportlab font name of Noto Sans CJK SC (bold or regular) for text made of ``chars``
    (plus :data:`BASE_CHARS`), registered on first use. A character the font lacks prints as the
    font's empty box, never as another font's glyph."""
    wanted = "".join(sorted(set(chars) | set(BASE_CHARS)))
    key = hashlib.sha1(f"{bold}:{wanted}".encode()).hexdigest()[:16]
    name = f"NotoSansCJKsc-{'B' if bold else 'R'}-{key}"
    with _lock:
        if name in _cache:
            _cache.move_to_end(name)
            return name
        data = _convert(wanted, bold, name)
        pdfmetrics.registerFont(ReportlabTTFont(name, io.BytesIO(data)))
        _cache[name] = name
        while len(_cache) > _CACHE_SIZE:
            # Forget the oldest (its PDF is long written): a worker's memory stays bounded.
            old, _ = _cache.popitem(last=False)
            pdfmetrics._fonts.pop(old, None)
            pdfmetrics._dynFaceNames.pop(old, None)
        return name
