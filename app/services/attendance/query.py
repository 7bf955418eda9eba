"""Attendance across meetings (考勤): who was invited, came, came late, was excused or missed, per
person, per unit and per meeting, over a date range or a list of meetings.

The rules, one place:
- **Which meetings count**: published (or closed, archived) meetings that are over: ended by the
  clock, or closed or archived by their organizers. A draft was never held and a meeting still
  running would count everyone not yet arrived as absent. A date range takes the meetings that
  start on those China-time days; a list names them by code (an unfinished one is refused).
- **Who may include which meeting**: an organizer only the meetings whose people they may list, by
  the console's one rule (:func:`app.services.meetings.organizers.visible_meeting_ids` with the
  ``reports`` action: staff and owners, as for the per-meeting 签到表; a viewer's right is numbers
  of one meeting only); system administrators and the CLI every meeting; a unit office every
  meeting, but only its own people.
- **Who was invited** to a meeting is whom its live headcount expects (``headcount._load_people``):
  approved invitees and, for admission "units", everyone in the listed units; only active
  contacts (a person who has left the directory is not counted, as on the live page).
- **Each invited person's one status per meeting**: *attended* when they hold a live (not revoked)
  sign-in in any session, *late* too when any of those sign-ins was late; otherwise *leave* (请假)
  when excused, otherwise *absent*. So invited = attended + leave + absent, 应到 = invited - leave,
  and the rate (出勤率) = attended / 应到 never passes 100%. A person excused who came anyway
  counts as attended: they were there.

Two aggregate queries (per person, per meeting) whatever the number of meetings and people; units
are summed from the people. 100 meetings of 1,000 people read in well under a second
(scripts/bench/bench_attendance.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from math import ceil

from sqlalchemy import case, func, or_, select, union

from app.extensions import db
from app.services.errors import DomainError
from app.services.meetings.organizers import is_system_admin, visible_meeting_ids
from app.services.timeutil import LOCAL_TZ, local
from models import Admission, Contact, Invitee, Leave, Meeting, MeetingState, MeetingUnit, SignIn, Unit

#: The longest date range one read covers.
MAX_DAYS = 5 * 366
#: The most meetings a list may name.
MAX_CODES = 500
#: The organizer action (organizers.RIGHTS) a meeting's people are listed under.
LIST_PEOPLE = "reports"
SORT_KEYS = ("name", "unit", "invited", "expected", "attended", "late", "leave", "absent", "rate", "start")


class AttendanceError(DomainError):
    messages = {
        "date_invalid": "无法识别日期“{value}”，请按 2026-11-01 的格式填写",
        "date_missing": "请填写统计的开始日期和结束日期（或指定会议）",
        "range_reversed": "开始日期（{start}）晚于结束日期（{end}），请调换后再试",
        "range_too_long": "统计区间最长 5 年，请缩短日期范围",
        "unit_not_found": "找不到单位代码“{code}”，请检查后再试（可在系统管理中查看单位代码）",
        "meeting_not_found": "找不到会议“{code}”，或您无权查看该会议",
        "meeting_not_over": "会议“{title}”尚未结束（或仍是草稿），结束后才计入考勤",
        "too_many_meetings": "一次最多指定 {limit} 个会议",
        "format_invalid": "导出格式只能是 xlsx 或 pdf",
        "output_missing": "请用 --output 指定输出文件",
        "output_invalid": "无法写入文件：{path}（请检查目录是否存在、是否有写权限）",
    }
    statuses = {"meeting_not_found": 404}


@dataclass(frozen=True)
class Viewer:
    """Who is asking, as plain values (a background job gets them as its arguments).

    ``contact_id``: an organizer, who may include the meetings they hold a right on;
    ``every_meeting``: a system administrator or the CLI; ``unit_id``: a unit office, who sees only
    its own people (whatever unit filter is asked for)."""

    contact_id: int | None = None
    every_meeting: bool = False
    unit_id: int | None = None

    def to_args(self) -> dict:
        return asdict(self)

    @classmethod
    def from_args(cls, args: dict) -> Viewer:
        return cls(contact_id=args.get("contact_id"), every_meeting=bool(args.get("every_meeting")),
                   unit_id=args.get("unit_id"))


def console_viewer(contact: Contact) -> Viewer:
    """An organizer at the console: every meeting for a system administrator, else their own."""
    return Viewer(every_meeting=True) if is_system_admin(contact) else Viewer(contact_id=contact.id)


def unit_office_viewer(unit: Unit) -> Viewer:
    return Viewer(every_meeting=True, unit_id=unit.id)


CLI_VIEWER = Viewer(every_meeting=True)


@dataclass(frozen=True)
class Filters:
    """What to count: a China-time date range (inclusive) and/or meeting codes, a unit's people,
    a title keyword (a series: "常委会"). Plain values, so a job can take them as arguments."""

    date_from: date | None = None
    date_to: date | None = None
    unit_code: str = ""
    codes: tuple[str, ...] = ()
    q: str = ""

    def to_args(self) -> dict:
        return {"date_from": self.date_from.isoformat() if self.date_from else None,
                "date_to": self.date_to.isoformat() if self.date_to else None,
                "unit_code": self.unit_code, "codes": list(self.codes), "q": self.q}

    @classmethod
    def from_args(cls, args: dict) -> Filters:
        return cls(date_from=date.fromisoformat(args["date_from"]) if args.get("date_from") else None,
                   date_to=date.fromisoformat(args["date_to"]) if args.get("date_to") else None,
                   unit_code=args.get("unit_code") or "", codes=tuple(args.get("codes") or ()), q=args.get("q") or "")


def parse_date(text: str | None) -> date | None:
    """A date as people type it: 2026-11-01, 2026/11/1, 2026.11.1, 20261101; None when blank.

    :raise AttendanceError: ``date_invalid``.
    """
    text = (text or "").strip()
    if not text:
        return None
    cleaned = text.replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        if cleaned.isdigit() and len(cleaned) == 8:
            return date(int(cleaned[:4]), int(cleaned[4:6]), int(cleaned[6:]))
        y, m, d = (int(part) for part in cleaned.split("-"))
        return date(y, m, d)
    except ValueError:
        raise AttendanceError("date_invalid", value=text[:40]) from None


def make_filters(date_from: str | None, date_to: str | None, *, unit_code: str = "",
                 codes: Iterable[str] = (), q: str = "") -> Filters:
    """Filters from typed text, checked: both dates (or meeting codes), in order, at most 5 years.

    :raise AttendanceError: ``date_invalid``, ``date_missing``, ``range_reversed``,
        ``range_too_long``, ``too_many_meetings``.
    """
    start, end = parse_date(date_from), parse_date(date_to)
    codes = tuple(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    if len(codes) > MAX_CODES:
        raise AttendanceError("too_many_meetings", limit=MAX_CODES)
    if (start is None or end is None) and not codes:
        raise AttendanceError("date_missing")
    if (start is None) != (end is None):
        raise AttendanceError("date_missing")
    if start and end:
        if start > end:
            raise AttendanceError("range_reversed", start=start.isoformat(), end=end.isoformat())
        if (end - start).days > MAX_DAYS:
            raise AttendanceError("range_too_long")
    return Filters(start, end, (unit_code or "").strip()[:32], codes, (q or "").strip()[:100])


# -- results ----------------------------------------------------------------------------------------
@dataclass
class Counts:
    invited: int = 0
    attended: int = 0
    late: int = 0
    leave: int = 0

    @property
    def expected(self) -> int:
        """应到: invited and not excused."""
        return self.invited - self.leave

    @property
    def absent(self) -> int:
        return self.expected - self.attended

    @property
    def rate(self) -> float | None:
        """出勤率 in percent (one decimal); None when nobody was expected."""
        return None if self.expected <= 0 else round(self.attended * 100.0 / self.expected, 1)

    def add(self, other: Counts) -> None:
        self.invited += other.invited
        self.attended += other.attended
        self.late += other.late
        self.leave += other.leave

    def numbers(self) -> dict:
        return {"invited": self.invited, "expected": self.expected, "attended": self.attended, "late": self.late,
                "leave": self.leave, "absent": self.absent, "rate": self.rate}


@dataclass
class PersonRow(Counts):
    contact_id: int = 0
    name: str = ""
    title: str = ""
    unit_id: int = 0
    unit_code: str = ""
    unit_name: str = ""

    def to_dict(self) -> dict:
        return {"contact_id": self.contact_id, "name": self.name, "title": self.title, "unit": self.unit_code,
                "unit_name": self.unit_name, **self.numbers()}


@dataclass
class UnitRow(Counts):
    unit_id: int = 0
    code: str = ""
    name: str = ""
    people: int = 0

    def to_dict(self) -> dict:
        return {"unit": self.code, "unit_name": self.name, "people": self.people, **self.numbers()}


@dataclass
class MeetingRow(Counts):
    meeting_id: int = 0
    code: str = ""
    title: str = ""
    starts_at: datetime | None = None

    def to_dict(self) -> dict:
        return {"code": self.code, "title": self.title,
                "date": local(self.starts_at).date().isoformat() if self.starts_at else None, **self.numbers()}


@dataclass
class Attendance:
    filters: Filters
    unit: Unit | None  # the unit whose people are counted (a filter, or the unit office's own)
    meetings: list[MeetingRow]
    units: list[UnitRow]
    people: list[PersonRow]
    total: Counts = field(default_factory=Counts)

    def to_dict(self) -> dict:
        f = self.filters
        return {"from": f.date_from.isoformat() if f.date_from else None,
                "to": f.date_to.isoformat() if f.date_to else None,
                "unit": self.unit.code if self.unit else None, "q": f.q or None,
                "meetings": [m.to_dict() for m in self.meetings], "units": [u.to_dict() for u in self.units],
                "people": [p.to_dict() for p in self.people], "total": self.total.numbers()}


# -- the read ---------------------------------------------------------------------------------------
def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ).astimezone(UTC)


def _counted(now: datetime):
    """The meetings attendance counts: held (not drafts) and over."""
    return (Meeting.state != MeetingState.DRAFT) & or_(
        Meeting.ends_at <= now, Meeting.state.in_([MeetingState.CLOSED, MeetingState.ARCHIVED]))


def _meetings(viewer: Viewer, filters: Filters, now: datetime) -> list[Meeting]:
    stmt = select(Meeting)
    if not viewer.every_meeting:
        # Attendance lists people by name: the right to list a meeting's people ("reports": staff
        # and owners, as the per-meeting 签到表), not a viewer's numbers-only right.
        stmt = stmt.where(Meeting.id.in_(visible_meeting_ids(viewer.contact_id or 0, action=LIST_PEOPLE)))
    if filters.codes:
        found = {m.code: m for m in db.session.scalars(stmt.where(Meeting.code.in_(filters.codes)))}
        for code in filters.codes:
            if code not in found:
                raise AttendanceError("meeting_not_found", code=code[:40])
        late_ones = [m for m in found.values() if not _is_counted(m, now)]
        if late_ones:
            raise AttendanceError("meeting_not_over", title=late_ones[0].title)
    stmt = stmt.where(_counted(now))
    if filters.codes:
        stmt = stmt.where(Meeting.code.in_(filters.codes))
    if filters.date_from and filters.date_to:
        stmt = stmt.where(Meeting.starts_at >= _day_start(filters.date_from),
                          Meeting.starts_at < _day_start(filters.date_to + timedelta(days=1)))
    if filters.q:
        stmt = stmt.where(Meeting.title.icontains(filters.q, autoescape=True))
    return list(db.session.scalars(stmt.order_by(Meeting.starts_at, Meeting.id)))


def _is_counted(meeting: Meeting, now: datetime) -> bool:
    if meeting.state == MeetingState.DRAFT:
        return False
    return meeting.state in (MeetingState.CLOSED, MeetingState.ARCHIVED) or meeting.ends_at <= now


def _unit(viewer: Viewer, filters: Filters) -> Unit | None:
    if viewer.unit_id is not None:  # a unit office: its own people, whatever was asked
        return db.session.get(Unit, viewer.unit_id)
    if not filters.unit_code:
        return None
    unit = db.session.scalar(select(Unit).where(Unit.code == filters.unit_code))
    if unit is None:
        raise AttendanceError("unit_not_found", code=filters.unit_code)
    return unit


def _statuses(meetings: Sequence[Meeting], unit: Unit | None):
    """Subquery: one row per (meeting, invited active contact) with 0/1 columns attended, late, leave."""
    ids = [m.id for m in meetings]
    by_units = [m.id for m in meetings if m.admission == Admission.UNITS]
    invited = select(Invitee.meeting_id.label("mid"), Invitee.contact_id.label("cid")).where(
        Invitee.meeting_id.in_(ids), Invitee.status == "approved")
    signed = (select(SignIn.meeting_id.label("mid"), SignIn.contact_id.label("cid"),
                     func.max(case((SignIn.late.is_(True), 1), else_=0)).label("late"))
              .where(SignIn.meeting_id.in_(ids), SignIn.revoked_at.is_(None)))
    if unit is not None:
        # One unit's people: read their rows only (by the contact indexes), not every meeting's.
        members = select(Contact.id).where(Contact.unit_id == unit.id)
        invited = invited.where(Invitee.contact_id.in_(members))
        signed = signed.where(SignIn.contact_id.in_(members))
    if by_units:
        listed = (select(MeetingUnit.meeting_id, Contact.id).join(Contact, Contact.unit_id == MeetingUnit.unit_id)
                  .where(MeetingUnit.meeting_id.in_(by_units), Contact.active.is_(True)))
        if unit is not None:
            listed = listed.where(MeetingUnit.unit_id == unit.id)
        # UNION drops whoever is both invited and in a listed unit.
        roster = union(invited, listed).subquery()
    else:
        roster = invited.subquery()
    signed = signed.group_by(SignIn.meeting_id, SignIn.contact_id).subquery()
    attended = case((signed.c.cid.is_not(None), 1), else_=0)
    stmt = (select(roster.c.mid, roster.c.cid, attended.label("attended"),
                   func.coalesce(signed.c.late, 0).label("late"),
                   case((Leave.id.is_not(None) & signed.c.cid.is_(None), 1), else_=0).label("leave"))
            .select_from(roster)
            .join(Contact, Contact.id == roster.c.cid)
            .outerjoin(signed, (signed.c.mid == roster.c.mid) & (signed.c.cid == roster.c.cid))
            .outerjoin(Leave, (Leave.meeting_id == roster.c.mid) & (Leave.contact_id == roster.c.cid))
            .where(Contact.active.is_(True)))
    if unit is not None:
        stmt = stmt.where(Contact.unit_id == unit.id)
    return stmt.subquery()


def attendance(viewer: Viewer, filters: Filters, *, now: datetime) -> Attendance:
    """Attendance over the meetings ``filters`` name that ``viewer`` may include, held and over by
    ``now``: per person, per unit and per meeting, each in its default order.

    :raise AttendanceError: ``unit_not_found``, ``meeting_not_found`` (404), ``meeting_not_over``.
    """
    unit = _unit(viewer, filters)
    meetings = _meetings(viewer, filters, now)
    result = Attendance(filters, unit, [], [], [])
    if not meetings:
        return result
    st = _statuses(meetings, unit)
    sums = (func.count().label("invited"), func.sum(st.c.attended).label("attended"),
            func.sum(st.c.late).label("late"), func.sum(st.c.leave).label("leave"))
    if db.session.get_bind().dialect.name == "postgresql":
        # One pass over the (meeting, person) rows for both totals: GROUPING SETS.
        agg = select(st.c.cid, st.c.mid, *sums).group_by(func.grouping_sets(st.c.cid, st.c.mid)).subquery()
        rows = db.session.execute(select(agg)).all()
        counts = {cid: (n, a, late, lv) for cid, mid, n, a, late, lv in rows if cid is not None}
        per_meeting = {mid: (n, a, late, lv) for cid, mid, n, a, late, lv in rows if cid is None}
    else:  # SQLite (the demo's database) has no GROUPING SETS
        counts = {cid: (n, a, late, lv) for cid, n, a, late, lv in db.session.execute(
            select(st.c.cid, *sums).group_by(st.c.cid))}
        per_meeting = {mid: (n, a, late, lv) for mid, n, a, late, lv in db.session.execute(
            select(st.c.mid, *sums).group_by(st.c.mid))}
    people = [(cid, *counts[cid], name, title, uid, ucode, uname) for cid, name, title, uid, ucode, uname in
              db.session.execute(select(Contact.id, Contact.name, Contact.title, Unit.id, Unit.code, Unit.name)
                                 .join(Unit, Unit.id == Contact.unit_id).where(Contact.id.in_(list(counts))))]
    units: dict[int, UnitRow] = {}
    for cid, n, a, late, lv, name, title, uid, ucode, uname in people:
        row = PersonRow(int(n), int(a or 0), int(late or 0), int(lv or 0), contact_id=cid, name=name,
                        title=title or "", unit_id=uid, unit_code=ucode, unit_name=uname)
        result.people.append(row)
        unit_row = units.get(uid)
        if unit_row is None:
            unit_row = units[uid] = UnitRow(unit_id=uid, code=ucode, name=uname)
        unit_row.add(row)
        unit_row.people += 1
        result.total.add(row)
    for m in meetings:
        n, a, late, lv = per_meeting.get(m.id, (0, 0, 0, 0))
        result.meetings.append(MeetingRow(int(n), int(a or 0), int(late or 0), int(lv or 0), meeting_id=m.id,
                                          code=m.code, title=m.title, starts_at=m.starts_at))
    result.units = sort_rows(list(units.values()), "rate")
    result.people = sort_rows(result.people, "unit")
    return result


# -- ordering and paging ----------------------------------------------------------------------------
def sort_rows(rows: list, key: str, *, desc: bool = False) -> list:
    """``rows`` (people, units or meetings) ordered by ``key`` (see ``SORT_KEYS``; an unknown key
    orders by name). ``unit`` is the directory's order, as the per-meeting reports list them: units
    as they were added, then people as they were added. Ties go in that order too, ascending
    either way; no rate (nobody expected) sorts last either way."""
    def tie(r):
        return (getattr(r, "unit_id", 0), getattr(r, "contact_id", 0), getattr(r, "starts_at", None) or _EPOCH,
                getattr(r, "meeting_id", 0))

    def name_of(r) -> str:
        return getattr(r, "name", None) or getattr(r, "title", "")

    sign = -1 if desc else 1  # numbers: ties stay in directory order either way
    if key in ("unit", "start"):
        return sorted(rows, key=tie, reverse=desc)
    if key in ("invited", "expected", "attended", "late", "leave", "absent"):
        return sorted(rows, key=lambda r: (sign * getattr(r, key), tie(r)))
    if key == "rate":
        known = sorted((r for r in rows if r.rate is not None), key=lambda r: (sign * r.rate, tie(r)))
        return known + [r for r in rows if r.rate is None]
    return sorted(rows, key=lambda r: (name_of(r), tie(r)), reverse=desc)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class Page:
    rows: list
    page: int
    pages: int
    total: int


def page_of(rows: list, page: int, per_page: int) -> Page:
    pages = max(1, ceil(len(rows) / per_page))
    page = min(max(1, page), pages)
    return Page(rows[(page - 1) * per_page: page * per_page], page, pages, len(rows))
