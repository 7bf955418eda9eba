"""请假: a person excused from a whole meeting, with why and who approved it.

A leave takes the person out of 应到 and counts them as 请假 (:mod:`app.services.live.headcount`);
it never stops them signing in. One row per meeting and person: recording again updates it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.live.headcount import forget_roster, people_of
from app.tx import on_commit
from models import Contact, Leave, Meeting

REASON_MAX = 200
APPROVER_MAX = 64


class LeaveError(DomainError):
    messages = {
        "leave_reason_missing": "请填写请假事由",
        "leave_approver_missing": "请填写批准人（如：王主任）",
        "leave_too_long": "{field}过长，请控制在 {limit} 字以内",
        "not_expected": "{name} 不在本次会议的应到名单中，无需请假",
        "leave_not_found": "{name} 没有请假记录",
        "person_not_found": "找不到该人员",
    }
    # A form's stale or tampered choice: said on the page (``form_action``), not an error page.
    statuses = {"leave_not_found": 409}


def is_expected(meeting: Meeting, contact: Contact) -> bool:
    """Whether ``contact`` is on the meeting's 应到 list (or excused from it): the headcount's rule
    (approved invitees and, for admission ``units``, the listed units' people; active only)."""
    expected, on_leave = people_of(meeting)
    return any(row[0] == contact.id for row in (*expected, *on_leave))


def expected_people(meeting: Meeting) -> list[dict]:
    """Everyone who may be put on leave, by unit then name: {"id", "name", "unit", "on_leave"}."""
    expected, on_leave = people_of(meeting)
    rows = [{"id": r[0], "name": r[1], "unit": r[3], "on_leave": False} for r in expected]
    rows += [{"id": r[0], "name": r[1], "unit": r[3], "on_leave": True} for r in on_leave]
    return sorted(rows, key=lambda r: (r["unit"], r["name"], r["id"]))


def person(contact_id: int | str | None) -> Contact:
    """The contact a form names by id. :raise LeaveError: ``person_not_found``."""
    try:
        contact = db.session.get(Contact, int(contact_id or 0))
    except (TypeError, ValueError):
        contact = None
    if contact is None:
        raise LeaveError("person_not_found")
    return contact


def record_leave(meeting: Meeting, contact: Contact, *, reason: str, approver: str, actor: str) -> Leave:
    """Excuse ``contact`` from ``meeting``; recording again updates the reason and approver.

    :raise LeaveError: ``leave_reason_missing``, ``leave_approver_missing``, ``leave_too_long``,
        ``not_expected``.
    """
    reason = (reason or "").strip()
    approver = (approver or "").strip()
    if not reason:
        raise LeaveError("leave_reason_missing")
    if not approver:
        raise LeaveError("leave_approver_missing")
    if len(reason) > REASON_MAX:
        raise LeaveError("leave_too_long", field="请假事由", limit=REASON_MAX)
    if len(approver) > APPROVER_MAX:
        raise LeaveError("leave_too_long", field="批准人", limit=APPROVER_MAX)
    if not is_expected(meeting, contact):
        raise LeaveError("not_expected", name=contact.name)
    leave = _leave(meeting, contact)
    updated = leave is not None
    if leave is None:
        leave = Leave(meeting_id=meeting.id, contact_id=contact.id)
        db.session.add(leave)
    leave.reason, leave.approver, leave.recorded_by = reason, approver, actor
    db.session.flush()
    audit.record(actor, "leave.record", meeting_id=meeting.id, target=f"contact:{contact.id}", reason=reason,
                 approver=approver, updated=updated)
    _forget_rosters(meeting)
    return leave


def cancel_leave(meeting: Meeting, contact: Contact, *, actor: str) -> None:
    """Take back a leave: the person is expected again. :raise LeaveError: ``leave_not_found``."""
    leave = _leave(meeting, contact)
    if leave is None:
        raise LeaveError("leave_not_found", name=contact.name)
    audit.record(actor, "leave.cancel", meeting_id=meeting.id, target=f"contact:{contact.id}",
                 reason=leave.reason, approver=leave.approver)
    db.session.delete(leave)
    db.session.flush()
    _forget_rosters(meeting)


def leaves_of(meeting: Meeting) -> list[Leave]:
    """The meeting's leaves, newest first, with each person and unit loaded."""
    return list(db.session.scalars(
        select(Leave).where(Leave.meeting_id == meeting.id)
        .options(joinedload(Leave.contact).joinedload(Contact.unit))
        .order_by(Leave.created_at.desc(), Leave.id.desc())
    ))


def _leave(meeting: Meeting, contact: Contact) -> Leave | None:
    return db.session.scalar(select(Leave).where(Leave.meeting_id == meeting.id, Leave.contact_id == contact.id))


def _forget_rosters(meeting: Meeting) -> None:
    """Every session's cached roster is stale once the change commits (not before: a rollback
    leaves it right)."""
    session_ids = [s.id for s in meeting.sessions]

    def forget() -> None:
        for session_id in session_ids:
            forget_roster(session_id)

    on_commit(forget)
