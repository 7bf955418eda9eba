"""Printable A4 sign-in posters (PNG and PDF) for a meeting's QR code.

Layout, top to bottom: a coloured header band with the organizer's name, the meeting title (bold,
up to 3 lines, shrunk until it fits), an optional subtitle, the 时间/地点 lines, a large QR code
(at least 9 cm printed, so it scans from a metre or two away), a caption and an optional footer
note. Everything is drawn with Pillow in millimetres and converted to pixels at the requested dpi.

Why the PDF is a 300 dpi raster rather than vector text: reportlab can only embed TrueType (glyf)
outlines, and Noto Sans CJK ships as CFF-flavoured OpenType collections, which reportlab rejects
("postscript outlines are not supported"). The alternatives are all less robust: reportlab's
built-in STSong-Light CID font is never embedded, so viewers substitute whatever they have (Acrobat
outside China asks for a font pack; poppler without poppler-data errors out), even when used only as
an invisible text layer; converting the CFF outlines to TrueType needs fontTools and a fragile
conversion step; shipping a separate TTF build of a CJK font is ~20 MB more. A 300 dpi raster
prints crisply on A4, needs no fonts in the viewer or printer, and looks the same everywhere.
The price is no selectable text; the title still goes into the PDF's document info.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from app.services.fonts import find_cjk_font
from app.services.timeutil import fmt_date_cn, fmt_hm, fmt_range_cn


@lru_cache(maxsize=64)
def _font(bold: bool, size_px: int) -> ImageFont.FreeTypeFont:
    f = find_cjk_font(bold)
    return ImageFont.truetype(str(f.path), max(size_px, 1), index=f.index)


# ---------------------------------------------------------------------------------------------
# Dates: one place for the Chinese date format (app/services/timeutil), shown in Beijing time.


def _require_aware(dt: datetime, name: str) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _time_text(starts_at: datetime, ends_at: datetime | None) -> str:
    if ends_at is None:
        return f"{fmt_date_cn(starts_at)} {fmt_hm(starts_at)}"
    return fmt_range_cn(starts_at, ends_at)


# ---------------------------------------------------------------------------------------------
# Spec

Theme = Literal["red", "blue"]

# (band/accent colour, colour of text on the band). Deep, slightly desaturated tones print well on
# office laser printers and look official without shouting.
_THEMES: dict[str, tuple[tuple[int, int, int], tuple[int, int, int]]] = {
    "red": ((158, 27, 30), (255, 255, 255)),
    "blue": ((24, 58, 110), (255, 255, 255)),
}
_INK = (28, 28, 30)
_BODY = (52, 52, 56)
_MUTED = (110, 110, 116)


@dataclass(frozen=True)
class PosterSpec:
    title: str
    starts_at: datetime
    venue: str
    qr_png: bytes  # PNG (or any Pillow-readable image) from WeChat or from qr_images.qr_png
    ends_at: datetime | None = None
    organizer: str | None = None  # shown in the header band, e.g. "XX市人民政府办公室"
    subtitle: str | None = None  # shown under the title, e.g. "第三次全体会议"
    caption: str = "微信扫一扫 签到"
    footer_note: str | None = None
    theme: Theme = "red"
    extra_lines: tuple[tuple[str, str], ...] = field(default=())  # up to 2 more (label, value) rows

    def __post_init__(self) -> None:
        if not self.title.strip():
            raise ValueError("title must not be empty")
        if len(self.extra_lines) > 2:
            raise ValueError("at most 2 extra_lines fit on the poster")
        if self.theme not in _THEMES:
            raise ValueError(f"theme must be one of {sorted(_THEMES)}")
        _require_aware(self.starts_at, "starts_at")
        if self.ends_at is not None:
            _require_aware(self.ends_at, "ends_at")
            if self.ends_at < self.starts_at:
                raise ValueError("ends_at is before starts_at")


# ---------------------------------------------------------------------------------------------
# Text layout

# Characters that must not start a line (closing punctuation) or end one (opening punctuation);
# the usual Chinese line-breaking rules (避头尾).
_NO_START = set("，。、；：？！）》」』】〕〉〗”’…—·～,.;:?!)]}%")
_NO_END = set("（《「『【〔〈〖“‘([{")
# Latin words and numbers stay together; every other character is its own break opportunity.
_TOKEN = re.compile(r"[A-Za-z0-9@#&._/+\-]+|\s|.")


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, limit: int | None = None) -> list[str]:
    """Greedy wrap. With `limit`, stop as soon as more than `limit` lines are started (the caller
    only needs to know it does not fit), which keeps shrink-to-fit cheap for very long text."""
    lines: list[list[str]] = [[]]
    for tok in _TOKEN.findall(" ".join(text.split())):
        if limit is not None and len(lines) > limit:
            break
        line = lines[-1]
        if font.getlength("".join(line) + tok) <= width or (not line and tok.isspace()):
            line.append(tok)
            continue
        if tok.isspace():
            lines.append([])
            continue
        if not line:  # a single token wider than the line: break it by character
            for ch in tok:
                if line and font.getlength("".join(line) + ch) > width:
                    line = []
                    lines.append(line)
                line.append(ch)
            continue
        new: list[str] = [tok]
        if tok in _NO_START and len(line) > 1:
            new.insert(0, line.pop())  # a closer may not start a line: take its neighbour along
        while len(line) > 1 and line[-1] in _NO_END:
            new.insert(0, line.pop())  # an opener may not end a line
        lines.append(new)
    out = ["".join(t).strip() for t in lines]
    return [ln for ln in out if ln]


def _balanced_wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    """Wrap into as few lines as greedy wrapping needs, but with line lengths evened out, so a
    title never ends with one orphaned character on its last line."""
    lines = _wrap(text, font, width)
    if len(lines) < 2:
        return lines
    lo, hi = width / len(lines), width
    for _ in range(12):
        mid = (lo + hi) / 2
        if len(_wrap(text, font, mid)) <= len(lines):
            hi = mid
        else:
            lo = mid
    return _wrap(text, font, hi)


def _ellipsize(text: str, font: ImageFont.FreeTypeFont, width: float) -> str:
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text + "…"


class _Canvas:
    """Pillow drawing in millimetres on a white A4 page."""

    def __init__(self, dpi: int, *, dry: bool = False) -> None:
        self.dpi = dpi
        self.k = dpi / 25.4  # px per mm
        self.w_mm, self.h_mm = 210.0, 297.0
        # A dry canvas only measures: layout passes use it to try sizes without drawing.
        self.dry = dry
        size = (1, 1) if dry else (round(self.w_mm * self.k), round(self.h_mm * self.k))
        self.img = Image.new("RGB", size, "white")
        self.draw = ImageDraw.Draw(self.img)

    def px(self, mm: float) -> int:
        return round(mm * self.k)

    def font(self, size_mm: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return _font(bold, self.px(size_mm))

    def rect(self, x: float, y: float, w: float, h: float, fill: tuple[int, int, int]) -> None:
        if self.dry:
            return
        self.draw.rectangle((self.px(x), self.px(y), self.px(x + w) - 1, self.px(y + h) - 1), fill=fill)

    def text(self, x_mm: float, baseline_mm: float, text: str, font: ImageFont.FreeTypeFont, fill) -> None:
        if self.dry:
            return
        self.draw.text((self.px(x_mm), self.px(baseline_mm)), text, font=font, fill=fill, anchor="ls")

    def width_mm(self, text: str, font: ImageFont.FreeTypeFont) -> float:
        return font.getlength(text) / self.k


# Ideographs sit in an em box whose top is ~0.88 em above the baseline (Noto CJK's ideographic
# em box); placing baselines from that keeps vertical rhythm independent of font metrics quirks.
_ASCENT = 0.88


def _line_baselines(top_mm: float, size_mm: float, leading: float, n: int) -> list[float]:
    pitch = size_mm * leading
    first = top_mm + (pitch - size_mm) / 2 + size_mm * _ASCENT
    return [first + i * pitch for i in range(n)]


def _largest_fit(
    c: _Canvas,
    text: str,
    *,
    width_mm: float,
    max_size_mm: float,
    min_size_mm: float,
    max_lines: int,
    bold: bool,
) -> tuple[list[str], float] | None:
    """Largest size (stepping down by 0.5 mm) at which `text` wraps into `max_lines` or fewer."""
    size = max_size_mm
    while size >= min_size_mm:
        font = c.font(size, bold)
        if len(_wrap(text, font, width_mm * c.k, limit=max_lines)) <= max_lines:
            return _balanced_wrap(text, font, width_mm * c.k), size
        size -= 0.5
    return None


def _fit_lines(
    c: _Canvas,
    text: str,
    *,
    width_mm: float,
    max_size_mm: float,
    min_size_mm: float,
    max_lines: int,
    bold: bool,
) -> tuple[list[str], float]:
    """Like _largest_fit, but if even the minimum size needs too many lines, cut the last line
    with an ellipsis rather than overflow the layout."""
    fit = _largest_fit(
        c,
        text,
        width_mm=width_mm,
        max_size_mm=max_size_mm,
        min_size_mm=min_size_mm,
        max_lines=max_lines,
        bold=bold,
    )
    if fit is not None:
        return fit
    font = c.font(min_size_mm, bold)
    lines = _wrap(text, font, width_mm * c.k, limit=max_lines)
    rest = "".join(lines[max_lines - 1 :])
    return lines[: max_lines - 1] + [_ellipsize(rest, font, width_mm * c.k)], min_size_mm


# (line count, smallest acceptable size in mm). Without word segmentation any break inside a
# Chinese title may split a word (安/全), so take fewer lines whenever the type stays large enough.
_TITLE_STEPS = ((1, 11.0), (2, 10.0))
_TITLE_MAX, _TITLE_MIN = 15.0, 8.0


def _fit_title(c: _Canvas, title: str, width_mm: float, scale: float) -> tuple[list[str], float]:
    for max_lines, min_size in _TITLE_STEPS:
        fit = _largest_fit(
            c,
            title,
            width_mm=width_mm,
            max_size_mm=_TITLE_MAX * scale,
            min_size_mm=min_size * scale,
            max_lines=max_lines,
            bold=True,
        )
        if fit is not None:
            return fit
    return _fit_lines(
        c,
        title,
        width_mm=width_mm,
        max_size_mm=_TITLE_MAX * scale,
        min_size_mm=_TITLE_MIN * scale,
        max_lines=3,
        bold=True,
    )


# ---------------------------------------------------------------------------------------------
# QR image


def _load_qr(data: bytes) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError("qr_png is not a readable image") from exc
    if img.mode in ("RGBA", "LA", "P"):
        # WeChat can return transparent codes (is_hyaline); flatten on white so the quiet zone
        # stays white instead of turning black when converted.
        img = img.convert("RGBA")
        bg = Image.new("RGBA", img.size, "white")
        img = Image.alpha_composite(bg, img)
    return img.convert("RGB")


def _paste_qr(c: _Canvas, qr: Image.Image, x_mm: float, y_mm: float, side_mm: float) -> None:
    side = c.px(side_mm)
    scale = side / max(qr.size)
    size = (max(1, round(qr.width * scale)), max(1, round(qr.height * scale)))
    # Enlarging: nearest-neighbour keeps module edges hard (no grey fringes for the decoder).
    # Shrinking: Lanczos, since dropping whole pixel rows could eat thin modules.
    resample = Image.Resampling.NEAREST if scale >= 1 else Image.Resampling.LANCZOS
    scaled = qr.resize(size, resample)
    ox = c.px(x_mm) + (side - size[0]) // 2
    oy = c.px(y_mm) + (side - size[1]) // 2
    c.img.paste(scaled, (ox, oy))


def _corner_marks(
    c: _Canvas, x: float, y: float, side: float, color, arm: float = 9.0, t: float = 0.9
) -> None:
    """Thin L-shaped brackets around the QR: they frame it without a box line that could crowd the
    code's quiet zone."""
    for cx, cy, dx, dy in (
        (x, y, 1, 1),
        (x + side, y, -1, 1),
        (x, y + side, 1, -1),
        (x + side, y + side, -1, -1),
    ):
        hx = cx if dx > 0 else cx - arm
        vy = cy if dy > 0 else cy - arm
        c.rect(hx, cy if dy > 0 else cy - t, arm, t, color)
        c.rect(cx if dx > 0 else cx - t, vy, t, arm, color)


