"""Real conversions of LibreOffice-made fixtures, hostile uploads, and the watermark."""

from __future__ import annotations

import io
import subprocess
import time
import zipfile

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageChops

from app.extensions import db as _db
from app.services import storage
from app.services.documents import materials as documents
from app.services.documents.convert import convert_version, office_to_pdf, page_png, process_version
from app.services.documents.errors import DocumentError
from models import DocumentVersion
from tests.documents.conftest import FIXTURES, make_pdf


def _upload(world, data: bytes, file_name: str, **kw) -> DocumentVersion:
    return documents.upload(world.meeting, world.people["organizer"].contact, data=data, file_name=file_name, **kw)


def _pdf_text(version: DocumentVersion) -> list[str]:
    pdf = pdfium.PdfDocument(storage.read_blob(version.pdf_sha256))
    try:
        return [pdf[i].get_textpage().get_text_range() for i in range(len(pdf))]
    finally:
        pdf.close()


def _ink(png: bytes) -> int:
    """How many pixels are not white: a blank (or tofu-free but empty) page has none."""
    gray = Image.open(io.BytesIO(png)).convert("L")
    return sum(gray.point(lambda v: 255 if v < 200 else 0).histogram()[255:])


@pytest.mark.slow
def test_docx_with_chinese_converts_and_renders(world, db):
    version = _upload(world, (FIXTURES / "report.docx").read_bytes(), "工作报告.docx")
    assert version.mime_type.endswith("wordprocessingml.document")
    process_version(version.id)
    assert (version.status, version.page_count, version.pages_ready, version.error_code) == ("ready", 2, 2, None)
    text = _pdf_text(version)
    assert "重点项目推进工作的报告" in text[0].replace(" ", "") and "稳中求进" in text[0]
    assert "存在问题" in text[1]
    first = page_png(version, 1)
    image = Image.open(io.BytesIO(first))
    assert image.width == 1080 and image.height > 1400  # A4 portrait at phone width
    assert _ink(first) > 2000
    (FIXTURES.parents[2] / "test-artifacts").mkdir(exist_ok=True)
    (FIXTURES.parents[2] / "test-artifacts" / "documents-docx-page1.png").write_bytes(first)


@pytest.mark.slow
def test_pptx_with_chinese_converts_and_renders(world, db):
    version = _upload(world, (FIXTURES / "slides.pptx").read_bytes(), "会议幻灯片.pptx")
    process_version(version.id)
    assert (version.status, version.page_count, version.pages_ready) == ("ready", 3, 3)
    text = _pdf_text(version)
    assert "全区经济工作会议" in text[0] and "传达学习上级会议精神" in text[0]
    assert "第3部分" in text[2].replace(" ", "")
    png = page_png(version, 1)
    assert Image.open(io.BytesIO(png)).width == 1080 and _ink(png) > 2000
    (FIXTURES.parents[2] / "test-artifacts" / "documents-pptx-page1.png").write_bytes(png)


def _zip_bomb() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types><Override PartName="/word/document.xml" '
                    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                    "</Types>")
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = b"\0" * (1 << 20)
            for _ in range(400):  # 400 MB of zeros, about 400 KB compressed
                member.write(chunk)
    return buf.getvalue()


def _refused(world, data: bytes, name: str) -> DocumentError:
    with pytest.raises(DocumentError) as exc:
        _upload(world, data, name)
    return exc.value


def test_hostile_uploads_are_refused_or_fail_cleanly_and_conversion_still_works(world, db):
    exe = _refused(world, b"MZ\x90\x00\x03" + b"\0" * 200 + b"This program cannot be run in DOS mode", "议程.pdf")
    assert exe.code == "type_unsupported" and exe.status == 415 and "可执行程序" in exe.message

    bomb = _zip_bomb()
    assert len(bomb) < 2_000_000
    refused = _refused(world, bomb, "报告.docx")
    assert refused.code == "zip_bomb" and "压缩" in refused.message

    from msoffcrypto.format.ooxml import OOXMLFile

    locked = io.BytesIO()
    OOXMLFile(io.BytesIO((FIXTURES / "report.docx").read_bytes())).encrypt("secret", locked)
    assert _refused(world, locked.getvalue(), "加密.docx").code == "file_encrypted"
    locked_pdf = _refused(world, (FIXTURES / "password-secret.pdf").read_bytes(), "加密.pdf")
    assert locked_pdf.code == "file_encrypted" and "密码" in locked_pdf.message

    too_big = _refused(world, b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024), "大.pdf")
    assert too_big.code == "file_too_large" and too_big.status == 413
    assert _refused(world, b"", "空.pdf").code == "file_empty"
    assert not db.session.query(DocumentVersion).count()  # nothing refused was recorded

    # Accepted at upload, failed in conversion with a stable code and a Chinese message.
    huge = _upload(world, make_pdf(5000), "五千页.pdf")
    broken = _upload(world, b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<<>>\n" + b"\x00garbage" * 50,
                     "坏.pdf")
    fake_docx = io.BytesIO()
    with zipfile.ZipFile(fake_docx, "w") as zf:
        zf.writestr("[Content_Types].xml", '<Types><Override ContentType="application/vnd.openxmlformats-'
                    'officedocument.wordprocessingml.document.main+xml"/></Types>')
        zf.writestr("word/document.xml", b"\xff\xfe not xml at all <<<")
    garbage = _upload(world, fake_docx.getvalue(), "乱码.docx")
    for version in (huge, broken, garbage):
        convert_version(version.id)  # must not raise
    assert (huge.status, huge.error_code) == ("failed", "too_many_pages")
    assert huge.error_message == "文件页数过多（5000 页），预览最多支持 1000 页"
    assert (broken.status, broken.error_code) == ("failed", "pdf_broken") and "损坏" in broken.error_message
    assert garbage.status == "failed" and garbage.error_code in {"convert_failed", "pdf_broken", "pdf_empty"}
    assert garbage.error_message

    # The organizer sees why.
    rows = documents.organizer_overview(world.meeting, world.people["organizer"].contact, secret_key="k",
                                        identity_id=1)
    failed = {v.error_code for r in rows for v in r["versions"]}
    assert {"too_many_pages", "pdf_broken"} <= failed

    # And the same functions still convert a good file afterwards.
    good = _upload(world, (FIXTURES / "slides.pptx").read_bytes(), "幻灯片.pptx")
    process_version(good.id)
    assert good.status == "ready" and good.page_count == 3


