"""Organizers (会务组) and their rights per meeting: the one authorization rule of the console.

A person's right on a meeting is the stronger of two grants:
- an ``Organizer`` row on that meeting (owner, staff or viewer), added by the meeting's owner;
- being an organizer of the meeting's organizing unit (``UnitOrganizer``): owner of every meeting
  of that unit. System administrators decide who organizes for a unit.
Nothing else gives a right: not a system administrator's role, not being invited.
"""

from __future__ import annotations

from sqlalchemy import select, union

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.meetings.meetings import find_contact_by_phone, get_meeting
from models import Contact, Meeting, Organizer, OrganizerRight, SystemAdmin, Unit, UnitOrganizer

_STAFF = frozenset({"view", "proxy_signin", "remind", "votes", "documents",
                    # the exceptions at the door: guests, walk-in approval, unbinding, leave
                    "door",
                    # 会议通知 and 保密提醒: write, send, remind, decide the leave they ask for
                    "notices",
                    # reports that list people with their contacts or answers (签到表, absent list…);
                    # the reports of numbers only need "view" (app/services/reports/registry.py)
                    "reports",
                    # registration: decide, tag and export registrations; logistics: rooms, seats,
                    # meals, buses and badges (the forms themselves are the meeting's: "edit")
                    "registrations", "logistics"})
#: What each right may do. A rule lives here and nowhere else.
RIGHTS: dict[str, frozenset[str]] = {
    OrganizerRight.VIEWER: frozenset({"view"}),
    OrganizerRight.STAFF: _STAFF,
    # edit: the meeting itself, its sessions, agenda, settings and lifecycle; invitees: the list
    OrganizerRight.OWNER: _STAFF | {"organizers", "edit", "invitees"},
}


class OrganizerError(DomainError):
    messages = {
        "right_invalid": "权限只能是 owner（负责人）、staff（会务人员）或 viewer（只读）",
        "not_organizer": "您不是本次会议的会务人员",
        "right_missing": "您没有执行此操作的权限",
        "organizer_not_found": "该人员不是本次会议的会务人员",
        "self_lockout": "不能这样修改自己的权限：修改后您将无法再管理会务人员。如确需调整，请由其他负责人操作",
    }
    statuses = {"not_organizer": 403, "right_missing": 403}


def add_organizer(meeting_code: str, phone: str, *, actor: str, right: str = OrganizerRight.STAFF) -> Organizer:
    if right not in RIGHTS:
        raise OrganizerError("right_invalid")
    return set_organizer(get_meeting(meeting_code), find_contact_by_phone(phone), right, actor=actor)


def set_organizer(meeting: Meeting, contact: Contact, right: str, *, actor: str,
                  acting: Contact | None = None) -> Organizer:
    """Make ``contact`` an organizer of ``meeting`` with ``right`` (or change their right).

    ``acting``: the console user doing it; they may not leave themselves unable to manage organizers.

    :raise OrganizerError: ``right_invalid``, ``self_lockout``.
    """
    if right not in RIGHTS:
        raise OrganizerError("right_invalid")
    organizer = db.session.scalar(
        select(Organizer).where(Organizer.meeting_id == meeting.id, Organizer.contact_id == contact.id)
    )
    before = organizer.right if organizer is not None else None
    if organizer is None:
        organizer = Organizer(meeting_id=meeting.id, contact_id=contact.id)
        db.session.add(organizer)
    organizer.right = right
    db.session.flush()
    _keep_own_right(meeting, acting)
    audit.record(actor, "organizer.set", meeting_id=meeting.id, target=f"contact:{contact.id}", right=right,
                 before=before)
    return organizer


def remove_organizer(meeting: Meeting, contact: Contact, *, actor: str, acting: Contact | None = None) -> None:
    """Take ``contact``'s own organizer grant on ``meeting`` away. A unit organizer keeps owning the
    meeting through their unit: that grant is the system administrators' to change.

    :raise OrganizerError: ``organizer_not_found``, ``self_lockout``.
    """
    organizer = db.session.scalar(
        select(Organizer).where(Organizer.meeting_id == meeting.id, Organizer.contact_id == contact.id)
    )
    if organizer is None:
        raise OrganizerError("organizer_not_found")
    before = organizer.right
    db.session.delete(organizer)
    db.session.flush()
    _keep_own_right(meeting, acting)
    audit.record(actor, "organizer.remove", meeting_id=meeting.id, target=f"contact:{contact.id}", before=before)


