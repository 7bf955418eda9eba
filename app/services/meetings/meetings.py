"""Meetings: creation, sessions, invitee lists, lookup by public code."""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit, meeting_cache
from app.services.contacts.phones import normalize_phone
from app.services.contacts.units import get_unit
from app.services.errors import DomainError
from app.services.timeutil import now_next_or_last
from models import (
    Admission,
    Contact,
    Invitee,
    InviteeRole,
    Meeting,
    MeetingSession,
    MeetingState,
    Organizer,
    Unit,
)

MEETING_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{3,32}$")
#: Codes that name a fixed console page (/admin/login, /admin/new …): a meeting with one of them
#: could never be opened at /admin/<code>. Compared case-insensitively, to spare people confusion.
RESERVED_CODES = frozenset({"admin", "api", "codes", "help", "login", "logout", "me", "meetings", "new",
                            "search", "static", "system", "units"})
#: Generated codes: no 0/O, 1/I/L, so a code read aloud or copied from paper is typed right.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_CODE_LENGTH = 6
#: Column widths of the free-text fields people type (longer would fail in the database).
TITLE_MAX, VENUE_MAX = 200, 200
INTRO_MAX = 5000
#: Sign-in opens this long before the start unless told otherwise.
DEFAULT_SIGNIN_LEAD = timedelta(hours=2)
#: An organizer's meeting that ended this long ago is still their current one (they check the last numbers).
ORGANIZER_RECENT_END = timedelta(hours=6)


class MeetingError(DomainError):
    messages = {
        "meeting_code_invalid": "会议代码只能包含字母、数字、下划线和短横线（3–32 位）：{code}",
        "meeting_code_reserved": "会议代码“{code}”是系统保留字，请换一个，或留空自动生成",
        "too_long": "{field}不能超过 {limit} 个字",
        "meeting_exists": "会议代码已存在：{code}",
        "meeting_not_found": "找不到会议：{code}",
        "title_missing": "请填写会议名称",
        "time_invalid": "时间格式不正确：{value}（示例：2026-11-23 09:00）",
        "time_order": "结束时间必须晚于开始时间",
        "admission_invalid": "签到范围只能是 invitees（仅受邀人员）、units（所列单位全体）或 approval（开放报名、会务审核）",
        "role_invalid": "参会身份不正确：{role}（可选：领导、代表、列席、工作人员、媒体）",
        "contact_not_found": "通讯录中找不到手机号为 {phone} 的人员",
        "phone_invalid": "手机号格式不正确：{phone}",
        "nothing_to_invite": "请指定要邀请的手机号或单位",
        "not_participant": "您不在本次会议的参会名单中，无法查看此内容。如有疑问请联系会务组",
    }
    statuses = {"meeting_exists": 409, "meeting_not_found": 404, "contact_not_found": 404, "not_participant": 403}


def create_meeting(code: str, title: str, *, actor: str, starts_at: datetime, ends_at: datetime,
                   venue: str = "", intro: str = "", agenda: list[dict] | None = None,
                   admission: str = Admission.INVITEES, unit_codes: list[str] | None = None,
                   publish: bool = False, signin_opens_at: datetime | None = None,
                   signin_closes_at: datetime | None = None, unit: Unit | None = None) -> Meeting:
    """Create a meeting with its first sign-in session (a one-day plenary needs no more).

    ``code`` blank: a short unique one is made up. ``unit``: the organizing unit (主办单位), whose
    organizers own the meeting. ``unit_codes``: the listed units (on an invitees-only meeting, their
    people are invited).

    :raise MeetingError: ``meeting_code_invalid``, ``meeting_code_reserved``, ``meeting_exists``,
        ``title_missing``, ``too_long``, ``time_order``, ``admission_invalid``; :raise UnitError:
        ``unit_not_found``.
    """
    code = (code or "").strip() or new_meeting_code()
    title = (title or "").strip()
    venue = (venue or "").strip()
    intro = clean_intro(intro)
    check_code(code)
    check_text(title=title, venue=venue, intro=intro)
    if ends_at <= starts_at:
        raise MeetingError("time_order")
    if admission not in set(Admission):
        raise MeetingError("admission_invalid")
    if db.session.scalar(select(Meeting.id).where(Meeting.code == code)):
        raise MeetingError("meeting_exists", code=code)
    units = [get_unit(c) for c in dict.fromkeys(unit_codes or [])]

    meeting = Meeting(code=code, title=title, venue=venue, intro=intro, agenda=agenda or [],
                      starts_at=starts_at, ends_at=ends_at, admission=admission, units=units,
                      unit_id=unit.id if unit is not None else None,
                      state=MeetingState.PUBLISHED if publish else MeetingState.DRAFT)
    meeting.sessions.append(MeetingSession(
        position=1, title=title, starts_at=starts_at, ends_at=ends_at,
        signin_opens_at=signin_opens_at or starts_at - DEFAULT_SIGNIN_LEAD,
        signin_closes_at=signin_closes_at or ends_at,
    ))
    db.session.add(meeting)
    db.session.flush()
    if admission == Admission.INVITEES and units:
        # Listing units on an invitees-only meeting means "invite everyone in them".
        for listed in units:
            invite_unit(meeting, listed, actor=actor)
    audit.record(actor, "meeting.create", meeting_id=meeting.id, target=f"meeting:{meeting.id}", code=code,
                 unit=unit.code if unit is not None else None)
    return meeting


def check_code(code: str) -> None:
    """:raise MeetingError: ``meeting_code_invalid``, ``meeting_code_reserved``."""
    if not MEETING_CODE_RE.match(code):
        raise MeetingError("meeting_code_invalid", code=code)
    if code.lower() in RESERVED_CODES:
        raise MeetingError("meeting_code_reserved", code=code)


