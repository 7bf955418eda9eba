"""Seating (座次) services: seat plans, automatic and manual assignment, and the seat on the card.

Every function takes the meeting it acts in (already authorized by the caller for ``logistics``, or
``view`` for reading) and finds plans only inside it, so an id from another meeting is "not found".
Writes are added and flushed; the request, job or command commits once.

The database is the last word on conflicts: ``seat_assignments`` is unique on (plan, row, seat) and on
(plan, person). Every write that could meet another writer (a move, a swap, auto-assign) flushes in a
savepoint and answers ``seat_taken`` when that guard refuses, so two organizers picking one seat at
once end with one of them told, and the plan as the winner left it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.logistics import seat_assign as sa_
from app.services.logistics.people import Person, roster
from app.services.meetings.lifecycle import require_editable
from models import Contact, Invitee, Meeting, MeetingSession, SeatAssignment, SeatPlan
from models.base import utcnow

MAX_ROWS = 200
MAX_SEATS_PER_ROW = 200
#: The biggest hall a plan may describe (the Great Hall of the People seats about 10,000).
MAX_SEATS = 12000
MAX_ROSTRUM_ROWS = 6
MAX_ROSTRUM_SEATS = 60
MAX_SECTIONS = 100
MAX_BLOCKED = 2000
NAME_MAX = 64
GROUP_MAX = 64
NUMBERING_LABELS = {"ltr": "从左至右顺序编号（1、2、3…）", "odd_right": "单双号（中间为 1 号，面向主席台单号在右、双号在左）",
                    "odd_left": "单双号（中间为 1 号，面向主席台单号在左、双号在右）"}
BLOCK_REASONS = {"reserved": "预留", "broken": "损坏"}


class SeatingError(DomainError):
    messages = {
        "plan_not_found": "找不到该座次方案",
        "name_invalid": "请填写方案名称（不超过 64 个字）",
        "name_taken": "本会议已有同名的座次方案",
        "session_invalid": "所选场次不属于本会议",
        "rows_invalid": "排数须为 1 至 200 的整数",
        "seats_invalid": "每排座位数须为 1 至 200 的整数",
        "too_many_seats": "座位总数不能超过 12000 个",
        "aisles_invalid": "过道位置有误：{detail}",
        "numbering_invalid": "座位编号方式无效",
        "rostrum_invalid": "主席台排数须为 0 至 6，每排座位数 1 至 60（无主席台时排数填 0）",
        "rostrum_people_invalid": "主席台人员有误：{detail}",
        "section_invalid": "代表团分区第 {line} 行有误：{detail}",
        "blocked_invalid": "不可用座位“{item}”有误：{detail}",
        "seat_invalid": "该座位不在本方案的座位范围内",
        "seat_blocked": "该座位已设为不可用（预留或损坏）",
        "seat_taken": "该座位已有人，或刚被他人安排，请刷新后重试",
        "person_not_invited": "该人员不在本会议的参会名单中",
        "person_not_seated": "该人员尚未安排座位",
        "input_invalid": "输入有误：{detail}",
    }
    statuses = {"plan_not_found": 404, "seat_taken": 409}


# --- Reading plans --------------------------------------------------------------------------------

def plans(meeting: Meeting) -> list[SeatPlan]:
    return list(db.session.scalars(select(SeatPlan).where(SeatPlan.meeting_id == meeting.id).order_by(SeatPlan.id)))


def get_plan(meeting: Meeting, plan_id: object, *, lock: bool = False) -> SeatPlan:
    """The plan ``plan_id`` of this meeting. :raise SeatingError: ``plan_not_found``."""
    try:
        pid = int(str(plan_id))
    except (TypeError, ValueError):
        raise SeatingError("plan_not_found") from None
    if not 0 < pid < 2**31:
        raise SeatingError("plan_not_found")
    query = select(SeatPlan).where(SeatPlan.id == pid, SeatPlan.meeting_id == meeting.id)
    plan = db.session.scalar(query.with_for_update() if lock else query)
    if plan is None:
        raise SeatingError("plan_not_found")
    return plan


def default_plan(meeting: Meeting) -> SeatPlan | None:
    """The card's plan, else the first one."""
    found = plans(meeting)
    return next((p for p in found if p.on_card), found[0] if found else None)


