"""Type by content: the name never decides, and zips that lie about their sizes are refused."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest

from app.services.documents.errors import DocumentError
from app.services.documents.filetypes import detect
from tests.documents.conftest import FIXTURES, make_pdf


def test_types_come_from_content():
    assert detect((FIXTURES / "report.docx").read_bytes()).kind == "docx"
    assert detect((FIXTURES / "slides.pptx").read_bytes()).kind == "pptx"
    assert detect(make_pdf(1)).kind == "pdf"
    assert detect(b"\x89PNG\r\n\x1a\n" + _png_body()).kind == "png"


def _png_body() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buf, "PNG")
    return buf.getvalue()[8:]


@pytest.mark.parametrize("data, code", [
    (b"MZ\x90\x00" + b"\0" * 64, "type_unsupported"),
    (b"\x7fELF\x02\x01\x01" + b"\0" * 64, "type_unsupported"),
    (b"<html><body>not a document</body></html>", "type_unsupported"),
    (b"PK\x03\x04 truncated zip", "file_corrupt"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 truncated ole", "file_corrupt"),
])
def test_refusals(data, code):
    with pytest.raises(DocumentError) as exc:
        detect(data)
    assert exc.value.code == code and exc.value.message


def test_plain_zip_is_not_an_office_file():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("readme.txt", "你好")
    with pytest.raises(DocumentError) as exc:
        detect(buf.getvalue())
    assert exc.value.code == "type_unsupported"


def test_zip_lying_about_its_sizes_is_refused():
    """Declared sizes say 1 KB; the entry really inflates to 64 MB. Nothing trusts the header."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "wordprocessingml.document.main")
        zf.writestr("word/document.xml", b"\0" * (64 << 20))
    data = bytearray(buf.getvalue())
    for signature, offset in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):  # uncompressed-size fields
        start = 0
        while (start := data.find(signature, start)) != -1:
            name_len = struct.unpack_from("<H", data, start + (26 if signature == b"PK\x03\x04" else 28))[0]
            name_at = start + (30 if signature == b"PK\x03\x04" else 46)
            if bytes(data[name_at:name_at + name_len]) == b"word/document.xml":
                struct.pack_into("<I", data, start + offset, 1024)
            start += 4
    with pytest.raises(DocumentError) as exc:
        detect(bytes(data))
    assert exc.value.code in {"zip_bomb", "file_corrupt"}
