"""The exceptions at the door, handled by staff at the sign-in desk (会务人员, a phone in hand).

- a guest who is not in the directory (临时人员): put in the directory, invited and signed in, in
  one step;
- walk-ins of an "open with approval" meeting (``Invitee.status == "pending"``, filed by
  :func:`app.services.signin.write.hold_walk_in`): approved and signed in, or refused with a reason;
- a WeChat to unbind (a new phone, a mistaken binding): found by name or phone, unbound once staff
  have checked who is asking (:func:`app.services.identity.binding.unbind`).

Staff sign people in here with ``SignInMethod.MANUAL``: the person is at the desk, not absent (代签
is the live page's). A sign-in this module cannot make drops everything it wrote before it (the
error is not a recorded refusal), so a guest is never left half-added.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit
from app.services.contacts.phones import normalize_name, normalize_phone
from app.services.contacts.units import add_unit
from app.services.errors import DomainError
from app.services.identity import binding
from app.services.live.headcount import forget_roster
from app.services.meetings.meetings import invite_contact
from app.services.signin.rules import SignInError
from app.services.signin.write import SignInOutcome, sign_in
from app.tx import on_commit
from models import (
    Contact,
    Invitee,
    InviteeRole,
    Leave,
    Meeting,
    MeetingSession,
    SignInMethod,
    Unit,
    WechatIdentity,
)

#: The directory's unit for guests; made on first use.
GUEST_UNIT_CODE = "LINSHI"
GUEST_UNIT_NAME = "临时人员"
GUEST_DEFAULT_ROLE = InviteeRole.OBSERVER
NAME_MAX = 64
UNIT_TEXT_MAX = 64
NOTE_MAX = 200
SEARCH_LIMIT = 20


class DoorError(DomainError):
    messages = {
        "guest_name_missing": "请填写姓名",
        "guest_phone_invalid": "请填写正确的 11 位手机号",
        "too_long": "{field}过长，请控制在 {limit} 字以内",
        "role_invalid": "参会身份不正确：{role}",
        "walk_in_not_found": "找不到该签到申请，请刷新页面",
        "walk_in_decided": "该申请已处理（{state}），请刷新页面",
        "refuse_reason_missing": "请填写拒绝原因",
        "person_not_found": "找不到该人员",
        # A sign-in staff asked for here was refused by the rules: the message is the rule's.
        "signin_refused": "{message}",
    }
    # Not 404: the door's forms show these on the page (a stale page, a tampered form), as any
    # other refusal, rather than an error page.
    statuses = {"walk_in_not_found": 409, "walk_in_decided": 409, "signin_refused": 409}


def actor_name(contact: Contact) -> str:
    """The audit log's name for a staff member (as the console's ``actor_of``)."""
    return f"contact:{contact.id}"


def mask_phone(phone: str | None) -> str:
    """138****8000: enough for staff to match what the person says, not a copy of the directory."""
    phone = phone or ""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def _sign_in_at_desk(meeting: Meeting, session: MeetingSession, contact: Contact, *,
                     actor: Contact) -> SignInOutcome:
    """Sign ``contact`` in by staff at the desk (any time: staff decide). The sign-in commits the
    request's writes with it; a refusal is re-raised as ``signin_refused``, which is not a recorded
    error, so the boundary drops everything this request wrote (nothing half-done is kept)."""
    try:
        return sign_in(meeting, session, contact, method=SignInMethod.MANUAL, actor=actor, check_window=False)
    except SignInError as exc:
        raise DoorError("signin_refused", message=exc.message, reason=exc.code) from exc


def _forget_rosters(meeting: Meeting) -> None:
    session_ids = [s.id for s in meeting.sessions]
    on_commit(lambda: [forget_roster(sid) for sid in session_ids])


def _text(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise DoorError("too_long", field=field, limit=limit)
    return value


# -- guests ---------------------------------------------------------------------------------------
@dataclass
class GuestOutcome:
    contact: Contact
    signin: SignInOutcome
    #: The phone was already someone's in the directory: that person was used (what to tell staff).
    existing: str | None = None


def guest_unit() -> Unit:
    """The 临时人员 unit, made on first use (two desks adding the first guest at once make one)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == GUEST_UNIT_CODE))
    if unit is not None:
        return unit
    try:
        with db.session.begin_nested():
            return add_unit(GUEST_UNIT_CODE, GUEST_UNIT_NAME, actor="system")
    except IntegrityError:
        return db.session.scalar(select(Unit).where(Unit.code == GUEST_UNIT_CODE))