def geometry(plan: SeatPlan) -> sa_.Geometry:
    return sa_.Geometry(
        rows=plan.rows, seats_per_row=plan.seats_per_row, aisles=tuple(plan.aisles or ()),
        numbering=plan.numbering, rostrum_rows=plan.rostrum_rows, rostrum_seats=plan.rostrum_seats,
        sections=tuple(sa_.Section(s["group"], (s["rows"][0], s["rows"][1]), (s["seats"][0], s["seats"][1]))
                       for s in plan.sections or ()),
        blocked=frozenset((b["row"], b["seat"]) for b in plan.blocked or ()))


def seat_text(plan: SeatPlan, row: int, pos: int) -> str:
    """"3 排 12 号" (the chair's number under the hall's numbering), "主席台 1 排 5 号"."""
    return sa_.seat_label(geometry(plan), row, pos)


# --- Validating a plan's form ---------------------------------------------------------------------

_INT = re.compile(r"^\s*(\d{1,6})\s*$")
_RANGE = re.compile(r"^\s*(\d{1,4})\s*(?:[-－—~～至到]\s*(\d{1,4}))?\s*$")
_BLOCKED_ITEM = re.compile(r"^(主席台)?\s*(\d{1,4})\s*排\s*(\d{1,4})\s*号?\s*(预留|损坏|坏)?$")
_SPLIT = re.compile(r"[,，、;；\n\r]+")


@dataclass(frozen=True)
class PlanInput:
    name: str
    session_id: int | None
    rows: int
    seats_per_row: int
    aisles: list[int]
    numbering: str
    rostrum_rows: int
    rostrum_seats: int
    sections: list[dict]
    blocked: list[dict]
    on_card: bool


def _text(value: object, limit: int = 20000) -> str:
    text = value if isinstance(value, str) else ""
    if len(text) > limit or "\x00" in text:
        raise SeatingError("input_invalid", detail="内容过长或含有不可见字符")
    return text


def _int(value: object, code: str, low: int, high: int) -> int:
    m = _INT.match(value) if isinstance(value, str) and len(value) <= 16 else None
    if not m or not low <= int(m.group(1)) <= high:
        raise SeatingError(code)
    return int(m.group(1))


def _range(text: str, low: int, high: int) -> tuple[int, int] | None:
    m = _RANGE.match(text)
    if not m:
        return None
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if not low <= a <= b <= high:
        return None
    return a, b


def _printable(text: str) -> bool:
    return all(ch.isprintable() for ch in text)


def parse_plan(meeting: Meeting, form: Mapping[str, object]) -> PlanInput:
    """A plan's fields from the console's form (or the CLI's, all text), checked whole.

    Fields: ``name``, ``session`` (a session's position, blank: the whole meeting), ``rows``,
    ``seats_per_row``, ``aisles`` ("8, 16": an aisle after seat positions 8 and 16), ``numbering``
    (ltr / odd_right / odd_left), ``rostrum_rows``, ``rostrum_seats``, ``sections`` (a line per
    delegation: "第一代表团 1-3 1-8": its name, rows, seat positions from the left), ``blocked``
    ("3排5号 损坏, 主席台1排2号 预留": seats by their numbers on the chairs), ``on_card`` ("1"/"").

    :raise SeatingError: the first problem found, with a stable code.
    """
    name = _text(form.get("name"), 500).strip()
    if not name or len(name) > NAME_MAX or not _printable(name):
        raise SeatingError("name_invalid")
    session_id = None
    position = _text(form.get("session"), 2000).strip()
    if position:
        if not _INT.match(position):
            raise SeatingError("session_invalid")
        session_id = db.session.scalar(select(MeetingSession.id).where(
            MeetingSession.meeting_id == meeting.id, MeetingSession.position == int(position)))
        if session_id is None:
            raise SeatingError("session_invalid")
    rows = _int(form.get("rows"), "rows_invalid", 1, MAX_ROWS)
    seats = _int(form.get("seats_per_row"), "seats_invalid", 1, MAX_SEATS_PER_ROW)
    if rows * seats > MAX_SEATS:
        raise SeatingError("too_many_seats")
    aisles = []
    for item in (s.strip() for s in _SPLIT.split(_text(form.get("aisles"), 2000)) if s.strip()):
        m = _INT.match(item)
        if not m:
            raise SeatingError("aisles_invalid", detail=f"“{item}”不是座位序号")
        if not 1 <= int(m.group(1)) < seats:
            raise SeatingError("aisles_invalid", detail=f"过道须在第 1 至第 {seats - 1} 座之后")
        aisles.append(int(m.group(1)))
    aisles = sorted(set(aisles))
    numbering = _text(form.get("numbering"), 16).strip() or "ltr"
    if numbering not in sa_.NUMBERINGS:
        raise SeatingError("numbering_invalid")
    rostrum_rows = _int(form.get("rostrum_rows") or "0", "rostrum_invalid", 0, MAX_ROSTRUM_ROWS)
    rostrum_seats = 0
    if rostrum_rows:
        rostrum_seats = _int(form.get("rostrum_seats"), "rostrum_invalid", 1, MAX_ROSTRUM_SEATS)
    sections = _parse_sections(_text(form.get("sections")), rows, seats)
    blocked = _parse_blocked(_text(form.get("blocked")), rows, seats, numbering, rostrum_rows, rostrum_seats)
    on_card = _text(form.get("on_card"), 8).strip() in ("1", "on", "true", "yes")
    return PlanInput(name, session_id, rows, seats, aisles, numbering, rostrum_rows, rostrum_seats, sections,
                     blocked, on_card)