# ---------------------------------------------------------------------------------------------
# Poster

_MARGIN = 20.0  # mm, left/right text margin
_BAND_H = 32.0
_BOTTOM_BAND_H = 8.0
_QR_MAX = 110.0
_QR_MIN = 90.0  # >= 9 cm printed: scans from 1-2 m with an ordinary phone camera
# White space between the QR image and the corner marks. With the image's own border (2 modules
# from qr_png, more from WeChat) this keeps >= 4 modules of quiet zone even for the biggest modules.
_QR_PAD = 9.0


# Text scales tried in order until the QR gets at least _QR_MIN: ordinary posters use 1.0; only
# unusually long titles/venues/notes shrink the type (and the gaps between blocks) further.
_SCALES = (1.0, 0.9, 0.8, 0.7, 0.6)


def _draw_band(c: _Canvas, spec: PosterSpec, accent, on_accent) -> None:
    """Header band with the organizer, or a neutral heading when there is none."""
    W = c.w_mm
    c.rect(0, 0, W, _BAND_H, accent)
    band_text = (spec.organizer or "会议签到").strip()
    lines, size = _fit_lines(
        c, band_text, width_mm=W - 2 * _MARGIN, max_size_mm=9.0, min_size_mm=5.5, max_lines=1, bold=True
    )
    font = c.font(size, bold=True)
    (baseline,) = _line_baselines((_BAND_H - size) / 2, size, 1.0, 1)
    c.text((W - c.width_mm(lines[0], font)) / 2, baseline, lines[0], font, on_accent)
    c.rect(0, _BAND_H + 1.6, W, 0.7, accent)  # thin second rule: a common formal letterhead touch