def add_guest(meeting: Meeting, session: MeetingSession, *, name: str, phone: str, unit_text: str = "",
              role: str = GUEST_DEFAULT_ROLE, note: str = "", actor: Contact) -> GuestOutcome:
    """A guest at the desk who is not on the list: find them by phone in the directory or add them
    to 临时人员 (their own unit kept as typed, in ``department``), invite them and sign them in.

    :raise DoorError: ``guest_name_missing``, ``guest_phone_invalid``, ``too_long``,
        ``role_invalid``, ``signin_refused`` (the meeting is not open, say).
    """
    name = _text(normalize_name(name or ""), "姓名", NAME_MAX)
    if not name:
        raise DoorError("guest_name_missing")
    number = normalize_phone(phone or "")
    if not number.ok or not number.is_mobile:
        raise DoorError("guest_phone_invalid")
    unit_text = _text(unit_text, "单位", UNIT_TEXT_MAX)
    note = _text(note, "备注", NOTE_MAX)
    role = (role or GUEST_DEFAULT_ROLE).strip()
    if role not in set(InviteeRole):
        raise DoorError("role_invalid", role=role)

    contact = db.session.scalar(
        select(Contact).where(Contact.phone == number.number, Contact.active.is_(True))
        .options(joinedload(Contact.unit)).order_by(Contact.id).limit(1)
    )
    existing = None
    created = False
    if contact is not None:
        if contact.unit.code != GUEST_UNIT_CODE or normalize_name(contact.name) != name:
            existing = f"该手机号已在通讯录中：{contact.name}（{contact.unit.name}），已按此人办理"
    else:
        unit = guest_unit()
        contact = db.session.scalar(select(Contact).where(Contact.unit_id == unit.id, Contact.phone == number.number))
        if contact is None:  # a guest of an earlier meeting keeps their record; else a new one
            contact = Contact(unit=unit, phone=number.number, name=name)
            db.session.add(contact)
            created = True
        contact.name, contact.active = name, True
        contact.department = unit_text or contact.department
    db.session.flush()

    invitee = db.session.scalar(
        select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id)
    )
    if invitee is None or invitee.status != "approved":
        # A pending or refused request is decided here by the staff member who meets the person.
        invitee, _ = invite_contact(meeting, contact, actor=actor_name(actor), role=role)
        invitee.decided_by = actor_name(actor)
    if note:
        invitee.note = note
    db.session.flush()
    audit.record(actor_name(actor), "door.guest", meeting_id=meeting.id, target=f"contact:{contact.id}",
                 session_id=session.id, created=created, existing=existing is not None, unit_text=unit_text,
                 role=invitee.role)
    _forget_rosters(meeting)
    return GuestOutcome(contact, _sign_in_at_desk(meeting, session, contact, actor=actor), existing)


# -- walk-ins waiting for approval ------------------------------------------------------------------
def pending_walk_ins(meeting: Meeting) -> list[Invitee]:
    """Walk-ins waiting for a decision, oldest first, with person and unit."""
    return list(db.session.scalars(
        select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.status == "pending")
        .options(joinedload(Invitee.contact).joinedload(Contact.unit))
        .order_by(Invitee.created_at, Invitee.id)
    ))


def _pending(meeting: Meeting, invitee_id: int | str | None) -> Invitee:
    try:
        wanted = int(invitee_id or 0)
    except (TypeError, ValueError):
        wanted = 0
    # Locked: two desks deciding the same request at once decide it once.
    invitee = db.session.scalar(
        select(Invitee).where(Invitee.id == wanted, Invitee.meeting_id == meeting.id).with_for_update()
    )
    if invitee is None:
        raise DoorError("walk_in_not_found")
    if invitee.status != "pending":
        raise DoorError("walk_in_decided", state="已通过" if invitee.status == "approved" else "已拒绝")
    return invitee


def approve_walk_in(meeting: Meeting, session: MeetingSession, invitee_id: int | str | None, *, actor: Contact,
                    note: str = "") -> SignInOutcome:
    """Let a walk-in in and sign them in. :raise DoorError: ``walk_in_not_found``,
    ``walk_in_decided``, ``too_long``, ``signin_refused``."""
    note = _text(note, "备注", NOTE_MAX)
    invitee = _pending(meeting, invitee_id)
    invitee.status = "approved"
    invitee.decided_by = actor_name(actor)
    invitee.decision_note = note or None
    db.session.flush()
    audit.record(actor_name(actor), "door.walk_in_approve", meeting_id=meeting.id,
                 target=f"contact:{invitee.contact_id}", note=note or None)
    _forget_rosters(meeting)
    return _sign_in_at_desk(meeting, session, invitee.contact, actor=actor)