def _parse_sections(text: str, rows: int, seats: int) -> list[dict]:
    out: list[dict] = []
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_SECTIONS:
        raise SeatingError("section_invalid", line=MAX_SECTIONS + 1, detail=f"最多 {MAX_SECTIONS} 个分区")
    for number, line in enumerate(lines, 1):
        parts = re.split(r"[\s|｜,，]+", line.replace("排", " ").replace("座", " ").strip())
        parts = [p for p in parts if p]
        if len(parts) < 2:
            raise SeatingError("section_invalid", line=number, detail="格式为“代表团名称 起止排 起止座”，如“第一代表团 1-3 1-8”")
        group, row_text, seat_text_ = parts[0], parts[1], parts[2] if len(parts) > 2 else f"1-{seats}"
        if len(parts) > 3 or len(group) > GROUP_MAX or not _printable(group):
            raise SeatingError("section_invalid", line=number, detail="格式为“代表团名称 起止排 起止座”")
        row_range = _range(row_text, 1, rows)
        seat_range = _range(seat_text_, 1, seats)
        if row_range is None:
            raise SeatingError("section_invalid", line=number, detail=f"排须在 1 至 {rows} 之间，如 1-3")
        if seat_range is None:
            raise SeatingError("section_invalid", line=number, detail=f"座须在左起第 1 至 {seats} 座之间，如 1-8")
        for other in out:
            if other["group"] == group:
                raise SeatingError("section_invalid", line=number, detail=f"“{group}”已有分区")
            if not (row_range[1] < other["rows"][0] or other["rows"][1] < row_range[0]
                    or seat_range[1] < other["seats"][0] or other["seats"][1] < seat_range[0]):
                raise SeatingError("section_invalid", line=number, detail=f"与“{other['group']}”的分区重叠")
        out.append({"group": group, "rows": list(row_range), "seats": list(seat_range)})
    return out


def _parse_blocked(text: str, rows: int, seats: int, numbering: str, rostrum_rows: int,
                   rostrum_seats: int) -> list[dict]:
    items = [s.strip() for s in _SPLIT.split(text) if s.strip()]
    if len(items) > MAX_BLOCKED:
        raise SeatingError("blocked_invalid", item=items[MAX_BLOCKED], detail=f"最多 {MAX_BLOCKED} 个")
    out: dict[tuple[int, int], dict] = {}
    for item in items:
        m = _BLOCKED_ITEM.match(item.replace(" ", ""))
        if not m:
            raise SeatingError("blocked_invalid", item=item, detail="请写作“3排5号”，可加“预留”或“损坏”")
        rostrum, row, number = bool(m.group(1)), int(m.group(2)), int(m.group(3))
        if rostrum:
            if not 1 <= row <= rostrum_rows:
                raise SeatingError("blocked_invalid", item=item, detail="主席台没有这一排")
            pos = sa_.position_of(rostrum_seats, numbering, number)
            row = -row
        else:
            if not 1 <= row <= rows:
                raise SeatingError("blocked_invalid", item=item, detail="会场没有这一排")
            pos = sa_.position_of(seats, numbering, number)
        if pos is None:
            raise SeatingError("blocked_invalid", item=item, detail="这一排没有这个座号")
        reason = "reserved" if m.group(4) == "预留" else "broken" if m.group(4) else "reserved"
        out[(row, pos)] = {"row": row, "seat": pos, "reason": reason}
    return [out[k] for k in sorted(out)]


