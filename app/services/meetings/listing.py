"""The console's meeting list: which meetings a person may see, grouped by day, with their numbers.

A person sees a meeting when they hold a right on it (:mod:`app.services.meetings.organizers`): an
``Organizer`` row of any right, or organizing for the meeting's organizing unit. Both grants are
read in the one query that lists the meetings, and the numbers shown with them (应邀, 已签到 in the
current session, 场次) take three more queries whatever the number of meetings or people: the page
stays fast for a meeting of 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from math import ceil

from sqlalchemy import and_, case, func, or_, select, union
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services.timeutil import local, now_next_or_last
from models import (
    Admission,
    Contact,
    Invitee,
    Meeting,
    MeetingSession,
    MeetingState,
    MeetingUnit,
    Organizer,
    OrganizerRight,
    SignIn,
    Unit,
    UnitOrganizer,
)

PAST_PER_PAGE = 20
#: The state filter: "" shows every meeting but archived ones; "all" shows those too.
STATE_FILTERS = ("", "draft", "published", "closed", "archived", "all")


@dataclass
class Counts:
    invitees: int = 0  # 应邀: approved invitees, and for admission "units" everyone in the listed units
    signed_in: int = 0  # live sign-ins of the current session
    sessions: int = 0
    current_position: int | None = None


@dataclass
class Row:
    meeting: Meeting
    right: str
    counts: Counts = field(default_factory=Counts)


@dataclass
class MeetingList:
    today: list[Row]
    upcoming: list[Row]
    past: list[Row]
    past_total: int
    page: int
    pages: int
    #: How many meetings the person may see at all (before search and filters): tells "no meeting
    #: yet" from "nothing matches".
    any_visible: bool

    @property
    def empty(self) -> bool:
        return not (self.today or self.upcoming or self.past)


def _visible(contact_id: int):
    """SELECT (Meeting, right) of every meeting the contact holds a right on."""
    right = case((UnitOrganizer.contact_id.is_not(None), OrganizerRight.OWNER.value), else_=Organizer.right)
    return (
        select(Meeting, right.label("right"))
        .outerjoin(Organizer, and_(Organizer.meeting_id == Meeting.id, Organizer.contact_id == contact_id))
        .outerjoin(UnitOrganizer, and_(UnitOrganizer.unit_id == Meeting.unit_id,
                                       UnitOrganizer.contact_id == contact_id))
        .where(or_(Organizer.id.is_not(None), UnitOrganizer.contact_id.is_not(None)))
        .options(joinedload(Meeting.organizing_unit))
    )


def _filtered(stmt, *, q: str = "", state: str = ""):
    q = (q or "").strip()
    if q:
        stmt = stmt.where(or_(Meeting.title.icontains(q, autoescape=True), Meeting.code.icontains(q, autoescape=True)))
    if state in ("draft", "published", "closed", "archived"):
        stmt = stmt.where(Meeting.state == state)
    elif state != "all":
        stmt = stmt.where(Meeting.state != MeetingState.ARCHIVED)
    return stmt


def meetings_for(contact: Contact | None, *, now: datetime, q: str = "", state: str = "",
                 page: int = 1) -> MeetingList:
    """The meetings ``contact`` may see that match ``q`` (in the title or code) and ``state`` (see
    ``STATE_FILTERS``), grouped by China-time day around ``now``: 今天 (running today, by start),
    即将召开 (by start), 已结束 (latest first, ``PAST_PER_PAGE`` a page)."""
    if contact is None:
        return MeetingList([], [], [], 0, 1, 1, any_visible=False)
    rows = [Row(m, r) for m, r in db.session.execute(
        _filtered(_visible(contact.id), q=q, state=state).order_by(Meeting.starts_at, Meeting.id)
    ).unique().all()]
    any_visible = bool(rows) or db.session.scalar(
        select(func.count()).select_from(_visible(contact.id).subquery())) > 0
    today = local(now).date()
    current = [r for r in rows if _day(r.meeting.starts_at) <= today <= _day(r.meeting.ends_at)]
    upcoming = [r for r in rows if _day(r.meeting.starts_at) > today]
    past_all = [r for r in reversed(rows) if _day(r.meeting.ends_at) < today]
    pages = max(1, ceil(len(past_all) / PAST_PER_PAGE))
    page = min(max(1, page), pages)
    past = past_all[(page - 1) * PAST_PER_PAGE: page * PAST_PER_PAGE]
    shown = current + upcoming + past
    counts = meeting_counts([r.meeting for r in shown], now=now)
    for row in shown:
        row.counts = counts[row.meeting.id]
    return MeetingList(current, upcoming, past, len(past_all), page, pages, any_visible=any_visible)


def _day(at: datetime) -> date:
    return local(at).date()


def meeting_counts(meetings: list[Meeting], *, now: datetime) -> dict[int, Counts]:
    """应邀, 已签到 (current session) and 场次 of each meeting, in three queries for any number."""
    counts = {m.id: Counts() for m in meetings}
    if not meetings:
        return counts
    ids = list(counts)
    sessions = db.session.execute(
        select(MeetingSession.meeting_id, MeetingSession.id, MeetingSession.position,
               MeetingSession.signin_opens_at, MeetingSession.signin_closes_at)
        .where(MeetingSession.meeting_id.in_(ids)).order_by(MeetingSession.meeting_id, MeetingSession.position)
    ).all()
    by_meeting: dict[int, list] = {}
    for row in sessions:
        by_meeting.setdefault(row.meeting_id, []).append(row)
    current_ids = {}
    for meeting_id, rows in by_meeting.items():
        counts[meeting_id].sessions = len(rows)
        # The current session by the one rule (signin.rules.get_session), on plain rows.
        cur = now_next_or_last(rows, now, opens=lambda s: s.signin_opens_at, closes=lambda s: s.signin_closes_at)
        counts[meeting_id].current_position = cur.position
        current_ids[cur.id] = meeting_id
    if current_ids:
        for session_id, n in db.session.execute(
            select(SignIn.session_id, func.count()).where(SignIn.session_id.in_(list(current_ids)),
                                                          SignIn.revoked_at.is_(None))
            .group_by(SignIn.session_id)
        ):
            counts[current_ids[session_id]].signed_in = n
    # Who is expected, as the live roster counts them: approved invitees, plus everyone active in
    # the listed units when admission is "units" (UNION drops whoever is both).
    expected = select(Invitee.meeting_id.label("mid"), Invitee.contact_id.label("cid")).where(
        Invitee.meeting_id.in_(ids), Invitee.status == "approved")
    by_units = [m.id for m in meetings if m.admission == Admission.UNITS]
    if by_units:
        expected = union(expected, select(MeetingUnit.meeting_id, Contact.id)
                         .join(Contact, Contact.unit_id == MeetingUnit.unit_id)
                         .where(MeetingUnit.meeting_id.in_(by_units), Contact.active.is_(True)))
    sub = expected.subquery()
    for meeting_id, n in db.session.execute(select(sub.c.mid, func.count()).group_by(sub.c.mid)):
        counts[meeting_id].invitees = n
    return counts


def all_meetings(*, unit_code: str | None = None, state: str = "") -> list[Meeting]:
    """Every meeting (the CLI acts as the deployment), optionally of one organizing unit and state
    (see ``STATE_FILTERS``), by start."""
    stmt = _filtered(select(Meeting).options(joinedload(Meeting.organizing_unit)), state=state)
    if unit_code:
        stmt = stmt.join(Unit, Unit.id == Meeting.unit_id).where(Unit.code == unit_code.strip())
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id)).unique())
