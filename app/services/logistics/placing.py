"""What meals and buses share: their errors, how typed values are checked, and placing people in
a sitting's tables or a route's cars (by hand or by the automatic plan) without ever going over a
place's seats.

Every write to one sitting's (or route's) assignments first locks that sitting's row, so two
organizers moving people into the last seat of a table, or a move racing the automatic plan, take
turns: the count of who is at the table is read after the lock, and it is the truth.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from sqlalchemy import delete, func, insert, select

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.exports import is_dangerous
from app.services.logistics import packing
from app.services.logistics.people import Person, roster
from app.services.timeutil import local, parse_local
from models import Invitee, Meeting

#: Seats a table or car may have (a banquet table of 30 is the most anyone sets; a coach has 57).
MAX_SEATS = 80
#: Tables or cars added in one go.
MAX_BATCH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DAY = re.compile(r"\d{4}-\d{1,2}-\d{1,2}")
_HM = re.compile(r"\d{1,2}:\d{2}")
_PHONE = re.compile(r"[0-9+\-() 转]{3,32}")


#: contact_id → [(until, the card's fields)] in time order: a person's meals or buses, as the card's
#: allocation layer reads them (the first entry not over at ``now`` is shown).
Timeline = dict[int, list[tuple[datetime, dict[str, str]]]]


class LogisticsError(DomainError):
    messages = {
        "sitting_not_found": "找不到该餐次",
        "table_not_found": "找不到该餐桌",
        "route_not_found": "找不到该乘车路线",
        "car_not_found": "找不到该车辆",
        "text_required": "请填写{label}",
        "text_too_long": "{label}太长（最多 {limit} 个字）",
        "text_invalid": "{label}含有不能保存的字符",
        "day_invalid": "日期格式不正确，应如 2026-12-03",
        "time_invalid": "{label}格式不正确，应如 12:00",
        "time_order": "结束时间应晚于开始时间",
        "seats_invalid": "座位数应为 1 到 {limit} 的整数",
        "count_invalid": "数量应为 1 到 {limit} 的整数",
        "seats_below_taken": "“{label}”已安排 {taken} 人，座位数不能少于 {taken}",
        "label_taken": "已有“{label}”，请换一个名称",
        "group_unknown": "本次会议没有分组“{group}”",
        "place_full": "“{label}”已满（{seats} 座），请选择其他{word}",
        "person_not_invited": "该人员不在本次会议的参会名单中",
        "phone_invalid": "{label}“{value}”不是电话号码（只能含数字、-、+、括号）",
        "format_invalid": "导出格式只能是 xlsx",
        "output_invalid": "无法写入输出文件：{path}",
    }
    statuses = {"sitting_not_found": 404, "table_not_found": 404, "route_not_found": 404, "car_not_found": 404,
                "person_not_invited": 404, "place_full": 409, "label_taken": 409, "seats_below_taken": 409}


# -- typed values ----------------------------------------------------------------------------------

def clean_text(value: object, label: str, limit: int, *, required: bool = False) -> str:
    """A one-line text as stored: spaces collapsed, no control characters, at most ``limit``."""
    if value is not None and not isinstance(value, (str, int)):
        raise LogisticsError("text_invalid", label=label)
    text = "" if value is None else str(value)
    if _CONTROL.search(text.replace("\t", " ").replace("\r\n", " ").replace("\n", " ")):
        raise LogisticsError("text_invalid", label=label)
    text = " ".join(text.split())
    if required and not text:
        raise LogisticsError("text_required", label=label)
    if len(text) > limit:
        raise LogisticsError("text_too_long", label=label, limit=limit)
    return text


def clean_phone(value: object, label: str) -> str:
    text = clean_text(value, label, 32)
    if text and not _PHONE.fullmatch(text):
        raise LogisticsError("phone_invalid", label=label, value=text)
    return text


def clean_int(value: object, code: str, limit: int) -> int:
    """A whole number 1..limit (as typed in a form: "8"; never 8.5, "", "1e3" or True)."""
    if isinstance(value, bool):
        raise LogisticsError(code, limit=limit)
    text = str(value).strip() if isinstance(value, (str, int)) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 4 or not 1 <= int(text) <= limit:
        raise LogisticsError(code, limit=limit)
    return int(text)


def clean_time(day: object, hm: object, label: str) -> datetime:
    """``day`` (2026-12-03) and ``hm`` (12:00), China time, as aware UTC."""
    day_text = clean_text(day, "日期", 10, required=True)
    hm_text = clean_text(hm, label, 5, required=True)
    if not _DAY.fullmatch(day_text):
        raise LogisticsError("day_invalid")
    if not _HM.fullmatch(hm_text):
        raise LogisticsError("time_invalid", label=label)
    at = parse_local(f"{day_text} {hm_text.zfill(5)}")
    if at is None:
        raise LogisticsError("day_invalid" if parse_local(f"{day_text} 00:00") is None else "time_invalid",
                             label=label)
    return at


def clean_group(meeting: Meeting, value: object) -> str | None:
    """A delegation of the meeting (``Invitee.group_name``), or None for none."""
    group = clean_text(value, "预留分组", 64)
    if not group:
        return None
    known = db.session.scalar(select(func.count()).select_from(Invitee).where(
        Invitee.meeting_id == meeting.id, Invitee.group_name == group))
    if not known:
        raise LogisticsError("group_unknown", group=group)
    return group


def flag(value: object) -> bool:
    return str(value or "").strip().lower() in ("1", "on", "true", "yes")


# -- placing ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """Meals or buses: the models and the words that differ."""

    parent: type      # MealSitting | BusRoute
    place: type       # MealTable | BusCar
    assignment: type  # MealAssignment | BusAssignment
    parent_key: str   # "sitting_id" | "route_id"
    place_key: str    # "table_id" | "car_id"
    word: str         # 餐桌 | 车辆
    audit: str        # meal | bus
    together: object  # packing.by_delegation | packing.by_unit
    parent_error: str  # sitting_not_found | route_not_found
    place_error: str  # table_not_found | car_not_found
    when: str         # the parent's time: "starts_at" | "departs_at"


@dataclass(frozen=True)
class AutoResult:
    placed: int
    kept: int
    unplaced: list[packing.Unplaced]

    def as_dict(self) -> dict:
        return {"placed": self.placed, "kept": self.kept,
                "unplaced": [{"contact_id": u.contact_id, "name": u.name, "unit": u.unit_name, "code": u.code,
                              "message": u.reason} for u in self.unplaced]}


def present(kind: Kind, parent, people: Sequence[Person]) -> list[Person]:
    """Those of ``people`` who are there on the day of the sitting or route: arrived by then and not
    yet gone (a registration's dates, both days included; no date is no limit). The kitchen does
    not cook for someone who arrives tomorrow, and the plan does not seat them."""
    day = local(getattr(parent, kind.when)).date()
    return [p for p in people if (p.arrival is None or p.arrival <= day) and (p.departure is None or day <= p.departure)]


def lock(kind: Kind, parent_id: int) -> None:
    """Take the parent's row lock for the rest of the transaction (see the module's note)."""
    db.session.execute(select(kind.parent.id).where(kind.parent.id == parent_id).with_for_update())


def taken(kind: Kind, parent_id: int) -> dict[int, int]:
    """People per place of one sitting or route."""
    a = kind.assignment
    place_col = getattr(a, kind.place_key)
    return dict(db.session.execute(select(place_col, func.count()).where(getattr(a, kind.parent_key) == parent_id)
                                   .group_by(place_col)).all())


def placed(kind: Kind, parent_id: int) -> dict[int, int]:
    """contact_id → place id, for one sitting or route."""
    a = kind.assignment
    return dict(db.session.execute(select(a.contact_id, getattr(a, kind.place_key))
                                   .where(getattr(a, kind.parent_key) == parent_id)).all())


def check_seats(kind: Kind, place, seats: object) -> int:
    """A new seat count for ``place``: never fewer than the people already there."""
    count = clean_int(seats, "seats_invalid", MAX_SEATS)
    if place.id is not None:
        lock(kind, getattr(place, kind.parent_key))
        here = taken(kind, getattr(place, kind.parent_key)).get(place.id, 0)
        if count < here:
            raise LogisticsError("seats_below_taken", label=place.label, taken=here)
    return count


def auto_assign(kind: Kind, meeting: Meeting, parent, *, actor: str, replace: bool = False,
                people: list[Person] | None = None) -> AutoResult:
    """The automatic plan for one sitting or route: everyone on the roster not placed yet (everyone,
    with ``replace``) into the free seats, by :func:`packing.pack`."""
    lock(kind, parent.id)
    a = kind.assignment
    if replace:
        db.session.execute(delete(a).where(getattr(a, kind.parent_key) == parent.id))
    people = present(kind, parent, roster(meeting.id) if people is None else people)
    invited = {p.contact_id for p in people}
    before = placed(kind, parent.id)
    # Someone taken off the list (or away that day) gives their seat back to the plan.
    gone = [cid for cid in before if cid not in invited]
    if gone:
        db.session.execute(delete(a).where(getattr(a, kind.parent_key) == parent.id, a.contact_id.in_(gone)))
        before = {cid: place for cid, place in before.items() if cid in invited}
    kept = len(before)
    counts = taken(kind, parent.id)
    places = [packing.Place(p.id, p.label, p.seats, counts.get(p.id, 0), bool(getattr(p, "head", False)),
                            getattr(p, "reserved_group", None)) for p in parent_places(kind, parent.id)]
    plan = packing.pack([p for p in people if p.contact_id not in before], places, together=kind.together,
                        where=kind.word)
    if plan.placed:  # one multi-row INSERT: a thousand ORM objects cost more than the plan itself
        db.session.execute(insert(a), [{kind.parent_key: parent.id, kind.place_key: place_id,
                                        "contact_id": contact_id, "assigned_by": "auto"}
                                       for contact_id, place_id in plan.placed.items()])
    audit.record(actor, f"{kind.audit}.auto_assign", meeting_id=meeting.id, target=f"{kind.audit}:{parent.id}",
                 placed=len(plan.placed), kept=kept, unplaced=len(plan.unplaced), replace=replace)
    return AutoResult(len(plan.placed), kept, plan.unplaced)


def parent_places(kind: Kind, parent_id: int) -> list:
    p = kind.place
    return list(db.session.scalars(select(p).where(getattr(p, kind.parent_key) == parent_id)
                                   .order_by(p.position, p.id)))


def move(kind: Kind, meeting: Meeting, parent, contact_id: object, place_id: object, *, actor: str) -> str:
    """Put one person at ``place_id`` (or take them off the plan: ``place_id`` empty); their name."""
    cid = _id(contact_id, "person_not_invited")
    invited = db.session.scalar(select(Invitee.contact_id).where(
        Invitee.meeting_id == meeting.id, Invitee.contact_id == cid, Invitee.status == "approved"))
    if invited is None:
        raise LogisticsError("person_not_invited")
    target = None
    if str(place_id or "").strip():
        target = _place_of(kind, parent.id, place_id)
    lock(kind, parent.id)
    a = kind.assignment
    row = db.session.scalar(select(a).where(getattr(a, kind.parent_key) == parent.id, a.contact_id == cid))
    if target is None:
        if row is not None:
            db.session.delete(row)
    elif row is None or getattr(row, kind.place_key) != target.id:
        if taken(kind, parent.id).get(target.id, 0) >= target.seats:
            raise LogisticsError("place_full", label=target.label, seats=target.seats, word=kind.word)
        if row is None:
            db.session.add(a(**{kind.parent_key: parent.id, kind.place_key: target.id, "contact_id": cid,
                                "assigned_by": actor}))
        else:
            setattr(row, kind.place_key, target.id)
            row.assigned_by = actor
    db.session.flush()
    audit.record(actor, f"{kind.audit}.move", meeting_id=meeting.id, target=f"contact:{cid}",
                 parent=parent.id, place=target.id if target else None)
    return target.label if target else ""


def _place_of(kind: Kind, parent_id: int, place_id: object):
    place = db.session.get(kind.place, _id(place_id, kind.place_error))
    if place is None or getattr(place, kind.parent_key) != parent_id:
        raise LogisticsError(kind.place_error)
    return place


def seat_map(kind: Kind, parents: Sequence, people: Sequence[Person]) -> dict[int, dict[int | None, list[Person]]]:
    """parent id → place id → the people there that day, in roster order; ``None`` holds who has no
    place. Every parent's assignments in one query."""
    a = kind.assignment
    parent_col, place_col = getattr(a, kind.parent_key), getattr(a, kind.place_key)
    at: dict[int, dict[int, int]] = {}
    for parent_id, place_id, contact_id in db.session.execute(
            select(parent_col, place_col, a.contact_id).where(parent_col.in_([p.id for p in parents]))):
        at.setdefault(parent_id, {})[contact_id] = place_id
    out: dict[int, dict[int | None, list[Person]]] = {}
    for parent in parents:
        seats, here = at.get(parent.id, {}), out.setdefault(parent.id, {})
        for person in present(kind, parent, people):
            here.setdefault(seats.get(person.contact_id), []).append(person)
    return out


