"""The badges PDF read back with real tools: pdfium for its pages and text, zxing-cpp for its QR codes."""

from __future__ import annotations

import io
import zlib

import pypdfium2 as pdfium
import pytest
import zxingcpp
from PIL import Image

from app.services import storage
from app.services.logistics import badges
from app.services.signin import personal_codes as pc
from tests.badges.conftest import LONG_NAME, RARE_NAME, add_person, jpeg
from tests.reports.helpers import pdf_pages, render_png

ROSTER = 12


def _print(scene, **options):
    return badges.print_badges(scene.meeting, badges.parse_options(**options), actor="test")


def _image_count(data: bytes, page: int) -> int:
    doc = pdfium.PdfDocument(data)
    try:
        return sum(1 for obj in doc[page].get_objects() if obj.type == pdfium.raw.FPDF_PAGEOBJ_IMAGE)
    finally:
        doc.close()


@pytest.mark.parametrize(("size", "per_sheet"), [("small", 10), ("large", 2)])
def test_every_person_has_a_card_on_a4_sheets(db, scene, size, per_sheet):
    printed = _print(scene, size=size)
    pages = pdf_pages(printed.data)
    assert printed.count == ROSTER and printed.pages == len(pages) == -(-ROSTER // per_sheet)
    doc = pdfium.PdfDocument(printed.data)
    width, height = doc[0].get_size()
    doc.close()
    a4 = sorted((round(width / 72 * 25.4), round(height / 72 * 25.4)))
    assert a4 == [210, 297]
    text = "\n".join(pages)
    for contact in scene.people.values():
        assert text.count(contact.name) == 1, contact.name
    assert pages[0].count(scene.meeting.title) == min(per_sheet, ROSTER)
    render_png(printed.data, f"badges-{size}-page1.png", scale=1.5)


def test_cjk_names_are_text_long_and_rare_ones_too(db, scene, factory):
    add_person(factory, scene, "kun", "王堃", role="列席")  # 堃 is beyond GB2312: the bold face lacks it
    text = "\n".join(pdf_pages(_print(scene).data))
    for name in (LONG_NAME, RARE_NAME, "市长张", "记者刘", "王堃"):
        assert name in text
    for words in ("代 表", "列 席", "媒 体", "工作人员", "新疆代表团", "区委办公室", "处长"):
        assert words in text
    assert b"/FontFile2" in _print(scene).data  # embedded TrueType, not pictures of text


def test_the_qr_on_each_card_is_the_persons_door_code(db, scene):
    printed = _print(scene, group="第一代表团")  # three cards on one sheet
    pc.revoke(scene.meeting, scene.people["rare"], reason="重印胸卡", actor=scene.console.owner)  # a new generation
    printed = _print(scene, group="第一代表团")
    doc = pdfium.PdfDocument(printed.data)
    try:
        image = doc[0].render(scale=300 / 72).to_pil()
    finally:
        doc.close()
    found = {r.text for r in zxingcpp.read_barcodes(image.convert("L"))}
    people = [scene.people[k] for k in ("rare", "photo", "broken")]
    codes = pc.personal_codes_of(scene.meeting, [p.id for p in people])
    assert found == set(codes.values())
    assert codes[scene.people["rare"].id] == pc.personal_code(scene.meeting, scene.people["rare"])
    for code in found:  # each one lets its person in at the desk
        data = pc.check_code(code, scene.meeting, at=scene.meeting.starts_at, revoked=pc.revoked_pairs(scene.meeting.id))
        assert data.contact_id in {p.id for p in people}


def test_a_large_card_qr_reads_at_print_resolution_too(db, scene):
    printed = _print(scene, size="large", role="领导")
    doc = pdfium.PdfDocument(printed.data)
    image = doc[0].render(scale=200 / 72).to_pil()
    doc.close()
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [pc.personal_code(scene.meeting, scene.people["leader"])]


def test_bad_photos_are_left_off_with_a_note_and_the_good_one_printed(db, scene):
    printed = _print(scene, group="第一代表团")
    notes = {n["name"]: n["code"] for n in printed.notes}
    assert notes == {"坏照片": "photo_unreadable"}
    assert _image_count(printed.data, 0) == 1  # the good photo, once
    kept = storage.get_storage()
    assert kept.read_derived(storage.put(jpeg()), "badge-240x320.jpg") is not None  # scaled once, kept
    broken_key = storage.put(b"\xff\xd8\xff\xe0not a jpeg")
    assert kept.read_derived(broken_key, "badge-240x320.jpg") is None
    assert {n["name"] for n in _print(scene, group="第一代表团").notes} == {"坏照片"}  # and again from the kept one
    gone = _print(scene, role="列席")
    assert [n["code"] for n in gone.notes] == ["photo_missing"] and gone.count == 1


def _png_header_bomb() -> bytes:
    """A tiny PNG that claims 60,000 × 60,000 pixels."""
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = (60000).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


def _png_too_many_pixels() -> bytes:
    """Under Pillow's own bomb limit, over the badges' (PHOTO_MAX_PIXELS)."""
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[16:24] = (7000).to_bytes(4, "big") * 2
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")
    return bytes(data)


@pytest.mark.parametrize(("make", "code"), [
    (lambda: jpeg()[:200], "photo_unreadable"),  # truncated
    (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>", "photo_unreadable"),
    (lambda: b"%PDF-1.4\n%%EOF", "photo_unreadable"),
    (lambda: b"", "photo_unreadable"),
    (_png_header_bomb, "photo_too_large"),
    (_png_too_many_pixels, "photo_too_large"),
    (lambda: b"\xff\xd8" + b"\x00" * (badges.PHOTO_MAX_BYTES + 1), "photo_too_large"),
])
def test_hostile_photo_files_never_break_the_print(db, scene, factory, make, code):
    key = storage.put(make())
    add_person(factory, scene, "hostile", "恶意照片", role="媒体", photo=key)
    printed = _print(scene, role="媒体")
    assert printed.count == 2
    assert [(n["name"], n["code"]) for n in printed.notes] == [("恶意照片", code)]
    assert "恶意照片" in "\n".join(pdf_pages(printed.data))


def test_a_wide_or_rotated_photo_is_cropped_to_the_frame(db, scene, factory):
    add_person(factory, scene, "wide", "宽照片", role="媒体", photo=storage.put(jpeg(1600, 300)))
    printed = _print(scene, role="媒体", size="large")
    assert printed.notes == [] and _image_count(printed.data, 0) == 1


def test_filters_combine_and_follow_the_roster_order(db, scene):
    assert _print(scene, role="代表", group="第一代表团").count == 3
    chosen = [scene.people["media"].id, scene.people["leader"].id]
    text = pdf_pages(_print(scene, people=chosen).data)[0]
    assert text.index("市长张") < text.index("记者刘")  # leaders first, whatever the order chosen


def test_colours_follow_the_table(db, scene):
    red = _print(scene, role="领导").data
    green = _print(scene, role="领导", colours={"领导": "#00ff00"}).data
    image = Image.open(render_png(green, "badges-colour.png", scale=1)).convert("RGB")
    assert (0, 255, 0) in {image.getpixel((x, y)) for x in range(0, image.width, 4) for y in range(0, image.height, 4)}
    assert red != green


def test_a_photo_taken_sideways_is_turned_upright():
    img = Image.new("RGB", (800, 600), (220, 20, 20))
    img.paste((20, 20, 220), (400, 0, 800, 600))  # left red, right blue
    exif = Image.Exif()
    exif[badges.ORIENTATION] = 6  # "turn 90° clockwise to show": the left edge becomes the top
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    jpeg_bytes, note = badges.load_photo({"k": out.getvalue()}.__getitem__, "k", (300, 400))
    assert note is None
    shown = Image.open(io.BytesIO(jpeg_bytes))
    assert shown.size == (300, 400)
    top, bottom = shown.getpixel((150, 20)), shown.getpixel((150, 380))
    assert top[0] > 150 > top[2] and bottom[2] > 150 > bottom[0]
