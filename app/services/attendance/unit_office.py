"""A unit office's view of its own people: the roster with who has bound WeChat, and the upcoming
meetings its people are invited to (who is invited, bound, on leave). Its attendance across
meetings is :func:`app.services.attendance.query.attendance` with
:func:`~app.services.attendance.query.unit_office_viewer`.

Every function takes the office's unit and reads that unit's people only: another unit's people
never appear, whatever is asked (a meeting none of its people are invited to is "not found").
Who is invited to a meeting is the live headcount's rule: approved invitees and, for admission
"units", everyone active in a listed unit; only active contacts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import ceil

from sqlalchemy import and_, case, func, or_, select, union

from app.extensions import db
from app.services.errors import DomainError
from models import (
    Admission,
    Contact,
    Invitee,
    Leave,
    Meeting,
    MeetingState,
    MeetingUnit,
    Unit,
    WechatIdentity,
)

ROSTER_PER_PAGE = 50
PEOPLE_PER_PAGE = 100
#: The people filters of the roster and of a meeting's list.
ROSTER_FILTERS = {"": "全部", "unbound": "未绑定微信", "bound": "已绑定微信"}
MEETING_FILTERS = {"": "全部", "unbound": "未绑定微信", "leave": "请假"}


class UnitOfficeError(DomainError):
    messages = {"meeting_not_found": "找不到该会议，或本单位没有人员受邀参加"}
    statuses = {"meeting_not_found": 404}


@dataclass
class Person:
    id: int
    name: str
    phone: str
    title: str
    department: str
    bound: bool
    bound_at: datetime | None = None
    leave_reason: str | None = None


@dataclass
class PeoplePage:
    rows: list[Person]
    total: int  # matching the search and filter
    page: int
    pages: int
    everyone: int  # the unit's active people (or invited people of a meeting)
    bound: int
    leave: int = 0

    @property
    def unbound(self) -> int:
        return self.everyone - self.bound


def _bound():
    return WechatIdentity.id.is_not(None)


def _search(stmt, q: str):
    q = (q or "").strip()[:50]
    if not q:
        return stmt
    like = [Contact.name.icontains(q, autoescape=True), Contact.phone.contains(q, autoescape=True),
            Contact.title.icontains(q, autoescape=True), Contact.department.icontains(q, autoescape=True)]
    return stmt.where(or_(*like))


def _page(page: int, total: int, per_page: int) -> tuple[int, int]:
    pages = max(1, ceil(total / per_page))
    return min(max(1, page), pages), pages


def roster(unit: Unit, *, q: str = "", show: str = "", page: int = 1, per_page: int = ROSTER_PER_PAGE) -> PeoplePage:
    """The unit's active people, a page at a time in the directory's order, with their WeChat
    binding; ``q`` searches name, phone, 职务 and department; ``show``: "unbound" or "bound"."""
    base = (select(Contact.id).select_from(Contact).outerjoin(WechatIdentity, WechatIdentity.contact_id == Contact.id)
            .where(Contact.unit_id == unit.id, Contact.active.is_(True)))
    everyone, bound = db.session.execute(
        select(func.count(), func.count(WechatIdentity.id)).select_from(Contact)
        .outerjoin(WechatIdentity, WechatIdentity.contact_id == Contact.id)
        .where(Contact.unit_id == unit.id, Contact.active.is_(True))).one()
    filtered = _search(base, q)
    if show == "unbound":
        filtered = filtered.where(~_bound())
    elif show == "bound":
        filtered = filtered.where(_bound())
    total = db.session.scalar(select(func.count()).select_from(filtered.subquery()))
    page, pages = _page(page, total, per_page)
    rows = db.session.execute(
        filtered.with_only_columns(Contact.id, Contact.name, Contact.phone, Contact.title, Contact.department,
                                   WechatIdentity.bound_at, _bound())
        .order_by(Contact.id).offset((page - 1) * per_page).limit(per_page)).all()
    people = [Person(cid, name, phone, title or "", dept or "", bool(is_bound), bound_at)
              for cid, name, phone, title, dept, bound_at, is_bound in rows]
    return PeoplePage(people, total, page, pages, everyone, bound)


def _invited(unit: Unit, meeting_ids):
    """SELECT (mid, cid) of the unit's active people invited to the meetings ``meeting_ids`` selects."""
    by_invite = (select(Invitee.meeting_id.label("mid"), Contact.id.label("cid"))
                 .join(Contact, Contact.id == Invitee.contact_id)
                 .where(Invitee.meeting_id.in_(meeting_ids), Invitee.status == "approved",
                        Contact.unit_id == unit.id, Contact.active.is_(True)))
    by_unit = (select(MeetingUnit.meeting_id, Contact.id)
               .join(Meeting, Meeting.id == MeetingUnit.meeting_id)
               .join(Contact, and_(Contact.unit_id == MeetingUnit.unit_id, Contact.active.is_(True)))
               .where(MeetingUnit.meeting_id.in_(meeting_ids), MeetingUnit.unit_id == unit.id,
                      Meeting.admission == Admission.UNITS))
    return union(by_invite, by_unit).subquery()