def blocked_text(plan: SeatPlan) -> str:
    """The plan's blocked seats as the form writes them."""
    geo = geometry(plan)
    out = []
    for b in plan.blocked or ():
        label = sa_.seat_label(geo, b["row"], b["seat"]).replace(" ", "")
        out.append(f"{label} {BLOCK_REASONS.get(b.get('reason'), '预留')}")
    return "，".join(out)


def sections_text(plan: SeatPlan) -> str:
    return "\n".join(f"{s['group']} {s['rows'][0]}-{s['rows'][1]} {s['seats'][0]}-{s['seats'][1]}"
                     for s in plan.sections or ())


def rostrum_people_text(meeting: Meeting, plan: SeatPlan) -> str:
    ids = list(plan.rostrum_people or ())
    if not ids:
        return ""
    names = dict(db.session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(ids))).all())
    return "、".join(names[i] for i in ids if i in names)


def parse_rostrum_people(meeting: Meeting, text: object) -> list[int]:
    """The rostrum's people by name in rank order ("张三、李四"), each an invitee of the meeting whose
    name is unique on its list (else the organizer is told which). Blank: the role 领导 decides."""
    names = [n.strip() for n in _SPLIT.split(_text(text, 4000).replace("、", ",")) if n.strip()]
    if len(names) > MAX_ROSTRUM_ROWS * MAX_ROSTRUM_SEATS:
        raise SeatingError("rostrum_people_invalid", detail="人数超过主席台可容纳的上限")
    if not names:
        return []
    found: dict[str, list[int]] = {}
    for cid, name in db.session.execute(
            select(Contact.id, Contact.name).join(Invitee, Invitee.contact_id == Contact.id)
            .where(Invitee.meeting_id == meeting.id, Invitee.status == "approved", Contact.name.in_(names))):
        found.setdefault(name, []).append(cid)
    out: list[int] = []
    for name in names:
        ids = found.get(name, [])
        if not ids:
            raise SeatingError("rostrum_people_invalid", detail=f"“{name}”不在参会名单中")
        if len(ids) > 1:
            raise SeatingError("rostrum_people_invalid", detail=f"参会名单中有 {len(ids)} 位“{name}”，请在座次图中手动安排")
        if ids[0] not in out:
            out.append(ids[0])
    return out


# --- Writing plans --------------------------------------------------------------------------------

def _name_free(meeting: Meeting, name: str, plan_id: int | None) -> None:
    clash = db.session.scalar(select(SeatPlan.id).where(SeatPlan.meeting_id == meeting.id, SeatPlan.name == name))
    if clash is not None and clash != plan_id:
        raise SeatingError("name_taken")


def _set_on_card(meeting: Meeting, plan: SeatPlan) -> None:
    db.session.execute(update(SeatPlan).where(SeatPlan.meeting_id == meeting.id, SeatPlan.id != plan.id)
                       .values(on_card=False).execution_options(synchronize_session="fetch"))
    plan.on_card = True


def create_plan(meeting: Meeting, form: Mapping[str, object], *, actor: str) -> SeatPlan:
    require_editable(meeting)
    data = parse_plan(meeting, form)
    rostrum = parse_rostrum_people(meeting, form.get("rostrum_people"))
    _name_free(meeting, data.name, None)
    first = not plans(meeting)
    plan = SeatPlan(meeting_id=meeting.id, session_id=data.session_id, name=data.name, rows=data.rows,
                    seats_per_row=data.seats_per_row, aisles=data.aisles, numbering=data.numbering,
                    rostrum_rows=data.rostrum_rows, rostrum_seats=data.rostrum_seats, rostrum_people=rostrum,
                    sections=data.sections, blocked=data.blocked, on_card=False)
    db.session.add(plan)
    db.session.flush()
    if data.on_card or first:  # the meeting's only plan is the one its cards show
        _set_on_card(meeting, plan)
    audit.record(actor, "seating.plan_create", meeting_id=meeting.id, target=f"seat_plan:{plan.id}",
                 name=plan.name, rows=plan.rows, seats_per_row=plan.seats_per_row)
    return plan