def clean_intro(intro: str | None) -> str:
    """Browsers send a textarea's line breaks as CRLF: stored as LF, so saving an untouched form
    changes nothing."""
    return (intro or "").replace("\r\n", "\n").strip()


def check_text(*, title: str, venue: str, intro: str) -> None:
    """The free-text fields of a meeting, already stripped. :raise MeetingError: ``title_missing``,
    ``too_long``."""
    if not title:
        raise MeetingError("title_missing")
    for field, value, limit in (("会议名称", title, TITLE_MAX), ("会议地点", venue, VENUE_MAX),
                                ("会议简介", intro or "", INTRO_MAX)):
        if len(value) > limit:
            raise MeetingError("too_long", field=field, limit=limit)


def new_meeting_code() -> str:
    """A short, URL-safe code no meeting has: six letters and digits that read unambiguously."""
    while True:
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
        if code.lower() in RESERVED_CODES:
            continue
        if db.session.scalar(select(Meeting.id).where(Meeting.code == code)) is None:
            return code


def get_meeting(code: str, *, with_sessions: bool = False, cached: bool = False) -> Meeting:
    """The meeting by code. ``with_sessions`` loads its sessions in the same query (the scan path
    needs them on every request). ``cached`` (implies ``with_sessions``): from this process's
    short-lived copy when it is current (see :mod:`app.services.meeting_cache` for how current)."""
    if cached:
        return meeting_cache.meeting_with_sessions((code or "").strip(),
                                                   lambda c: get_meeting(c, with_sessions=True))
    stmt = select(Meeting).where(Meeting.code == (code or "").strip())
    if with_sessions:
        stmt = stmt.options(joinedload(Meeting.sessions))
    meeting = db.session.execute(stmt).unique().scalar_one_or_none()
    if meeting is None:
        raise MeetingError("meeting_not_found", code=code)
    return meeting


def current_meeting_for(contact: Contact, now: datetime) -> Meeting | None:
    """The published meeting ``contact`` organizes that is current for them at ``now``: the one
    happening now, else the next one, else the one that just ended (within ``ORGANIZER_RECENT_END``);
    None when they organize none of these. The session within it is ``signin.rules.get_session``'s."""
    meetings = db.session.scalars(
        select(Meeting).join(Organizer, Organizer.meeting_id == Meeting.id)
        .where(Organizer.contact_id == contact.id, Meeting.state == MeetingState.PUBLISHED,
               Meeting.ends_at >= now - ORGANIZER_RECENT_END)
        .order_by(Meeting.starts_at)
    ).all()
    return now_next_or_last(meetings, now, opens=lambda m: m.starts_at, closes=lambda m: m.ends_at)


def find_contact_by_phone(raw_phone: str) -> Contact:
    """The active contact with this phone. Phones are unique among active contacts (the importer
    refuses a phone that belongs to another unit), so at most one matches."""
    result = normalize_phone(raw_phone)
    if not result.ok:
        raise MeetingError("phone_invalid", phone=raw_phone)
    contact = db.session.scalar(
        select(Contact).where(Contact.phone == result.number, Contact.active.is_(True)).limit(1)
    )
    if contact is None:
        raise MeetingError("contact_not_found", phone=result.number)
    return contact


def _check_role(role: str) -> str:
    if role not in set(InviteeRole):
        raise MeetingError("role_invalid", role=role)
    return role


def invite_contact(meeting: Meeting, contact: Contact, *, actor: str, role: str = InviteeRole.DELEGATE,
                   group_name: str | None = None, seat: str | None = None) -> tuple[Invitee, bool]:
    """Invite one person; inviting again updates role/group/seat. Returns (invitee, created)."""
    _check_role(role)
    invitee = db.session.scalar(
        select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id)
    )
    created = invitee is None
    if created:
        invitee = Invitee(meeting_id=meeting.id, contact_id=contact.id)
        db.session.add(invitee)
    invitee.role = role
    invitee.group_name = group_name or invitee.group_name
    invitee.seat = seat or invitee.seat
    invitee.status = "approved"
    db.session.flush()
    if created:
        audit.record(actor, "meeting.invite", meeting_id=meeting.id, target=f"contact:{contact.id}")
    return invitee, created


def invite_unit(meeting: Meeting, unit: Unit, *, actor: str, role: str = InviteeRole.DELEGATE,
                group_name: str | None = None) -> int:
    """Invite every active contact of a unit; returns how many were newly invited."""
    _check_role(role)
    contacts = db.session.scalars(
        select(Contact).where(Contact.unit_id == unit.id, Contact.active.is_(True)).order_by(Contact.id)
    ).all()
    return sum(invite_contact(meeting, c, actor=actor, role=role, group_name=group_name)[1] for c in contacts)


def invite(meeting_code: str, *, actor: str, phones: list[str] | None = None,
           unit_codes: list[str] | None = None, role: str = InviteeRole.DELEGATE,
           group_name: str | None = None, seat: str | None = None) -> dict[str, int]:
    """Invite by phone and/or by whole unit. All or nothing: one unknown phone invites nobody."""
    if not phones and not unit_codes:
        raise MeetingError("nothing_to_invite")
    meeting = get_meeting(meeting_code)
    _check_role(role)
    contacts = [find_contact_by_phone(p) for p in phones or []]
    units = [get_unit(c) for c in unit_codes or []]
    added = sum(invite_contact(meeting, c, actor=actor, role=role, group_name=group_name, seat=seat)[1]
                for c in contacts)
    added += sum(invite_unit(meeting, u, actor=actor, role=role, group_name=group_name) for u in units)
    total = db.session.scalar(select(db.func.count()).select_from(Invitee).where(Invitee.meeting_id == meeting.id))
    return {"invited": added, "total_invitees": int(total or 0)}