def _keep_own_right(meeting: Meeting, acting: Contact | None) -> None:
    """Refuse a change (already flushed; the error rolls it back) that leaves the person making it
    without the right to manage organizers: nobody locks themselves out by a slip of the mouse."""
    if acting is None:
        return
    right = organizer_right(meeting, acting)
    if right is None or "organizers" not in RIGHTS[right]:
        raise OrganizerError("self_lockout")


def list_organizers(meeting: Meeting) -> dict[str, list[dict]]:
    """The meeting's organizers (``explicit``, with their right) and the organizing unit's organizers
    (``implicit``: owners of every meeting of the unit, managed by system administrators)."""
    explicit = db.session.execute(
        select(Contact.id, Contact.name, Contact.phone, Unit.name, Organizer.right, Organizer.created_at)
        .select_from(Organizer).join(Contact, Contact.id == Organizer.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(Organizer.meeting_id == meeting.id).order_by(Organizer.created_at, Organizer.id)
    ).all()
    implicit = [] if meeting.unit_id is None else db.session.execute(
        select(Contact.id, Contact.name, Contact.phone, Unit.name)
        .select_from(UnitOrganizer).join(Contact, Contact.id == UnitOrganizer.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(UnitOrganizer.unit_id == meeting.unit_id).order_by(UnitOrganizer.created_at, Contact.id)
    ).all()
    implicit_ids = {row[0] for row in implicit}
    order = {OrganizerRight.OWNER: 0, OrganizerRight.STAFF: 1, OrganizerRight.VIEWER: 2}
    return {
        "explicit": sorted(({"contact_id": cid, "name": name, "phone": phone, "unit": unit, "right": right,
                             "since": since, "unit_owner": cid in implicit_ids}
                            for cid, name, phone, unit, right, since in explicit),
                           key=lambda o: order.get(o["right"], 9)),
        "implicit": [{"contact_id": cid, "name": name, "phone": phone, "unit": unit, "right": OrganizerRight.OWNER}
                     for cid, name, phone, unit in implicit],
    }


def organizer_right(meeting: Meeting, contact: Contact | None) -> str | None:
    """``contact``'s right on ``meeting`` (owner, staff, viewer), None when they have none."""
    if contact is None:
        return None
    right = db.session.scalar(
        select(Organizer.right).where(Organizer.meeting_id == meeting.id, Organizer.contact_id == contact.id)
    )
    if right != OrganizerRight.OWNER and meeting.unit_id is not None and organizes_for(contact, meeting.unit_id):
        return OrganizerRight.OWNER
    return right



def visible_meeting_ids(contact_id: int, action: str | None = None):
    """SELECT of the ids of every meeting ``contact_id`` holds a right on, by the rule of
    :func:`organizer_right` (an ``Organizer`` row, or organizing for the meeting's unit: owner),
    for reads over many meetings at once (attendance across meetings). ``action``: only the
    meetings where their right allows it (as :func:`require_right` would)."""
    explicit = select(Organizer.meeting_id).where(Organizer.contact_id == contact_id)
    if action is not None:
        explicit = explicit.where(Organizer.right.in_([r.value for r, acts in RIGHTS.items() if action in acts]))
    return union(
        explicit,
        select(Meeting.id).join(UnitOrganizer, UnitOrganizer.unit_id == Meeting.unit_id)
        .where(UnitOrganizer.contact_id == contact_id),
    )


def organizes_for(contact: Contact | None, unit_id: int) -> bool:
    """Whether ``contact`` organizes the meetings of the organizing unit ``unit_id``."""
    if contact is None:
        return False
    return db.session.scalar(
        select(UnitOrganizer.unit_id).where(UnitOrganizer.unit_id == unit_id, UnitOrganizer.contact_id == contact.id)
    ) is not None


def organizing_units(contact: Contact | None) -> list[Unit]:
    """The organizing units ``contact`` may create meetings for, by name."""
    if contact is None:
        return []
    return list(db.session.scalars(
        select(Unit).join(UnitOrganizer, UnitOrganizer.unit_id == Unit.id)
        .where(UnitOrganizer.contact_id == contact.id).order_by(Unit.name)
    ))


def is_system_admin(contact: Contact | None) -> bool:
    return contact is not None and db.session.get(SystemAdmin, contact.id) is not None


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