def update_plan(meeting: Meeting, plan_id: object, form: Mapping[str, object], *, actor: str) -> tuple[SeatPlan, int]:
    """Change a plan's geometry; the seats that no longer exist, or are now blocked or in another
    delegation's section, are freed (their people are counted in the answer)."""
    require_editable(meeting)
    plan = get_plan(meeting, plan_id, lock=True)
    data = parse_plan(meeting, form)
    rostrum = parse_rostrum_people(meeting, form.get("rostrum_people"))
    _name_free(meeting, data.name, plan.id)
    for key in ("name", "session_id", "rows", "seats_per_row", "aisles", "numbering", "rostrum_rows",
                "rostrum_seats", "sections", "blocked"):
        setattr(plan, key, getattr(data, key))
    plan.rostrum_people = rostrum
    if data.on_card:
        _set_on_card(meeting, plan)
    else:
        plan.on_card = False
    db.session.flush()
    geo = geometry(plan)
    groups = _groups(meeting)
    gone = [a.id for a in _assignments(plan)
            if not geo.exists(a.row, a.seat) or (a.row, a.seat) in geo.blocked
            or not _may_sit(geo, a.row, a.seat, groups.get(a.contact_id))]
    if gone:
        db.session.execute(delete(SeatAssignment).where(SeatAssignment.id.in_(gone)))
    _touch(plan)
    audit.record(actor, "seating.plan_update", meeting_id=meeting.id, target=f"seat_plan:{plan.id}",
                 name=plan.name, freed=len(gone))
    return plan, len(gone)


def delete_plan(meeting: Meeting, plan_id: object, *, actor: str) -> str:
    require_editable(meeting)
    plan = get_plan(meeting, plan_id, lock=True)
    name = plan.name
    db.session.delete(plan)
    db.session.flush()
    audit.record(actor, "seating.plan_delete", meeting_id=meeting.id, target=f"seat_plan:{plan_id}", name=name)
    return name


def _may_sit(geo: sa_.Geometry, row: int, pos: int, group: str | None) -> bool:
    """A seat in a delegation's section is for that delegation only (hand placement keeps to it too)."""
    section = geo.section_of(row, pos)
    return section is None or section.group == group


def _groups(meeting: Meeting) -> dict[int, str | None]:
    return dict(db.session.execute(select(Invitee.contact_id, Invitee.group_name)
                                   .where(Invitee.meeting_id == meeting.id)).all())


def _assignments(plan: SeatPlan) -> list[SeatAssignment]:
    return list(db.session.scalars(select(SeatAssignment).where(SeatAssignment.plan_id == plan.id)))


def _touch(plan: SeatPlan) -> None:
    """Seats were written with bulk statements the ORM does not see: mark the plan changed and flush
    it, so whatever watches flushed seating rows (the service card's cache) learns of the change."""
    plan.updated_at = utcnow()
    db.session.flush()


# --- Assigning --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AssignOutcome:
    plan_id: int
    placed: int
    kept: int
    dropped: int
    unseated: list[dict]

    def as_dict(self) -> dict:
        return {"plan_id": self.plan_id, "placed": self.placed, "kept": self.kept, "dropped": self.dropped,
                "unseated": self.unseated}