def _draw_upper(c: _Canvas, spec: PosterSpec, accent, s: float) -> float:
    """Title, subtitle and the 时间/地点 rows at text scale `s`; returns the y (mm) below them."""
    W = c.w_mm
    text_w = W - 2 * _MARGIN

    # Title: bold, centred, up to 3 lines, shrinking from 15 mm (~43 pt) to 8 mm (~23 pt).
    y = _BAND_H + 14.0 * s
    lines, size = _fit_title(c, spec.title.strip(), text_w, s)
    font = c.font(size, bold=True)
    leading = 1.3
    for line, b in zip(lines, _line_baselines(y, size, leading, len(lines)), strict=True):
        c.text((W - c.width_mm(line, font)) / 2, b, line, font, _INK)
    y += size * leading * len(lines)

    if spec.subtitle and spec.subtitle.strip():
        y += 2.0 * s
        lines, size = _fit_lines(
            c,
            spec.subtitle.strip(),
            width_mm=text_w,
            max_size_mm=6.5 * s,
            min_size_mm=4.5 * s,
            max_lines=2,
            bold=False,
        )
        font = c.font(size)
        for line, b in zip(lines, _line_baselines(y, size, 1.4, len(lines)), strict=True):
            c.text((W - c.width_mm(line, font)) / 2, b, line, font, _BODY)
        y += size * 1.4 * len(lines)

    # Short centred accent rule separating the title from the details.
    y += 6.0 * s
    c.rect(W / 2 - 15, y, 30, 0.8, accent)
    y += 0.8 + 7.0 * s

    # Details: bold accent labels, regular values; continuation lines hang under the value; the
    # block as a whole is centred, which looks tidy for both short and long values.
    rows = [("时间：", _time_text(spec.starts_at, spec.ends_at))]
    if spec.venue.strip():
        rows.append(("地点：", spec.venue.strip()))
    rows.extend((f"{label.strip().rstrip('：:')}：", value.strip()) for label, value in spec.extra_lines)
    size = 6.0 * s
    label_font = c.font(size, bold=True)
    label_w = max(c.width_mm(label, label_font) for label, _ in rows)
    value_w = text_w - label_w
    laid: list[tuple[str, list[str], float]] = []
    for label, value in rows:
        vlines, vsize = _fit_lines(
            c, value or "—", width_mm=value_w, max_size_mm=size, min_size_mm=4.8 * s, max_lines=2, bold=False
        )
        laid.append((label, vlines, vsize))
    block_w = label_w + max(c.width_mm(ln, c.font(vs)) for _, vl, vs in laid for ln in vl)
    x0 = (W - block_w) / 2
    leading = 1.55
    for label, vlines, vsize in laid:
        vfont = c.font(vsize)
        baselines = _line_baselines(y, size, leading, len(vlines))
        c.text(x0, baselines[0], label, label_font, accent)
        for line, b in zip(vlines, baselines, strict=True):
            c.text(x0 + label_w, b, line, vfont, _BODY)
        y += size * leading * len(vlines)
    return y + 8.0 * s