def check_label(kind: Kind, place, label: object, word: str) -> str:
    """A table's or car's new name, unique within its sitting or route."""
    text = clean_text(label, word, 16, required=True)
    p = kind.place
    if text != place.label and db.session.scalar(select(p.id).where(
            getattr(p, kind.parent_key) == getattr(place, kind.parent_key), p.label == text)):
        raise LogisticsError("label_taken", label=text)
    return text


def remove(meeting: Meeting, obj, *, actor: str, action: str, target: str, **data) -> None:
    """Delete a sitting, route, table or car (their assignments go with them), in the audit log."""
    audit.record(actor, action, meeting_id=meeting.id, target=target, **data)
    db.session.delete(obj)
    db.session.flush()


def _id(value: object, code: str) -> int:
    """An id as a form sends it; anything else (or past what a column holds) is not found."""
    text = str(value or "").strip()
    if not text.isascii() or not text.isdigit() or not 0 < int(text[:12]) < 2**31:
        raise LogisticsError(code)
    return int(text)


def get_parent(kind: Kind, meeting: Meeting, parent_id: object):
    """A sitting or route of this meeting (another meeting's is not found)."""
    parent = db.session.get(kind.parent, _id(parent_id, kind.parent_error))
    if parent is None or parent.meeting_id != meeting.id:
        raise LogisticsError(kind.parent_error)
    return parent


