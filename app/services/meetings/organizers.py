"""Organizers (会务组) and their rights per meeting."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.meetings.meetings import find_contact_by_phone, get_meeting
from models import Contact, Meeting, Organizer, OrganizerRight

#: What each right may do. A rule lives here and nowhere else.
RIGHTS: dict[str, frozenset[str]] = {
    OrganizerRight.VIEWER: frozenset({"view"}),
    OrganizerRight.STAFF: frozenset({"view", "proxy_signin", "remind", "votes", "documents"}),
    OrganizerRight.OWNER: frozenset({"view", "proxy_signin", "remind", "votes", "documents", "organizers"}),
}


class OrganizerError(DomainError):
    messages = {
        "right_invalid": "权限只能是 owner（负责人）、staff（会务人员）或 viewer（只读）",
        "not_organizer": "您不是本次会议的会务人员",
        "right_missing": "您没有执行此操作的权限",
    }
    statuses = {"not_organizer": 403, "right_missing": 403}


def add_organizer(meeting_code: str, phone: str, *, actor: str, right: str = OrganizerRight.STAFF) -> Organizer:
    if right not in RIGHTS:
        raise OrganizerError("right_invalid")
    meeting = get_meeting(meeting_code)
    contact = find_contact_by_phone(phone)
    organizer = db.session.scalar(
        select(Organizer).where(Organizer.meeting_id == meeting.id, Organizer.contact_id == contact.id)
    )
    if organizer is None:
        organizer = Organizer(meeting_id=meeting.id, contact_id=contact.id)
        db.session.add(organizer)
    organizer.right = right
    db.session.flush()
    audit.record(actor, "organizer.set", meeting_id=meeting.id, target=f"contact:{contact.id}", right=right)
    return organizer


def organizer_right(meeting: Meeting, contact: Contact | None) -> str | None:
    if contact is None:
        return None
    return db.session.scalar(
        select(Organizer.right).where(Organizer.meeting_id == meeting.id, Organizer.contact_id == contact.id)
    )


def require_right(meeting: Meeting, contact: Contact | None, action: str) -> str:
    """Authorize ``contact`` to do ``action`` on ``meeting``; returns their right.

    :raise OrganizerError: ``not_organizer`` or ``right_missing`` (both 403).
    """
    right = organizer_right(meeting, contact)
    if right is None:
        raise OrganizerError("not_organizer")
    if action not in RIGHTS[right]:
        raise OrganizerError("right_missing")
    return right