def refuse_walk_in(meeting: Meeting, invitee_id: int | str | None, *, actor: Contact, reason: str) -> Invitee:
    """Turn a walk-in away; the reason is kept (the person hears "未通过" when they try again).
    :raise DoorError: ``refuse_reason_missing``, ``too_long``, ``walk_in_not_found``, ``walk_in_decided``."""
    reason = _text(reason, "拒绝原因", NOTE_MAX)
    if not reason:
        raise DoorError("refuse_reason_missing")
    invitee = _pending(meeting, invitee_id)
    invitee.status = "rejected"
    invitee.decided_by = actor_name(actor)
    invitee.decision_note = reason
    db.session.flush()
    audit.record(actor_name(actor), "door.walk_in_refuse", meeting_id=meeting.id,
                 target=f"contact:{invitee.contact_id}", reason=reason)
    return invitee


# -- finding a person, and unbinding their WeChat ---------------------------------------------------
@dataclass(frozen=True)
class Person:
    """A search result at the desk: who, and whether their WeChat is bound."""

    id: int
    name: str
    unit: str
    title: str | None
    phone_masked: str
    active: bool
    #: Their invitee status at this meeting (approved, pending, rejected), None when not listed.
    invitee_status: str | None
    on_leave: bool
    bound: bool
    bound_at: datetime | None


def find_people(meeting: Meeting, query: str, *, limit: int = SEARCH_LIMIT) -> list[Person]:
    """People matching ``query``: the meeting's invitees by part of the name or the phone's last
    digits (4 or more), and anyone in the directory by the exact name or the full phone. The
    directory is matched only exactly, so the desk cannot be used to browse it."""
    query = (query or "").strip()[:32]
    if not query:
        return []
    digits = re.sub(r"\D", "", query)
    is_phone = len(digits) >= 4 and re.fullmatch(r"[\d\s+-]+", query) is not None
    invited = select(Invitee.contact_id).where(Invitee.meeting_id == meeting.id)
    if is_phone:
        number = normalize_phone(query)
        in_meeting = Contact.phone.endswith(digits)
        in_directory = Contact.phone == number.number if number.ok else None
    else:
        name = normalize_name(query)
        in_meeting = Contact.name.contains(name, autoescape=True)
        in_directory = Contact.name == name
    where = Contact.id.in_(invited) & in_meeting
    if in_directory is not None:
        where = or_(where, in_directory & Contact.active.is_(True))
    rows = db.session.execute(
        select(Contact, Invitee.status, WechatIdentity.bound_at, WechatIdentity.id, Leave.id)
        .outerjoin(Invitee, (Invitee.contact_id == Contact.id) & (Invitee.meeting_id == meeting.id))
        .outerjoin(WechatIdentity, WechatIdentity.contact_id == Contact.id)
        .outerjoin(Leave, (Leave.contact_id == Contact.id) & (Leave.meeting_id == meeting.id))
        .where(where).options(joinedload(Contact.unit))
        # the meeting's own people first, then by name
        .order_by(Invitee.id.is_(None), Contact.name, Contact.id).limit(limit)
    ).all()
    return [Person(c.id, c.name, c.unit.name, c.title, mask_phone(c.phone), c.active, status, leave_id is not None,
                   identity_id is not None, bound_at)
            for c, status, bound_at, identity_id, leave_id in rows]


def unbind_person(meeting: Meeting, contact_id: int | str | None, *, actor: Contact, reason: str,
                  confirmed: bool) -> Contact:
    """Unbind the WeChat of the person staff found and checked face to face (logged on this
    meeting). :raise DoorError: ``person_not_found``; :raise IdentityError: ``unbind_unconfirmed``,
    ``unbind_reason_missing``, ``not_bound``."""
    try:
        contact = db.session.get(Contact, int(contact_id or 0))
    except (TypeError, ValueError):
        contact = None
    if contact is None:
        raise DoorError("person_not_found")
    binding.unbind(contact, actor=actor_name(actor), reason=reason, confirmed=confirmed, meeting_id=meeting.id)
    return contact


def pending_count(meeting: Meeting) -> int:
    return int(db.session.scalar(
        select(func.count()).select_from(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.status == "pending")
    ) or 0)