def auto_assign(meeting: Meeting, plan: SeatPlan, *, actor: str, people: list[Person] | None = None) -> AssignOutcome:
    """Seat the meeting's roster on ``plan`` (locked for the run, so two runs of one plan queue):
    seats placed by hand stay; every other seat is given afresh by :func:`seat_assign.assign`; people
    no longer on the list lose their seat. :raise SeatingError: ``seat_taken`` if a concurrent hand
    placement took a seat this run gave (run again)."""
    require_editable(meeting)
    db.session.execute(select(SeatPlan.id).where(SeatPlan.id == plan.id).with_for_update())
    people = roster(meeting.id) if people is None else people
    on_list = {p.contact_id for p in people}
    geo = geometry(plan)
    pinned: dict[int, tuple[int, int]] = {}
    stale: list[int] = []
    dropped = 0
    for a in _assignments(plan):
        dropped += a.contact_id not in on_list
        if a.pinned and a.contact_id in on_list and geo.exists(a.row, a.seat) and (a.row, a.seat) not in geo.blocked:
            pinned[a.contact_id] = (a.row, a.seat)
        else:
            stale.append(a.id)
    result = sa_.assign(geo, people, pinned=pinned, rostrum_ids=list(plan.rostrum_people or ()))
    try:
        with db.session.begin_nested():
            if stale:
                db.session.execute(delete(SeatAssignment).where(SeatAssignment.id.in_(stale)))
            if result.placed:
                db.session.execute(insert(SeatAssignment), [
                    {"plan_id": plan.id, "row": p.row, "seat": p.pos, "contact_id": p.contact_id, "pinned": False}
                    for p in result.placed])
    except IntegrityError:
        raise SeatingError("seat_taken") from None
    _touch(plan)
    names = {p.contact_id: p for p in people}
    unseated = [{"contact_id": u.contact_id, "name": names[u.contact_id].name,
                 "unit": names[u.contact_id].unit_name, "group": names[u.contact_id].group or "",
                 "code": u.code, "message": u.message} for u in result.unseated]
    audit.record(actor, "seating.auto_assign", meeting_id=meeting.id, target=f"seat_plan:{plan.id}",
                 placed=len(result.placed), kept=len(pinned), unseated=len(unseated))
    return AssignOutcome(plan.id, len(result.placed), len(pinned), dropped, unseated)


def _invited(meeting: Meeting, contact_id: object) -> int:
    try:
        cid = int(str(contact_id))
    except (TypeError, ValueError):
        raise SeatingError("person_not_invited") from None
    if not 0 < cid < 2**31 or db.session.scalar(select(Invitee.id).where(
            Invitee.meeting_id == meeting.id, Invitee.contact_id == cid, Invitee.status == "approved")) is None:
        raise SeatingError("person_not_invited")
    return cid


def _seat(plan: SeatPlan, row: object, pos: object) -> tuple[int, int]:
    try:
        r, p = int(str(row)), int(str(pos))
    except (TypeError, ValueError):
        raise SeatingError("seat_invalid") from None
    geo = geometry(plan)
    if not geo.exists(r, p):
        raise SeatingError("seat_invalid")
    if (r, p) in geo.blocked:
        raise SeatingError("seat_blocked")
    return r, p


def move(meeting: Meeting, plan: SeatPlan, contact_id: object, row: object, pos: object, *, actor: str,
         occupant: object = "") -> dict:
    """Put a person on seat (row, pos) by hand (pinned: auto-assign keeps it).

    ``occupant`` is who the caller saw on that seat ("" or None: nobody). It must still be so, else
    ``seat_taken`` (someone placed a person there meanwhile: never overwritten unseen). When it names
    the person there, the two swap seats (the one moved had a seat) or the occupant goes back to the
    unseated (the one moved had none). One savepoint: all or nothing.

    :raise SeatingError: ``person_not_invited``, ``seat_invalid``, ``seat_blocked``, ``seat_taken``.
    """
    require_editable(meeting)
    cid = _invited(meeting, contact_id)
    r, p = _seat(plan, row, pos)
    geo = geometry(plan)
    groups = _groups(meeting)
    if not _may_sit(geo, r, p, groups.get(cid)):
        section = geo.section_of(r, p)
        raise SeatingError("seat_invalid", f"该座位属于“{section.group}”的分区" if section else None)
    mine = db.session.scalar(select(SeatAssignment).where(SeatAssignment.plan_id == plan.id,
                                                          SeatAssignment.contact_id == cid))
    there = db.session.scalar(select(SeatAssignment).where(SeatAssignment.plan_id == plan.id,
                                                           SeatAssignment.row == r, SeatAssignment.seat == p))
    if there is not None and there.contact_id == cid:
        there.pinned = True
        return {"contact_id": cid, "seat": seat_text(plan, r, p), "swapped_with": None}
    other = there.contact_id if there is not None else None
    expected = str(occupant).strip() if occupant is not None else ""
    if (str(other) if other is not None else "") != expected:
        raise SeatingError("seat_taken")
    if other is not None and mine is not None and not _may_sit(geo, mine.row, mine.seat, groups.get(other)):
        raise SeatingError("seat_invalid", "对方不能换到该分区的座位")
    old = (mine.row, mine.seat) if mine is not None else None
    try:
        with db.session.begin_nested():
            # Delete and insert again rather than update in place: the unique keys hold after every
            # statement, so a swap cannot pass through "two on one seat" even for a moment.
            ids = [a.id for a in (mine, there) if a is not None]
            if ids:
                db.session.execute(delete(SeatAssignment).where(SeatAssignment.id.in_(ids)))
            rows = [{"plan_id": plan.id, "row": r, "seat": p, "contact_id": cid, "pinned": True}]
            if other is not None and old is not None:
                rows.append({"plan_id": plan.id, "row": old[0], "seat": old[1], "contact_id": other, "pinned": True})
            db.session.execute(insert(SeatAssignment), rows)
    except IntegrityError:
        raise SeatingError("seat_taken") from None
    db.session.expire_all()
    _touch(plan)
    audit.record(actor, "seating.move", meeting_id=meeting.id, target=f"seat_plan:{plan.id}", contact_id=cid,
                 seat=[r, p], before=list(old) if old else None, swapped_with=other if old else None,
                 displaced=other if other is not None and old is None else None)
    return {"contact_id": cid, "seat": seat_text(plan, r, p), "swapped_with": other if old else None,
            "displaced": other if other is not None and old is None else None}