def test_libreoffice_is_killed_on_timeout(monkeypatch):
    """The conversion's whole process group is gone after a timeout. Only its own group is checked:
    other test runs on this machine may be converting at the same time."""
    from app.services.documents import convert

    started = []

    class Recorded(subprocess.Popen):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            started.append(self.pid)

    monkeypatch.setattr(convert.subprocess, "Popen", Recorded)
    with pytest.raises(DocumentError) as exc:
        office_to_pdf((FIXTURES / "slides.pptx").read_bytes(), "pptx", timeout_s=0.3)
    assert exc.value.code == "convert_timeout" and "超时" in exc.value.message
    assert len(started) == 1
    deadline = time.monotonic() + 2  # SIGKILL is final, but a process takes a moment to go
    while (alive := _running_in_group(started[0])) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert alive == []


def _running_in_group(pgid: int) -> list[str]:
    """Processes of the group that still run (a killed child re-parented to a container's init may
    stay a zombie: it runs nothing)."""
    out = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.split() and not line.split()[1].startswith("Z")]


def test_images_become_one_page(world, db):
    buf = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 60, 160)).save(buf, "JPEG")
    version = _upload(world, buf.getvalue(), "现场照片.jpg")
    assert version.mime_type == "image/jpeg"
    process_version(version.id)
    assert (version.status, version.page_count) == ("ready", 1)


def test_watermark_is_drawn_per_viewer(app, client, world, db, terms_confirmed):
    from tests.documents.conftest import login, upload_pdf

    version = upload_pdf(world, pages=1, title="带水印的材料")
    plain = Image.open(io.BytesIO(page_png(version, 1))).convert("RGB")
    served = {}
    for who in ("leader", "delegate"):
        login(client, world.people[who].identity)
        token = documents.view_token(app.config["SECRET_KEY"], _db.session.get(documents.Document, version.document_id),
                                     version, world.people[who].identity.id)
        resp = client.get(f"/m/{world.meeting.code}/documents/{token}/pages/1.png")
        assert resp.status_code == 200
        served[who] = Image.open(io.BytesIO(resp.data)).convert("RGB")
    for image in served.values():
        assert image.size == plain.size
        diff = ImageChops.difference(image, plain).convert("L").point(lambda v: 255 if v > 8 else 0)
        marked = diff.histogram()[255]
        assert marked > image.width * image.height * 0.01  # the text covers the page, not a corner
        r, g, b = image.getpixel(_first_marked(diff))
        assert r > g and r > b  # deep red ink, semi-transparent over white
    assert ImageChops.difference(served["leader"], served["delegate"]).getbbox() is not None
    (FIXTURES.parents[2] / "test-artifacts").mkdir(exist_ok=True)
    served["leader"].save(FIXTURES.parents[2] / "test-artifacts" / "documents-watermark-leader.png")


def _first_marked(diff: Image.Image) -> tuple[int, int]:
    bbox = diff.getbbox()
    for y in range(bbox[1], bbox[3]):
        for x in range(bbox[0], bbox[2]):
            if diff.getpixel((x, y)):
                return x, y
    raise AssertionError("no marked pixel")


def test_upload_and_conversion_through_the_job_queue(app, world, db, monkeypatch):
    from app import jobs

    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", True)
    version = _upload(world, make_pdf(45), "四十五页.pdf")
    db.session.commit()  # jobs are queued after commit
    assert jobs.run_pending(app)
    db.session.expire_all()
    version = db.session.get(DocumentVersion, version.id)
    assert (version.status, version.page_count, version.pages_ready) == ("ready", 45, 45)
