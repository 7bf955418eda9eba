"""A file a registration carries (the badge photo, a custom 附件 field): checked by its content,
never by its name (app/services/documents/filetypes.py), and stored only once the whole submission
passed (content-addressed storage, so the same file twice is stored once)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from app.services import storage
from app.services.documents import filetypes
from app.services.documents.errors import DocumentError
from app.services.registration.errors import FieldError

#: What each file kind accepts, by detected content, and how large.
PHOTO_KINDS = ("jpeg", "png")
FILE_KINDS = ("pdf", "docx", "doc", "xlsx", "xls", "jpeg", "png")
MAX_BYTES = {"photo": 5 * 1024 * 1024, "file": 10 * 1024 * 1024}
#: Extensions people's files carry for each detected kind.
_EXTENSIONS = {"jpeg": {"jpg", "jpeg", "jpe", "jfif"}, "png": {"png"}, "pdf": {"pdf"}, "docx": {"docx"},
               "doc": {"doc"}, "xlsx": {"xlsx"}, "xls": {"xls"}}
KIND_NAMES = {"photo": "JPG、PNG 图片", "file": "PDF、Word、Excel 或 JPG、PNG 图片"}


@dataclass(frozen=True)
class Upload:
    """A file as it arrived: its name (only to compare with the content) and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True)
class Checked:
    """A file that passed: its bytes and detected kind; stored by :func:`store` after the batch."""

    data: bytes
    kind: str


def check(upload: Upload, field_kind: str, label: str) -> Checked:
    """The upload if its content is a kind ``field_kind`` (``photo`` or ``file``) accepts.

    :raise FieldError: ``file_empty``, ``file_too_large``, ``file_type_invalid``,
        ``file_extension_mismatch`` (a PDF named .jpg), ``file_corrupt``.
    """
    data = upload.data
    if not data:
        raise FieldError("file_empty", label=label)
    limit = MAX_BYTES[field_kind]
    if len(data) > limit:
        raise FieldError("file_too_large", label=label, max_mb=limit // (1024 * 1024))
    try:
        kind = filetypes.detect(data).kind
    except DocumentError as exc:
        if exc.code in ("file_corrupt", "image_too_large"):
            raise FieldError("file_corrupt", label=label) from None
        raise FieldError("file_type_invalid", label=label, kinds=KIND_NAMES[field_kind]) from None
    allowed = PHOTO_KINDS if field_kind == "photo" else FILE_KINDS
    if kind not in allowed:
        raise FieldError("file_type_invalid", label=label, kinds=KIND_NAMES[field_kind])
    suffix = PurePosixPath((upload.filename or "").replace("\\", "/")).suffix.lower().lstrip(".")
    if suffix and suffix not in _EXTENSIONS.get(kind, {kind}):
        raise FieldError("file_extension_mismatch", label=label, actual=filetypes.extension(kind).upper())
    return Checked(data, kind)


def stored(key: str, field_kind: str, label: str) -> Checked:
    """A file uploaded before (the mini program uploads first, then submits its key): checked again
    from what storage holds, so a key names only a file of the right kind."""
    key = (key or "").strip().lower()
    try:
        found = storage.get_storage().exists(key)
    except ValueError:  # not a SHA-256 hex digest: never a path
        found = False
    if not found:
        raise FieldError("file_missing", label=label)
    return check(Upload("", storage.get_storage().read(key)), field_kind, label)


def store(checked: Checked) -> str:
    """Keep the file; its storage key (SHA-256 hex)."""
    return storage.put(checked.data)