def get_place(kind: Kind, meeting: Meeting, place_id: object):
    """A table or car of this meeting's sittings or routes."""
    place = db.session.get(kind.place, _id(place_id, kind.place_error))
    if place is None or db.session.get(kind.parent, getattr(place, kind.parent_key)).meeting_id != meeting.id:
        raise LogisticsError(kind.place_error)
    return place


def next_labels(existing: list[str], count: int, suffix: str = "") -> list[str]:
    """``count`` new numbered labels after the highest number already used ("1", "2" … or "3 号车")."""
    numbers = [int(m.group()) for label in existing if (m := re.match(r"\d+", label))]
    start = max(numbers, default=0) + 1
    return [f"{n}{suffix}" for n in range(start, start + count)]


def write_sheets(sheets: Sequence[tuple[str, Sequence[str], Sequence[Sequence[object]]]]) -> bytes:
    """An xlsx of several sheets (title, headers, rows), each with a bold header row. Text is always
    text, with Excel's quote prefix where a spreadsheet would take it for a formula (as
    app/services/exports.py does for one sheet)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for r, row in enumerate([headers, *rows], start=1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                if isinstance(value, str):
                    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
                    cell.data_type = "s"
                    cell.quotePrefix = is_dangerous(value)
                else:
                    cell.value = value
                if r == 1:
                    cell.font = Font(bold=True)
        for c, header in enumerate(headers, start=1):
            ws.column_dimensions[ws.cell(1, c).column_letter].width = max(8, min(30, len(str(header)) * 2 + 6))
        ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def when_cn(starts: datetime, ends: datetime | None = None) -> str:
    """"12月3日 12:00–13:00" or "12月3日 07:30" (China time), as the service card shows a time."""
    s = local(starts)
    text = f"{s.month}月{s.day}日 {s:%H:%M}"
    return f"{text}–{local(ends):%H:%M}" if ends is not None else text
