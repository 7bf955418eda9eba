"""A person's history: the meetings they were invited to or signed in to, newest first, each with the
materials they may still open (asked of the documents service: recall and access are its rules)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import select

from app.extensions import db
from app.services.documents import materials as documents
from app.services.documents.errors import DocumentError
from models import Contact, Invitee, Meeting, MeetingState, SignIn

MAX_PER_PAGE = 50


@dataclass(frozen=True)
class HistoryItem:
    meeting: Meeting
    #: ``signed_in`` (any session), else the invitation: ``invited``, ``pending``, ``rejected``.
    status: str
    #: First live sign-in in the meeting, if any.
    signed_at: datetime | None
    sessions_signed: int
    #: Documents this person may still open, with links bound to their identity (only when asked).
    materials: list[documents.ListedDocument] = field(default_factory=list)


@dataclass(frozen=True)
class HistoryPage:
    items: list[HistoryItem]
    page: int
    per_page: int
    total: int


_INVITE_STATUS = {"approved": "invited", "pending": "pending", "rejected": "rejected"}


def my_meetings(contact: Contact, *, page: int = 1, per_page: int = 20, secret_key: str | None = None,
                identity_id: int | None = None) -> HistoryPage:
    """Meetings ``contact`` was invited to or signed in to (drafts excluded), newest start first.

    With ``secret_key`` and ``identity_id`` (the viewer's session), each meeting carries the
    materials they may still open, with viewing links bound to that identity."""
    page = max(1, page)
    per_page = min(max(1, per_page), MAX_PER_PAGE)
    invited = select(Invitee.meeting_id).where(Invitee.contact_id == contact.id)
    signed = select(SignIn.meeting_id).where(SignIn.contact_id == contact.id, SignIn.revoked_at.is_(None))
    mine = (select(Meeting)
            .where(Meeting.id.in_(invited.union(signed).scalar_subquery()), Meeting.state != MeetingState.DRAFT))
    total = db.session.scalar(select(sa.func.count()).select_from(mine.subquery())) or 0
    meetings = db.session.scalars(
        mine.order_by(Meeting.starts_at.desc(), Meeting.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    ids = [m.id for m in meetings]
    signins = {
        row.meeting_id: row for row in db.session.execute(
            select(SignIn.meeting_id, sa.func.min(SignIn.signed_at).label("first"),
                   sa.func.count().label("n"))
            .where(SignIn.contact_id == contact.id, SignIn.revoked_at.is_(None), SignIn.meeting_id.in_(ids))
            .group_by(SignIn.meeting_id)
        )
    } if ids else {}
    invites = dict(db.session.execute(
        select(Invitee.meeting_id, Invitee.status).where(Invitee.contact_id == contact.id,
                                                         Invitee.meeting_id.in_(ids))
    ).all()) if ids else {}
    items = []
    for m in meetings:
        s = signins.get(m.id)
        status = "signed_in" if s else _INVITE_STATUS.get(invites.get(m.id, ""), "invited")
        listed = (still_visible(m, contact, secret_key=secret_key, identity_id=identity_id)
                  if secret_key is not None and identity_id is not None else [])
        items.append(HistoryItem(m, status, s.first if s else None, s.n if s else 0, listed))
    return HistoryPage(items, page, per_page, int(total))


def still_visible(meeting: Meeting, contact: Contact, *, secret_key: str,
                  identity_id: int) -> list[documents.ListedDocument]:
    """The meeting's documents this person may open now (ready, not recalled, access allowed).

    Someone who signed in without being an approved invitee is no reader of its documents: none."""
    try:
        listed = documents.visible_documents(meeting, contact, secret_key=secret_key, identity_id=identity_id)
    except DocumentError:
        return []
    # Organizers may still see recalled documents (for the record); a history lists what is current.
    return [d for d in listed if d.token is not None and d.document.recalled_at is None]


def my_status(meeting: Meeting, contact: Contact) -> str:
    """``contact``'s standing in one meeting, in the same words as :func:`my_meetings`."""
    signed = db.session.scalar(
        select(SignIn.id).where(SignIn.meeting_id == meeting.id, SignIn.contact_id == contact.id,
                                SignIn.revoked_at.is_(None)).limit(1))
    if signed is not None:
        return "signed_in"
    invite = db.session.scalar(
        select(Invitee.status).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id))
    return _INVITE_STATUS.get(invite, "invited") if invite else "none"