def _draw_footer(c: _Canvas, spec: PosterSpec, accent) -> float:
    """Bottom accent band and the footer note; returns the y (mm) above them."""
    W, H = c.w_mm, c.h_mm
    c.rect(0, H - _BOTTOM_BAND_H, W, _BOTTOM_BAND_H, accent)
    bottom = H - _BOTTOM_BAND_H - 6.0
    if spec.footer_note and spec.footer_note.strip():
        lines, size = _fit_lines(
            c,
            spec.footer_note.strip(),
            width_mm=W - 2 * _MARGIN,
            max_size_mm=4.2,
            min_size_mm=3.5,
            max_lines=2,
            bold=False,
        )
        font = c.font(size)
        top = bottom - size * 1.5 * len(lines)
        for line, b in zip(lines, _line_baselines(top, size, 1.5, len(lines)), strict=True):
            c.text((W - c.width_mm(line, font)) / 2, b, line, font, _MUTED)
        bottom = top - 4.0
    return bottom


_CAP_SIZE = 8.0
_CAP_GAP = 5.0  # between the corner marks and the caption


def _qr_side(region_top: float, region_bottom: float) -> float:
    return min(_QR_MAX, region_bottom - region_top - _CAP_SIZE * 1.3 - _CAP_GAP - 2 * _QR_PAD)


