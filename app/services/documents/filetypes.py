"""What an uploaded file really is, told by its content (never by its name), and whether it is safe
to hand to LibreOffice at all.

- PDF (``%PDF-``), images (PNG, JPEG), OLE2 compound files (doc/xls/ppt, told apart by their
  directory streams), OOXML zips (docx/pptx/xlsx, told apart by ``[Content_Types].xml``).
- Zips are checked for bombs before anything parses their content: entry count, declared total
  size and ratio from the central directory, then the real decompressed size by streaming every
  entry against a budget (declared sizes can lie).
- Password-protected files are refused here: OOXML with a password is an OLE2 file holding an
  ``EncryptedPackage`` stream; a PDF with a user password cannot be opened by pdfium.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass

from app.services.documents.errors import DocumentError
from app.services.documents.pdf import open_pdf

MAX_ZIP_ENTRIES = 10_000
MAX_ZIP_UNCOMPRESSED = 300 * 1024 * 1024
MAX_ZIP_RATIO = 200  # per large entry; real documents compress XML about 5-20x
RATIO_FLOOR = 1024 * 1024  # small entries may compress very well (runs of spaces)
MAX_IMAGE_PIXELS = 60_000_000

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class DocType:
    kind: str  # pdf, docx, pptx, xlsx, doc, ppt, xls, png, jpeg
    mime: str

    @property
    def is_office(self) -> bool:
        return self.kind in {"docx", "pptx", "xlsx", "doc", "ppt", "xls"}

    @property
    def is_image(self) -> bool:
        return self.kind in {"png", "jpeg"}


MIMES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "ppt": "application/vnd.ms-powerpoint",
    "xls": "application/vnd.ms-excel",
    "png": "image/png",
    "jpeg": "image/jpeg",
}
EXTENSIONS = {"jpeg": "jpg"}


def extension(kind: str) -> str:
    return EXTENSIONS.get(kind, kind)


def _typed(kind: str) -> DocType:
    return DocType(kind, MIMES[kind])


def detect(data: bytes) -> DocType:
    """The document type of ``data``, or :class:`DocumentError` saying why it is refused."""
    if not data:
        raise DocumentError("file_empty")
    head = data[:1024]
    if b"%PDF-" in head:
        _check_pdf_password(data)
        return _typed("pdf")
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(data)
        return _typed("png")
    if data.startswith(b"\xff\xd8\xff"):
        _check_image(data)
        return _typed("jpeg")
    if data.startswith(OLE_MAGIC):
        return _typed(_ole_kind(data))
    if data.startswith(b"PK\x03\x04"):
        return _typed(_ooxml_kind(data))
    if data.startswith(b"MZ"):
        raise DocumentError("type_unsupported", detail="（文件内容是可执行程序）")
    if data.startswith(b"\x7fELF") or data.startswith(b"#!"):
        raise DocumentError("type_unsupported", detail="（文件内容是程序或脚本）")
    raise DocumentError("type_unsupported", detail="")


# --- OLE2 (doc / xls / ppt, or a password-protected OOXML) ---------------------------------------

def _ole_kind(data: bytes) -> str:
    import olefile

    try:
        ole = olefile.OleFileIO(io.BytesIO(data))
    except Exception:  # olefile raises a zoo of errors on malformed directories
        raise DocumentError("file_corrupt") from None
    try:
        streams = {"/".join(entry) for entry in ole.listdir(streams=True, storages=False)}
    finally:
        ole.close()
    if "EncryptedPackage" in streams or "EncryptionInfo" in streams:
        raise DocumentError("file_encrypted")
    if "WordDocument" in streams:
        return "doc"
    if "Workbook" in streams or "Book" in streams:
        return "xls"
    if "PowerPoint Document" in streams:
        return "ppt"
    raise DocumentError("type_unsupported", detail="（不是 Word、Excel 或 PowerPoint 文件）")


# --- OOXML zips ------------------------------------------------------------------------------------

_MAIN_TYPES = (
    ("wordprocessingml.document.main", "docx"),
    ("wordprocessingml.template.main", "docx"),
    ("presentationml.presentation.main", "pptx"),
    ("presentationml.slideshow.main", "pptx"),
    ("presentationml.template.main", "pptx"),
    ("spreadsheetml.sheet.main", "xlsx"),
    ("spreadsheetml.template.main", "xlsx"),
)


def check_zip(data: bytes) -> zipfile.ZipFile:
    """Open a zip only as far as its central directory and refuse bombs before any content is read."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise DocumentError("file_corrupt") from None
    if len(infos) > MAX_ZIP_ENTRIES:
        raise DocumentError("zip_bomb")
    declared = 0
    for info in infos:
        declared += info.file_size
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise DocumentError("zip_bomb")
    if declared > MAX_ZIP_UNCOMPRESSED:
        raise DocumentError("zip_bomb")
    # Declared sizes are written by whoever made the file: stream every entry against the budget.
    budget = MAX_ZIP_UNCOMPRESSED
    try:
        for info in infos:
            with zf.open(info) as member:
                while chunk := member.read(1 << 20):
                    budget -= len(chunk)
                    if budget < 0:
                        raise DocumentError("zip_bomb")
    except DocumentError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, RuntimeError):
        # RuntimeError: a member encrypted with the old zip password scheme.
        raise DocumentError("file_corrupt") from None
    return zf


def _ooxml_kind(data: bytes) -> str:
    zf = check_zip(data)
    try:
        content_types = zf.read("[Content_Types].xml")[:1_000_000].decode("utf-8", "replace")
    except KeyError:
        raise DocumentError("type_unsupported", detail="（压缩包不是 Office 文档）") from None
    for marker, kind in _MAIN_TYPES:
        if re.search(re.escape(marker), content_types):
            return kind
    raise DocumentError("type_unsupported", detail="（压缩包不是 Office 文档）")


# --- PDF and images --------------------------------------------------------------------------------

def _check_pdf_password(data: bytes) -> None:
    """Refuse a PDF that needs a password to open. Owner-password-only PDFs open fine and pass."""
    if b"/Encrypt" not in data:
        return

    try:
        pdf = open_pdf(data)
    except DocumentError as exc:
        if exc.code == "pdf_encrypted":
            raise DocumentError("file_encrypted") from None
        return  # broken PDFs fail in conversion, with their own message
    pdf.close()


def _check_image(data: bytes) -> None:
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            width, height = img.size
    except Exception:
        raise DocumentError("file_corrupt") from None
    if width * height > MAX_IMAGE_PIXELS:
        raise DocumentError("image_too_large")
