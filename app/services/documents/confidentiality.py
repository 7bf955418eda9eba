"""保密提醒: the confidentiality terms of a meeting's documents, and the gate before they open.

Rules, in one place:
- A meeting has one text, versioned: until an organizer edits it, the default below is version 1;
  every change of the text is a new version, and a confirmation counts for its version only.
  Turning the gate on or off is not a new version (nobody read anything new).
- The gate is on by default: every document here is recallable (清退, materials.recall), which is
  what the terms are about, and with no documents there is nothing for it to hold back. An
  organizer may turn it off for the meeting.
- While it is on, an attendee opens no document (viewer, page image, download; H5 and mini program
  alike, through materials.open_document) until they have confirmed the current version. The list
  still shows titles. Organizers (the ``documents`` right) are never gated: they preview.
- A confirmation names the version the person was shown; a stale one is refused
  (``confidentiality_stale``), so nobody confirms words they did not see. Confirming twice is one
  confirmation.
- The first confirmation freezes the default text as the meeting's version 1, so a later change of
  the default in code never changes what people already confirmed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import audit
from app.services.documents import readers
from app.services.errors import DomainError
from app.services.meetings.organizers import require_right
from models import (
    ConfidentialityConfirmation,
    ConfidentialityTerms,
    Contact,
    Invitee,
    Meeting,
    Unit,
)

MAX_TEXT = 2000
CHANNELS = ("h5", "mp")
DEFAULT_TEXT = (
    "本次会议材料仅供参会人员本人阅读，请遵守以下保密要求：\n"
    "一、不得拍照、截屏、录屏或复制会议材料；\n"
    "二、不得以微信、短信、邮件等任何方式转发、传播会议材料或其内容；\n"
    "三、不得将纸质材料带离会场，不得在非涉密设备上存储、处理会议材料；\n"
    "四、会议结束时按会务组要求清退全部材料，电子材料清退后将无法再查看；\n"
    "五、材料查看记录均已登记并附有本人水印，如有泄露将依规追究责任。"
)


class ConfidentialityError(DomainError):
    messages = {
        "confidentiality_unconfirmed": "查看会议材料前，请先阅读保密提醒并点击“我已阅读并遵守”",
        "confidentiality_stale": "保密提醒已更新为第 {version} 版，请阅读新的内容后再确认",
        "confidentiality_edited": "保密提醒刚被他人修改为第 {version} 版，请刷新后再编辑",
        "terms_empty": "请填写保密提醒的内容",
        "terms_too_long": "保密提醒不能超过 {limit} 个字（现有 {length} 个字）",
        "version_invalid": "保密提醒的版本号无效，请刷新后重试",
        "channel_invalid": "确认方式无效",
    }
    statuses = {
        "confidentiality_unconfirmed": 403,
        "confidentiality_stale": 409,
        "confidentiality_edited": 409,
        "version_invalid": 422,
        "terms_too_long": 422,
        "terms_empty": 422,
    }


@dataclass(frozen=True)
class Terms:
    text: str
    version: int
    required: bool
    #: False while the meeting uses the default text (no organizer has saved terms).
    written: bool
    updated_at: datetime | None = None


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _row(meeting: Meeting, *, lock: bool = False) -> ConfidentialityTerms | None:
    query = select(ConfidentialityTerms).where(ConfidentialityTerms.meeting_id == meeting.id)
    return db.session.scalar(query.with_for_update() if lock else query)


def terms_of(meeting: Meeting) -> Terms:
    """The meeting's current terms (the default, version 1, until an organizer writes them)."""
    row = _row(meeting)
    if row is None:
        return Terms(DEFAULT_TEXT, 1, True, False)
    return Terms(row.text, row.version, row.required, True, row.updated_at)


def _frozen_row(meeting: Meeting) -> ConfidentialityTerms:
    """The meeting's terms row, locked; written from the default (version 1) if there is none yet.
    Two first writers at once: the loser's insert fails on the primary key and it reads the winner's."""
    row = _row(meeting, lock=True)
    if row is not None:
        return row
    try:
        with db.session.begin_nested():
            db.session.add(ConfidentialityTerms(meeting_id=meeting.id, text=DEFAULT_TEXT, version=1, required=True,
                                                text_sha256=_sha(DEFAULT_TEXT), updated_at=datetime.now(UTC)))
    except IntegrityError:
        pass
    return _row(meeting, lock=True)