def swap(meeting: Meeting, plan: SeatPlan, a: object, b: object, *, actor: str) -> dict:
    """Two seated people exchange seats. :raise SeatingError: ``person_not_seated``…"""
    cid_b = _invited(meeting, b)
    seat_b = db.session.execute(select(SeatAssignment.row, SeatAssignment.seat).where(
        SeatAssignment.plan_id == plan.id, SeatAssignment.contact_id == cid_b)).first()
    cid_a = _invited(meeting, a)
    if seat_b is None or db.session.scalar(select(SeatAssignment.id).where(
            SeatAssignment.plan_id == plan.id, SeatAssignment.contact_id == cid_a)) is None:
        raise SeatingError("person_not_seated")
    return move(meeting, plan, cid_a, seat_b[0], seat_b[1], actor=actor, occupant=cid_b)


def unassign(meeting: Meeting, plan: SeatPlan, contact_id: object, *, actor: str) -> None:
    require_editable(meeting)
    cid = _invited(meeting, contact_id)
    gone = db.session.execute(delete(SeatAssignment).where(SeatAssignment.plan_id == plan.id,
                                                           SeatAssignment.contact_id == cid))
    if gone.rowcount == 0:
        raise SeatingError("person_not_seated")
    _touch(plan)
    audit.record(actor, "seating.unassign", meeting_id=meeting.id, target=f"seat_plan:{plan.id}", contact_id=cid)


def clear(meeting: Meeting, plan: SeatPlan, *, actor: str) -> int:
    require_editable(meeting)
    gone = db.session.execute(delete(SeatAssignment).where(SeatAssignment.plan_id == plan.id)).rowcount
    _touch(plan)
    audit.record(actor, "seating.clear", meeting_id=meeting.id, target=f"seat_plan:{plan.id}", removed=gone)
    return gone


# --- The seat on the card, and the plan as a grid -------------------------------------------------

def card_fields(meeting_id: int, contact_ids: Collection[int] | None = None) -> dict[int, dict[str, str]]:
    """contact id → {"seat": "3 排 12 号"} for everyone (or only ``contact_ids``) seated on the
    meeting's card plan: one query."""
    stmt = (select(SeatAssignment.contact_id, SeatAssignment.row, SeatAssignment.seat, SeatPlan.numbering,
                   SeatPlan.seats_per_row, SeatPlan.rostrum_seats)
            .join(SeatPlan, SeatPlan.id == SeatAssignment.plan_id)
            .where(SeatPlan.meeting_id == meeting_id, SeatPlan.on_card.is_(True)))
    if contact_ids is not None:
        stmt = stmt.where(SeatAssignment.contact_id.in_(list(contact_ids)))
    rows = db.session.execute(stmt).all()
    out: dict[int, dict[str, str]] = {}
    for cid, row, pos, numbering, seats, rostrum_seats in rows:
        number = sa_.seat_number(rostrum_seats if row < 0 else seats, numbering, pos)
        out[cid] = {"seat": f"主席台 {-row} 排 {number} 号" if row < 0 else f"{row} 排 {number} 号"}
    return out


