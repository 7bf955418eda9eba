"""A4 sign-in posters: the QR on them still scans, text is real CJK type, the PDF is one A4 page."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pypdfium2 as pdfium
import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageFont

from app.services.codes import posters
from app.services.codes.posters import PosterSpec, render_poster_pdf, render_poster_png
from app.services.codes.qr_images import qr_png
from app.services.fonts import find_cjk_font
from app.services.timeutil import fmt_range_cn

CST = timezone(timedelta(hours=8))
PAYLOAD = "https://huiyi.example.gov.cn/m/signin?c=MTG2026A&t=Ab3-_x9QzT0k"
TITLE = "2026年全市安全生产工作会议"


def make_spec(**overrides) -> PosterSpec:
    fields = dict(
        title=TITLE,
        starts_at=datetime(2026, 11, 23, 9, 0, tzinfo=CST),
        ends_at=datetime(2026, 11, 23, 11, 30, tzinfo=CST),
        venue="市行政中心3号楼第一会议室",
        qr_png=qr_png(PAYLOAD),
        organizer="XX市人民政府办公室",
        subtitle="第三次全体会议",
        footer_note="请提前15分钟入场，首次签到需填写单位、姓名和手机号。",
    )
    fields.update(overrides)
    return PosterSpec(**fields)


def decode(img: Image.Image) -> list[zxingcpp.Barcode]:
    return zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)


def symbol_width_mm(barcode: zxingcpp.Barcode, dpi: float) -> float:
    p = barcode.position
    return (p.top_right.x - p.top_left.x) / dpi * 25.4


def modules_for(payload: str) -> int:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    qr.add_data(payload)
    qr.make(fit=True)
    return len(qr.get_matrix())


@pytest.fixture(scope="module")
def poster_png() -> bytes:
    return render_poster_png(make_spec(), dpi=150)


@pytest.fixture(scope="module")
def poster_pdf() -> bytes:
    return render_poster_pdf(make_spec())


# --- dates: the poster uses timeutil's format (one place for it), in Beijing time ------------------


def test_time_same_day() -> None:
    assert (
        posters._time_text(
            datetime(2026, 11, 23, 9, 0, tzinfo=CST), datetime(2026, 11, 23, 11, 30, tzinfo=CST)
        )
        == fmt_range_cn(datetime(2026, 11, 23, 9, 0, tzinfo=CST), datetime(2026, 11, 23, 11, 30, tzinfo=CST))
        == "2026年11月23日（周一） 09:00–11:30"
    )


def test_time_is_shown_in_beijing_time() -> None:
    # 01:00 UTC is 09:00 in Beijing.
    assert posters._time_text(datetime(2026, 11, 23, 1, 0, tzinfo=UTC), None) == "2026年11月23日（周一） 09:00"


def test_time_spanning_days_and_years() -> None:
    text = posters._time_text(
        datetime(2026, 12, 31, 14, 0, tzinfo=CST), datetime(2027, 1, 1, 12, 0, tzinfo=CST)
    )
    assert text == "2026年12月31日（周四） 14:00 至 2027年1月1日（周五） 12:00"


def test_spec_rejects_naive_and_reversed() -> None:
    with pytest.raises(ValueError):
        make_spec(starts_at=datetime(2026, 11, 23, 9, 0), ends_at=None)
    with pytest.raises(ValueError):
        make_spec(ends_at=datetime(2026, 11, 23, 8, 0, tzinfo=CST))


# --- PNG ---------------------------------------------------------------------------------------


def test_png_is_a4_at_requested_dpi(poster_png: bytes) -> None:
    img = Image.open(io.BytesIO(poster_png))
    assert img.format == "PNG"
    assert img.size == (1240, 1754)  # 210 x 297 mm at 150 dpi


def test_png_qr_decodes_and_is_large_with_quiet_zone(poster_png: bytes) -> None:
    img = Image.open(io.BytesIO(poster_png))
    found = decode(img)
    assert [b.text for b in found] == [PAYLOAD]
    # The QR image (symbol + its 2-module border) is >= 90 mm, so the symbol alone is >= 80 mm.
    assert symbol_width_mm(found[0], 150) >= 80
    # Centred horizontally.
    p = found[0].position
    assert abs((p.top_left.x + p.top_right.x) / 2 - img.width / 2) < 3
    # Quiet zone: 4 modules of white all around the symbol.
    module = (p.top_right.x - p.top_left.x) / modules_for(PAYLOAD)
    q = int(4 * module)
    gray = img.convert("L")
    left, top, right, bottom = p.top_left.x, p.top_left.y, p.bottom_right.x, p.bottom_right.y
    ring = [
        gray.crop((left - q, top - q, right + q, top - 2)),
        gray.crop((left - q, bottom + 2, right + q, bottom + q)),
        gray.crop((left - q, top, left - 2, bottom)),
        gray.crop((right + 2, top, right + q, bottom)),
    ]
    assert all(r.getextrema()[0] > 200 for r in ring)


def test_png_header_band_uses_theme_colour() -> None:
    red = Image.open(io.BytesIO(render_poster_png(make_spec(), dpi=72))).convert("RGB")
    blue = Image.open(io.BytesIO(render_poster_png(make_spec(theme="blue"), dpi=72))).convert("RGB")
    r, g, b = red.getpixel((5, 5))
    assert r > 120 and g < 60 and b < 60
    r, g, b = blue.getpixel((5, 5))
    assert b > 90 and r < 60


def test_long_everything_still_fits_a_scannable_qr() -> None:
    spec = make_spec(
        title="关于召开全市深化“放管服”改革优化营商环境暨数字政府建设推进工作会议" * 4,
        subtitle="第三次全体会议（扩大）" * 6,
        venue="XX市行政中心（市民中心）3号楼二层第一会议室，请从北门进入" * 3,
        organizer="中共XX省委XX市委员会办公室与XX市人民政府办公室联合主办" * 2,
        footer_note="请提前15分钟入场，会议期间请将手机调至静音。" * 10,
        ends_at=datetime(2026, 11, 25, 11, 30, tzinfo=CST),
        extra_lines=(("主持人", "张三"), ("联系人", "李四 0571-12345678")),
    )
    img = Image.open(io.BytesIO(render_poster_png(spec, dpi=150)))
    found = decode(img)
    assert [b.text for b in found] == [PAYLOAD]
    assert symbol_width_mm(found[0], 150) >= 80


def test_wechat_style_transparent_qr_is_flattened_on_white() -> None:
    # WeChat's is_hyaline codes: black modules on a transparent background.
    mask = Image.open(io.BytesIO(qr_png("qrscene_MTG2026A", box_px=10, border=4))).convert("L")
    rgba = Image.new("RGBA", mask.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(mask, lambda v: 255 - v))
    buf = io.BytesIO()
    rgba.save(buf, "PNG")
    img = Image.open(io.BytesIO(render_poster_png(make_spec(qr_png=buf.getvalue()))))
    assert [b.text for b in decode(img)] == ["qrscene_MTG2026A"]


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        make_spec(title="  ")
    with pytest.raises(ValueError):
        make_spec(starts_at=datetime(2026, 11, 23, 9, 0))
    with pytest.raises(ValueError):
        make_spec(theme="green")
    with pytest.raises(ValueError):
        render_poster_png(make_spec(qr_png=b"not an image"))


# --- PDF ---------------------------------------------------------------------------------------


def test_pdf_is_one_a4_page(poster_pdf: bytes) -> None:
    pdf = pdfium.PdfDocument(poster_pdf)
    assert len(pdf) == 1
    w, h = pdf[0].get_size()
    assert w == pytest.approx(595.3, abs=1) and h == pytest.approx(841.9, abs=1)


def test_pdf_carries_chinese_title(poster_pdf: bytes) -> None:
    meta = pdfium.PdfDocument(poster_pdf).get_metadata_dict()
    assert meta["Title"] == TITLE
    assert meta["Author"] == "XX市人民政府办公室"


def test_pdf_rendering_scans(poster_pdf: bytes) -> None:
    page = pdfium.PdfDocument(poster_pdf)[0]
    img = page.render(scale=150 / 72).to_pil()
    found = decode(img)
    assert [b.text for b in found] == [PAYLOAD]
    assert symbol_width_mm(found[0], 150) >= 80


def test_pdf_is_deterministic(poster_pdf: bytes) -> None:
    assert render_poster_pdf(make_spec()) == poster_pdf


def test_wrap_keeps_chinese_punctuation_rules() -> None:
    font = ImageFont.truetype(str(find_cjk_font(False).path), 40, index=find_cjk_font(False).index)
    text = "会议地点：市行政中心（市民中心）三号楼，第一会议室。请准时参加，谢谢！" * 3
    for width in range(200, 900, 37):
        lines = posters._wrap(text, font, width)
        assert "".join(lines) == text.replace(" ", "")
        for line in lines[1:]:
            assert line[0] not in "，。、：）！"
        for line in lines[:-1]:
            assert line[-1] not in "（"