@dataclass
class UpcomingMeeting:
    meeting: Meeting
    invited: int
    bound: int
    leave: int

    @property
    def unbound(self) -> int:
        return self.invited - self.bound


def _upcoming_ids(now: datetime):
    return select(Meeting.id).where(Meeting.state == MeetingState.PUBLISHED, Meeting.ends_at >= now)


def upcoming(unit: Unit, *, now: datetime) -> list[UpcomingMeeting]:
    """Published meetings not yet over that the unit's people are invited to, soonest first, with
    how many of them are invited, have bound WeChat, and are on leave."""
    inv = _invited(unit, _upcoming_ids(now))
    rows = db.session.execute(
        select(inv.c.mid, func.count(), func.count(WechatIdentity.id),
               func.sum(case((Leave.id.is_not(None), 1), else_=0)))
        .select_from(inv)
        .outerjoin(WechatIdentity, WechatIdentity.contact_id == inv.c.cid)
        .outerjoin(Leave, and_(Leave.meeting_id == inv.c.mid, Leave.contact_id == inv.c.cid))
        .group_by(inv.c.mid)).all()
    meetings = {m.id: m for m in db.session.scalars(select(Meeting).where(Meeting.id.in_([r[0] for r in rows])))}
    found = [UpcomingMeeting(meetings[mid], n, int(b or 0), int(lv or 0)) for mid, n, b, lv in rows]
    return sorted(found, key=lambda u: (u.meeting.starts_at, u.meeting.id))


def meeting_people(unit: Unit, code: str, *, now: datetime, q: str = "", show: str = "", page: int = 1,
                   per_page: int = PEOPLE_PER_PAGE) -> tuple[Meeting, PeoplePage]:
    """An upcoming meeting and the unit's people invited to it, a page at a time: binding, leave.

    :raise UnitOfficeError: ``meeting_not_found`` (404) for a meeting none of the unit's people are
        invited to, one that is over, or a draft: the office learns nothing about other meetings.
    """
    meeting = db.session.scalar(select(Meeting).where(Meeting.code == (code or "").strip()[:32],
                                                      Meeting.id.in_(_upcoming_ids(now))))
    if meeting is None:
        raise UnitOfficeError("meeting_not_found")
    inv = _invited(unit, [meeting.id])
    base = (select(Contact.id).select_from(inv).join(Contact, Contact.id == inv.c.cid)
            .outerjoin(WechatIdentity, WechatIdentity.contact_id == Contact.id)
            .outerjoin(Leave, and_(Leave.meeting_id == meeting.id, Leave.contact_id == Contact.id)))
    everyone, bound, leave = db.session.execute(
        base.with_only_columns(func.count(), func.count(WechatIdentity.id), func.count(Leave.id))).one()
    if not everyone:
        raise UnitOfficeError("meeting_not_found")
    filtered = _search(base, q)
    if show == "unbound":
        filtered = filtered.where(~_bound())
    elif show == "leave":
        filtered = filtered.where(Leave.id.is_not(None))
    total = db.session.scalar(select(func.count()).select_from(filtered.subquery()))
    page, pages = _page(page, total, per_page)
    rows = db.session.execute(
        filtered.with_only_columns(Contact.id, Contact.name, Contact.phone, Contact.title, Contact.department,
                                   WechatIdentity.bound_at, _bound(), Leave.reason)
        .order_by(Contact.id).offset((page - 1) * per_page).limit(per_page)).all()
    people = [Person(cid, name, phone, title or "", dept or "", bool(is_bound), bound_at, reason)
              for cid, name, phone, title, dept, bound_at, is_bound, reason in rows]
    return meeting, PeoplePage(people, total, page, pages, everyone, bound, leave)