def _render(spec: PosterSpec, dpi: int) -> _Canvas:
    if not 72 <= dpi <= 600:
        raise ValueError("dpi must be between 72 and 600")
    accent, on_accent = _THEMES[spec.theme]
    qr = _load_qr(spec.qr_png)  # fail on a bad image before any layout work

    # Measure first (dry), then draw once at the largest text scale that leaves room for the QR.
    probe = _Canvas(dpi, dry=True)
    bottom = _draw_footer(probe, spec, accent)
    for scale in _SCALES:  # noqa: B007 - the last one tried is used below
        if _qr_side(_draw_upper(probe, spec, accent, scale), bottom) >= _QR_MIN:
            break

    c = _Canvas(dpi)
    W = c.w_mm
    _draw_band(c, spec, accent, on_accent)
    region_top = _draw_upper(c, spec, accent, scale)
    bottom = _draw_footer(c, spec, accent)
    # The smallest scale always leaves room given the line caps above; max() is a last guard so a
    # future layout change can shrink the text but never the QR below 9 cm.
    side = max(_qr_side(region_top, bottom), _QR_MIN)

    group_h = 2 * _QR_PAD + side + _CAP_GAP + _CAP_SIZE * 1.3
    gy = region_top + max(0.0, (bottom - region_top - group_h) / 2)
    qx, qy = (W - side) / 2, gy + _QR_PAD
    _paste_qr(c, qr, qx, qy, side)
    _corner_marks(c, qx - _QR_PAD, qy - _QR_PAD, side + 2 * _QR_PAD, accent)

    caption = spec.caption.strip()
    if caption:
        lines, size = _fit_lines(
            c,
            caption,
            width_mm=W - 2 * _MARGIN,
            max_size_mm=_CAP_SIZE,
            min_size_mm=5.0,
            max_lines=1,
            bold=True,
        )
        font = c.font(size, bold=True)
        (b,) = _line_baselines(qy + side + _QR_PAD + _CAP_GAP, _CAP_SIZE, 1.3, 1)
        c.text((W - c.width_mm(lines[0], font)) / 2, b, lines[0], font, _INK)
    return c


def render_poster_png(spec: PosterSpec, dpi: int = 150) -> bytes:
    """A4 portrait poster as PNG (150 dpi: 1240x1754 px, fine for screens; use 300 for print)."""
    c = _render(spec, dpi)
    buf = io.BytesIO()
    c.img.save(buf, format="PNG", optimize=True, dpi=(dpi, dpi))
    return buf.getvalue()


_PDF_DPI = 300


def render_poster_pdf(spec: PosterSpec) -> bytes:
    """A4 portrait poster as a one-page PDF holding the 300 dpi artwork (see the module docstring
    for why it is a raster). The title and organizer go into the document info, so file managers
    and viewers show the meeting's name."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = _render(spec, _PDF_DPI)
    page_w, page_h = A4
    buf = io.BytesIO()
    # invariant=True: same spec -> byte-identical PDF (no timestamps/ids), which makes caching and
    # tests straightforward.
    pdf = canvas.Canvas(buf, pagesize=A4, invariant=True, pageCompression=1)
    pdf.setTitle(spec.title)
    if spec.organizer:
        pdf.setAuthor(spec.organizer)
    pdf.setSubject(_time_text(spec.starts_at, spec.ends_at))
    pdf.setCreator("会易 Huiyi")
    pdf.drawImage(ImageReader(c.img), 0, 0, width=page_w, height=page_h)
    pdf.showPage()
    pdf.save()
    return buf.getvalue()
