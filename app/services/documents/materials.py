"""Meeting documents (会议材料): upload and versions, numbering, who may see what, recall, reading log.

Rules, in one place:
- Organizers with the ``documents`` right (organizers.RIGHTS) upload, recall and always see every
  document and version, recalled or not.
- Attendees are the meeting's *approved* invitees. A document is open to all of them
  (``access = all``) or only to the listed roles/groups (``restricted``). Recall (清退) closes it
  to every attendee for good; the reading log stays.
- Attendees see the newest version whose first page is ready; older versions stay for the record.
- Viewing links carry a sealed token naming the document, the version and the viewer's WeChat
  identity: they cannot be guessed, and a link opened in someone else's session is refused.
- Every page image served and every download is checked afresh and logged in DocumentAccess.
- 保密提醒: an attendee opens nothing until they confirmed the meeting's current terms, when the
  meeting requires it (the gate is app/services/documents/confidentiality.py, asked by open_document).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.services import audit, links, storage
from app.services.documents import confidentiality
from app.services.documents.convert import page_png, schedule_conversion
from app.services.documents.errors import DocumentError
from app.services.documents.filetypes import MIMES, detect, extension
from app.services.documents.readers import Viewer, is_document_organizer, viewer_for
from app.services.documents.watermark import watermarked_page
from app.services.meetings.organizers import require_right
from models import Contact, Document, DocumentAccess, DocumentVersion, InviteeRole, Meeting

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
VIEW_TOKEN_TTL_S = 12 * 3600
VIEWABLE = ("rendering", "ready")
NUMBER_PREFIX = "会-"

__all__ = ["DocumentError", "Viewer", "is_document_organizer", "viewer_for"]


# --- Upload and versions ---------------------------------------------------------------------------

def _max_bytes() -> int:
    return int(current_app.config.get("DOCUMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def _next_number(meeting: Meeting) -> str:
    count = db.session.scalar(select(func.count()).select_from(Document).where(Document.meeting_id == meeting.id))
    n = (count or 0) + 1
    while True:
        number = f"{NUMBER_PREFIX}{n:02d}"
        if not _number_taken(meeting, number):
            return number
        n += 1


def _number_taken(meeting: Meeting, number: str) -> bool:
    return db.session.scalar(
        select(Document.id).where(Document.meeting_id == meeting.id, Document.number == number)
    ) is not None


def _clean_access(access: str, roles: list[str] | tuple[str, ...], groups: list[str] | tuple[str, ...]):
    roles = [r for r in dict.fromkeys(r.strip() for r in roles) if r]
    groups = [g for g in dict.fromkeys(g.strip() for g in groups) if g]
    if access not in {"all", "restricted"}:
        raise DocumentError("access_invalid")
    if access == "all":
        return "all", [], []
    valid_roles = {r.value for r in InviteeRole}
    if not (roles or groups) or any(r not in valid_roles for r in roles):
        raise DocumentError("access_invalid")
    return "restricted", roles, groups


def upload(meeting: Meeting, actor: Contact | None, *, data: bytes, file_name: str, title: str = "",
           number: str = "", access: str = "all", allowed_roles=(), allowed_groups=(),
           allow_download: bool = False, document_id: int | None = None) -> DocumentVersion:
    """Store an upload (a new document, or a new version of document ``document_id``) and queue its
    conversion.

    The type is found from the bytes; refused files never reach storage.
    """
    require_right(meeting, actor, "documents")
    limit = _max_bytes()
    if len(data) > limit:
        raise DocumentError("file_too_large", limit_mb=limit // (1024 * 1024))
    document = get_document(meeting, document_id) if document_id else None
    doc_type = detect(data)
    file_name = (file_name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "文件"
    if document is None:
        title = (title or "").strip() or file_name.rsplit(".", 1)[0].strip()
        if not title:
            raise DocumentError("title_missing")
        access, roles, groups = _clean_access(access, list(allowed_roles), list(allowed_groups))
        number = (number or "").strip()[:32]
        if number and _number_taken(meeting, number):
            raise DocumentError("number_taken", number=number)
        document = Document(meeting_id=meeting.id, number=number or _next_number(meeting), title=title[:200],
                            access=access, allowed_roles=roles, allowed_groups=groups,
                            allow_download=bool(allow_download))
        db.session.add(document)
        db.session.flush()
    sha = storage.put(data)
    last = db.session.scalar(select(func.max(DocumentVersion.version)).where(
        DocumentVersion.document_id == document.id))
    version = DocumentVersion(document_id=document.id, version=(last or 0) + 1, file_name=file_name,
                              mime_type=doc_type.mime, size_bytes=len(data), sha256=sha, status="pending",
                              pages_ready=0, uploaded_by_contact_id=actor.id)
    db.session.add(version)
    db.session.flush()
    audit.record(f"contact:{actor.id}", "document.upload", meeting_id=meeting.id,
                 target=f"document:{document.id}", version=version.version, sha256=sha, kind=doc_type.kind)
    schedule_conversion(version.id, actor=f"contact:{actor.id}", meeting_id=meeting.id)
    return version


def get_document(meeting: Meeting, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.meeting_id != meeting.id:
        raise DocumentError("document_missing")
    return document


def current_version(document: Document) -> DocumentVersion | None:
    """The newest version whose first page is ready: what attendees see."""
    return db.session.scalar(
        select(DocumentVersion).where(DocumentVersion.document_id == document.id,
                                      DocumentVersion.status.in_(VIEWABLE))
        .order_by(DocumentVersion.version.desc()).limit(1)
    )


def organizer_overview(meeting: Meeting, actor: Contact | None, *, secret_key: str,
                       identity_id: int) -> list[dict]:
    """Every document with all its versions, progress and failures, how many people read it, and a
    preview link for the organizer."""
    require_right(meeting, actor, "documents")
    documents = db.session.scalars(
        select(Document).where(Document.meeting_id == meeting.id).order_by(Document.number)
    ).all()
    reads = dict(db.session.execute(
        select(DocumentAccess.document_id, func.count(func.distinct(DocumentAccess.contact_id)))
        .join(Document, Document.id == DocumentAccess.document_id)
        .where(Document.meeting_id == meeting.id).group_by(DocumentAccess.document_id)
    ).all())
    rows = []
    for d in documents:
        current = current_version(d)
        token = view_token(secret_key, d, current, identity_id) if current is not None else None
        rows.append({"document": d, "versions": list(reversed(d.versions)), "current": current,
                     "readers": reads.get(d.id, 0), "token": token})
    return rows


def in_progress(rows: list[dict]) -> bool:
    return any(v.status in {"pending", "converting", "rendering"} for r in rows for v in r["versions"])


# --- Recall ----------------------------------------------------------------------------------------

def recall(meeting: Meeting, actor: Contact | None, document_id: int) -> Document:
    require_right(meeting, actor, "documents")
    document = get_document(meeting, document_id)
    if document.recalled_at is None:
        document.recalled_at = datetime.now(UTC)
        document.recalled_by_contact_id = actor.id
        audit.record(f"contact:{actor.id}", "document.recall", meeting_id=meeting.id,
                     target=f"document:{document.id}")
    db.session.flush()
    return document


def recall_all(meeting: Meeting, actor: Contact | None) -> int:
    """清退 every document of the meeting (at its end); returns how many were newly recalled."""
    require_right(meeting, actor, "documents")
    open_docs = db.session.scalars(
        select(Document).where(Document.meeting_id == meeting.id, Document.recalled_at.is_(None))
    ).all()
    now = datetime.now(UTC)
    for document in open_docs:
        document.recalled_at = now
        document.recalled_by_contact_id = actor.id
    audit.record(f"contact:{actor.id}", "document.recall_all", meeting_id=meeting.id, count=len(open_docs))
    db.session.flush()
    return len(open_docs)


# --- Reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ListedDocument:
    document: Document
    version: DocumentVersion | None
    token: str | None


def view_token(secret_key: str, document: Document, version: DocumentVersion, identity_id: int) -> str:
    return links.seal(secret_key, "doc-view", {"d": document.id, "v": version.id, "i": identity_id})


def _read_token(secret_key: str, token: str, identity_id: int) -> tuple[int, int]:
    try:
        payload = links.unseal(secret_key, "doc-view", token, ttl_s=VIEW_TOKEN_TTL_S)
    except links.LinkError:
        raise DocumentError("link_invalid") from None
    if payload.get("i") != identity_id:
        raise DocumentError("link_not_yours")
    return int(payload["d"]), int(payload["v"])


def visible_documents(meeting: Meeting, contact: Contact | None, *, secret_key: str,
                      identity_id: int) -> list[ListedDocument]:
    """What this visitor may open, each with a link token bound to their session."""
    viewer = viewer_for(meeting, contact)
    documents = db.session.scalars(
        select(Document).where(Document.meeting_id == meeting.id).order_by(Document.number)
    ).all()
    listed = []
    for document in documents:
        if not viewer.may_see(document):
            continue
        version = current_version(document)
        token = view_token(secret_key, document, version, identity_id) if version is not None else None
        listed.append(ListedDocument(document, version, token))
    return listed


@dataclass(frozen=True)
class Opened:
    document: Document
    version: DocumentVersion
    viewer: Viewer
    token: str


def open_document(meeting: Meeting, contact: Contact | None, *, secret_key: str, identity_id: int,
                  token: str) -> Opened:
    """Check a viewing link: bound to this session, still allowed, not recalled, version current."""
    document_id, version_id = _read_token(secret_key, token, identity_id)
    viewer = viewer_for(meeting, contact)
    document = get_document(meeting, document_id)
    if not viewer.may_see(document):
        raise DocumentError("recalled" if viewer.allowed(document) else "doc_forbidden")
    version = db.session.get(DocumentVersion, version_id)
    if version is None or version.document_id != document.id or version.status not in VIEWABLE:
        raise DocumentError("not_ready")
    if not viewer.organizer:
        current = current_version(document)
        if current is None or current.id != version.id:
            raise DocumentError("link_invalid")  # a newer version replaced it: open it from the list
    # Last: a stranger or a recalled document is told so, not shown the terms.
    confidentiality.require_confirmed(meeting, viewer.contact, organizer=viewer.organizer)
    return Opened(document, version, viewer, token)


def _log(opened: Opened, action: str, page: int | None, ip: str | None) -> None:
    db.session.add(DocumentAccess(document_id=opened.document.id, version_id=opened.version.id,
                                  contact_id=opened.viewer.contact.id, action=action, page=page,
                                  at=datetime.now(UTC), extra={"ip": ip} if ip else {}))
    db.session.flush()


def serve_page(meeting: Meeting, contact: Contact | None, *, secret_key: str, identity_id: int, token: str,
               page: int, ip: str | None = None) -> bytes:
    """One page image for this viewer, watermarked with their name; checked and logged every time."""
    opened = open_document(meeting, contact, secret_key=secret_key, identity_id=identity_id, token=token)
    version = opened.version
    if not 1 <= page <= (version.page_count or 0):
        raise DocumentError("page_missing")
    png = watermarked_page(version.pdf_sha256, page, opened.viewer.contact, lambda: page_png(version, page))
    _log(opened, "page", page, ip)
    return png


@dataclass(frozen=True)
class Download:
    data: bytes
    file_name: str
    mime_type: str


def download(meeting: Meeting, contact: Contact | None, *, secret_key: str, identity_id: int, token: str,
             ip: str | None = None) -> Download:
    """The original file, only when the organizer allows downloads (organizers may always)."""
    opened = open_document(meeting, contact, secret_key=secret_key, identity_id=identity_id, token=token)
    if not opened.document.allow_download and not opened.viewer.organizer:
        raise DocumentError("download_disabled")
    version = opened.version
    _log(opened, "download", None, ip)
    name = version.file_name
    kind_ext = extension(detect_kind(version))
    if not name.lower().endswith("." + kind_ext):
        name = f"{name}.{kind_ext}"
    return Download(storage.read_blob(version.sha256), name, version.mime_type)


def detect_kind(version: DocumentVersion) -> str:

    return next((k for k, m in MIMES.items() if m == version.mime_type), "bin")


def access_log(meeting: Meeting, actor: Contact | None, document_id: int) -> tuple[Document, list]:
    """The document and its reading record, newest first: (DocumentAccess, reader's name) pairs."""
    require_right(meeting, actor, "documents")
    document = get_document(meeting, document_id)
    rows = db.session.execute(
        select(DocumentAccess, Contact.name).join(Contact, Contact.id == DocumentAccess.contact_id)
        .where(DocumentAccess.document_id == document.id)
        .order_by(DocumentAccess.at.desc(), DocumentAccess.id.desc()).limit(500)
    ).all()
    return document, [(access, name) for access, name in rows]