def clean_text(text: str) -> str:
    """The text as stored: line ends unified, blank lines at the ends dropped.

    :raise ConfidentialityError: ``terms_empty``, ``terms_too_long``.
    """
    text = "\n".join(line.rstrip() for line in str(text or "").replace("\r\n", "\n").replace("\r", "\n")
                     .split("\n")).strip()
    if not text:
        raise ConfidentialityError("terms_empty")
    if len(text) > MAX_TEXT:
        raise ConfidentialityError("terms_too_long", limit=MAX_TEXT, length=len(text))
    return text


def set_terms(meeting: Meeting, actor: Contact | None, *, text: str, required: bool,
              expected_version: int | None = None) -> Terms:
    """Save the organizer's text and switch. A changed text is a new version (everyone confirms
    again before their next document); the same text keeps its version.

    ``expected_version``: the version the organizer's form showed; if someone saved another since,
    ``confidentiality_edited`` (409) rather than silently replacing their words.

    :raise OrganizerError: without the ``documents`` right. :raise ConfidentialityError:
        ``terms_empty``, ``terms_too_long``, ``confidentiality_edited``.
    """
    require_right(meeting, actor, "documents")
    text = clean_text(text)
    row = _frozen_row(meeting)
    if expected_version is not None and expected_version != row.version:
        raise ConfidentialityError("confidentiality_edited", version=row.version)
    changed = _sha(text) != row.text_sha256
    if changed:
        row.version += 1
        row.text, row.text_sha256 = text, _sha(text)
    before = row.required
    row.required = bool(required)
    row.updated_at = datetime.now(UTC)
    row.updated_by_contact_id = actor.id
    db.session.flush()
    audit.record(f"contact:{actor.id}", "confidentiality.set", meeting_id=meeting.id,
                 version=row.version, text_changed=changed, required=row.required,
                 required_before=before, sha256=row.text_sha256)
    return Terms(row.text, row.version, row.required, True, row.updated_at)


def confirmation_of(meeting: Meeting, contact: Contact | None, version: int) -> ConfidentialityConfirmation | None:
    """``contact``'s confirmation of ``version``, if they gave one."""
    if contact is None:
        return None
    return db.session.scalar(select(ConfidentialityConfirmation).where(
        ConfidentialityConfirmation.meeting_id == meeting.id, ConfidentialityConfirmation.contact_id == contact.id,
        ConfidentialityConfirmation.version == version))


def reader_of(meeting: Meeting, contact: Contact | None) -> None:
    """Only those who may read the meeting's documents see and confirm its terms.

    :raise DocumentError: ``not_invited``.
    """
    readers.viewer_for(meeting, contact)


def is_confirmed(meeting: Meeting, contact: Contact | None) -> bool:
    """Has ``contact`` confirmed the meeting's current version?"""
    return confirmation_of(meeting, contact, terms_of(meeting).version) is not None


def pending(meeting: Meeting, contact: Contact | None, *, organizer: bool | None = None) -> Terms | None:
    """The terms ``contact`` must confirm before a document opens, or None when nothing stands in
    the way. The one rule of the gate: organizers pass; otherwise required and not yet confirmed.

    ``organizer``: whether ``contact`` has the ``documents`` right, when the caller knows already."""
    if organizer is None:
        organizer = contact is not None and readers.is_document_organizer(meeting, contact)
    if organizer:
        return None
    terms = terms_of(meeting)
    if not terms.required or confirmation_of(meeting, contact, terms.version) is not None:
        return None
    return terms


def require_confirmed(meeting: Meeting, contact: Contact | None, *, organizer: bool | None = None) -> None:
    """The gate, called by materials.open_document for every viewer, page and download.

    :raise ConfidentialityError: ``confidentiality_unconfirmed`` (403).
    """
    terms = pending(meeting, contact, organizer=organizer)
    if terms is not None:
        raise ConfidentialityError("confidentiality_unconfirmed", version=terms.version)