@dataclass(frozen=True)
class Occupant:
    contact_id: int
    name: str
    unit: str
    group: str
    role: str
    pinned: bool


@dataclass(frozen=True)
class SeatView:
    row: int
    pos: int
    number: int
    label: str
    aisle_after: bool
    blocked: str | None
    section: str | None
    who: Occupant | None


@dataclass(frozen=True)
class PlanView:
    plan: SeatPlan
    rostrum: list[list[SeatView]]
    hall: list[list[SeatView]]
    unseated: list[dict]
    seated: int
    capacity: int


def plan_view(meeting: Meeting, plan: SeatPlan, people: list[Person] | None = None) -> PlanView:
    """The hall as rows of seats with who sits where, and the roster's people without a seat."""
    people = roster(meeting.id) if people is None else people
    by_id = {p.contact_id: p for p in people}
    geo = geometry(plan)
    blocked = {(b["row"], b["seat"]): BLOCK_REASONS.get(b.get("reason"), "预留") for b in plan.blocked or ()}
    seated: dict[tuple[int, int], Occupant] = {}
    names_missing = []
    assignments = db.session.execute(select(SeatAssignment.row, SeatAssignment.seat, SeatAssignment.contact_id,
                                            SeatAssignment.pinned).where(SeatAssignment.plan_id == plan.id)).all()
    for row, pos, cid, pinned in assignments:
        person = by_id.get(cid)
        if person is None:
            names_missing.append(cid)
            seated[(row, pos)] = Occupant(cid, "", "", "", "", pinned)
        else:
            seated[(row, pos)] = Occupant(cid, person.name, person.unit_name, person.group or "", person.role, pinned)
    if names_missing:  # seated but no longer on the list: still shown, so the organizer sees it
        names = dict(db.session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(names_missing))).all())
        for key, occ in list(seated.items()):
            if occ.contact_id in names and not occ.name:
                seated[key] = Occupant(occ.contact_id, names[occ.contact_id], "（已不在名单）", "", "", occ.pinned)

    def seat(row: int, pos: int) -> SeatView:
        section = geo.section_of(row, pos)
        return SeatView(row, pos, sa_.seat_number(geo.width(row), geo.numbering, pos), sa_.seat_label(geo, row, pos),
                        row > 0 and pos in geo.aisles, blocked.get((row, pos)), section.group if section else None,
                        seated.get((row, pos)))

    rostrum = [[seat(-r, p) for p in range(1, geo.rostrum_seats + 1)] for r in range(1, geo.rostrum_rows + 1)]
    hall = [[seat(r, p) for p in range(1, geo.seats_per_row + 1)] for r in range(1, geo.rows + 1)]
    seated_ids = {occ.contact_id for occ in seated.values()}
    unseated = [{"contact_id": p.contact_id, "name": p.name, "unit": p.unit_name, "group": p.group or "",
                 "role": p.role} for p in people if p.contact_id not in seated_ids]
    capacity = geo.rows * geo.seats_per_row + geo.rostrum_rows * geo.rostrum_seats - len(blocked)
    return PlanView(plan, rostrum, hall, unseated, len(seated), capacity)


def unseated_reasons(plan: SeatPlan, view: PlanView) -> list[dict]:
    """Why each unseated person has no seat, as auto-assign would answer now (without writing)."""
    if not view.unseated:
        return []
    geo = geometry(plan)
    groups = {s.group: s for s in geo.sections}
    free_open = sum(1 for row in view.hall for s in row
                    if s.who is None and s.blocked is None and s.section is None)
    free_in = {g: sum(1 for row in view.hall for s in row if s.who is None and s.blocked is None and s.section == g)
               for g in groups}
    out = []
    for person in view.unseated:
        group = person["group"]
        if group in groups:
            code = "section_full" if free_in[group] == 0 else "not_yet"
        else:
            code = "no_seat" if free_open == 0 else "not_yet"
        message = sa_.UNSEATED_MESSAGES.get(code, "尚未安排（可点击“自动排座”或手动安排）")
        out.append({**person, "code": code, "message": message})
    return out