def confirm(meeting: Meeting, contact: Contact | None, version: int, channel: str) -> ConfidentialityConfirmation:
    """Record that ``contact`` read and accepts version ``version`` (the one they were shown) of the
    terms. Idempotent: confirming again returns the first confirmation.

    :raise DocumentError: ``not_invited`` (only those who may read the documents confirm).
    :raise ConfidentialityError: ``channel_invalid``, ``version_invalid``, ``confidentiality_stale``.
    """
    if channel not in CHANNELS:
        raise ConfidentialityError("channel_invalid")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ConfidentialityError("version_invalid")
    reader_of(meeting, contact)
    current = terms_of(meeting)
    if version > current.version:
        raise ConfidentialityError("version_invalid")
    if version < current.version:
        raise ConfidentialityError("confidentiality_stale", version=current.version)
    existing = confirmation_of(meeting, contact, version)
    if existing is not None:
        return existing
    row = _frozen_row(meeting) if not current.written else _row(meeting)
    if row.version != version:  # edited between our two reads
        raise ConfidentialityError("confidentiality_stale", version=row.version)
    try:
        with db.session.begin_nested():
            confirmation = ConfidentialityConfirmation(
                meeting_id=meeting.id, contact_id=contact.id, version=version, text_sha256=row.text_sha256,
                channel=channel, confirmed_at=datetime.now(UTC))
            db.session.add(confirmation)
    except IntegrityError:  # the same person's other tap, a moment earlier
        return confirmation_of(meeting, contact, version)
    audit.record(f"contact:{contact.id}", "confidentiality.confirm", meeting_id=meeting.id,
                 target=f"contact:{contact.id}", version=version, channel=channel, sha256=row.text_sha256)
    return confirmation


# --- The organizer's view ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Reader:
    contact: Contact
    unit_name: str
    role: str
    #: Their confirmation of the current version, or None.
    confirmation: ConfidentialityConfirmation | None
    #: The newest older version they confirmed (they must confirm again), or None.
    earlier_version: int | None


@dataclass(frozen=True)
class Overview:
    terms: Terms
    confirmed: list[Reader]
    unconfirmed: list[Reader]

    @property
    def total(self) -> int:
        return len(self.confirmed) + len(self.unconfirmed)


def confirmations(meeting: Meeting, actor: Contact | None) -> Overview:
    """Who of the meeting's attendees (approved invitees) confirmed the current version, when and
    where, and who has not yet.

    :raise OrganizerError: without the ``documents`` right.
    """
    require_right(meeting, actor, "documents")
    return overview(meeting)


def overview(meeting: Meeting) -> Overview:
    """:func:`confirmations` for a caller that authorized already (the reports, a notice's
    recipients: :func:`unconfirmed_contacts`)."""
    terms = terms_of(meeting)
    people = db.session.execute(
        select(Contact, Unit.name, Invitee.role).join(Invitee, Invitee.contact_id == Contact.id)
        .join(Unit, Unit.id == Contact.unit_id)
        .where(Invitee.meeting_id == meeting.id, Invitee.status == "approved")
        .order_by(Unit.name, Contact.name, Contact.id)
    ).all()
    current: dict[int, ConfidentialityConfirmation] = {}
    earlier: dict[int, int] = {}
    for c in db.session.scalars(select(ConfidentialityConfirmation).where(
            ConfidentialityConfirmation.meeting_id == meeting.id)):
        if c.version == terms.version:
            current[c.contact_id] = c
        else:
            earlier[c.contact_id] = max(earlier.get(c.contact_id, 0), c.version)
    confirmed, unconfirmed = [], []
    for contact, unit_name, role in people:
        reader = Reader(contact, unit_name, role, current.get(contact.id), earlier.get(contact.id))
        (confirmed if reader.confirmation else unconfirmed).append(reader)
    confirmed.sort(key=lambda r: r.confirmation.confirmed_at, reverse=True)
    return Overview(terms, confirmed, unconfirmed)


def unconfirmed_contacts(meeting: Meeting) -> list[Contact]:
    """The attendees who must still confirm the current version (none while it is not required):
    whom a 保密提醒 notice goes to."""
    if not terms_of(meeting).required:
        return []
    return [r.contact for r in overview(meeting).unconfirmed]


def confirm_url(meeting: Meeting) -> str:
    """The attendee's page with the terms and the 我已阅读并遵守 button, for a notice to link to."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/m/{meeting.code}/confidentiality"
