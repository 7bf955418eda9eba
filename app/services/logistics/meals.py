"""Meals (用餐): sittings and their table plans, who sits where, what the kitchen must cook.

Sittings, tables and moves are checked here (stable codes, Chinese messages) and written by the
caller's unit of work. The automatic plan and moves go through :mod:`app.services.logistics.placing`
(never over a table's seats, under the sitting's row lock). The kitchen's numbers count the roster's
diet tags (清真, 素食 …) per sitting and per table; :func:`card_fields` gives the service card each
person's current or next meal and bus.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit, exports
from app.services.logistics import buses, packing, placing
from app.services.logistics.people import Person, roster
from app.services.logistics.placing import LogisticsError, clean_text, clean_time
from app.services.timeutil import local
from models import MealAssignment, MealSitting, MealTable, Meeting

KIND = placing.Kind(MealSitting, MealTable, MealAssignment, "sitting_id", "table_id", "餐桌", "meal",
                    packing.by_delegation, "sitting_not_found", "table_not_found", "starts_at")
#: The tags the kitchen reads first, in this order; any other tag follows by its name.
DIET_ORDER = ("清真", "素食", "无糖", "流食", "忌辣", "海鲜过敏")
#: The column for people without a tag.
PLAIN = "常规"
EXPORT_JOB = "meals_export"


def sittings_of(meeting: Meeting) -> list[MealSitting]:
    return list(db.session.scalars(select(MealSitting).where(MealSitting.meeting_id == meeting.id)
                                   .order_by(MealSitting.starts_at, MealSitting.id)))


def get_sitting(meeting: Meeting, sitting_id: object) -> MealSitting:
    return placing.get_parent(KIND, meeting, sitting_id)


def get_table(meeting: Meeting, table_id: object) -> MealTable:
    return placing.get_place(KIND, meeting, table_id)


def _sitting_values(form: dict) -> dict:
    starts = clean_time(form.get("day"), form.get("starts"), "开始时间")
    ends = clean_time(form.get("day"), form.get("ends"), "结束时间")
    if ends <= starts:
        raise LogisticsError("time_order")
    return {"name": clean_text(form.get("name"), "餐次名称", 16, required=True), "starts_at": starts,
            "ends_at": ends, "place": clean_text(form.get("place"), "用餐地点", 100),
            "notes": clean_text(form.get("notes"), "备注", 200)}


def save_sitting(meeting: Meeting, form: dict, *, actor: str, sitting: MealSitting | None = None) -> MealSitting:
    """Add a sitting (``sitting`` None) or change one, from a form's ``name``, ``day`` (2026-12-03),
    ``starts`` and ``ends`` (12:00), ``place``, ``notes``."""
    values = _sitting_values(form)
    if sitting is None:
        sitting = MealSitting(meeting_id=meeting.id)
        db.session.add(sitting)
    for key, value in values.items():
        setattr(sitting, key, value)
    db.session.flush()
    audit.record(actor, "meal.sitting_save", meeting_id=meeting.id, target=f"meal:{sitting.id}", name=sitting.name)
    return sitting


def delete_sitting(meeting: Meeting, sitting: MealSitting, *, actor: str) -> None:
    placing.remove(meeting, sitting, actor=actor, action="meal.sitting_delete", target=f"meal:{sitting.id}",
                   name=sitting.name)


def add_tables(meeting: Meeting, sitting: MealSitting, form: dict, *, actor: str) -> list[MealTable]:
    """``count`` tables of ``seats`` (numbered after the highest number), or one table named
    ``label`` (主桌); ``head`` makes them head tables, ``reserved_group`` reserves them."""
    count = placing.clean_int(form.get("count") or 1, "count_invalid", placing.MAX_BATCH)
    seats = placing.clean_int(form.get("seats"), "seats_invalid", placing.MAX_SEATS)
    label = clean_text(form.get("label"), "桌号", 16)
    reserved = placing.clean_group(meeting, form.get("reserved_group"))
    existing = [t.label for t in sitting.tables]
    labels = [label] if label and count == 1 else placing.next_labels(existing, count)
    if label and count > 1:
        raise LogisticsError("count_invalid", limit=1)
    taken = next((x for x in labels if x in existing), None)
    if taken:
        raise LogisticsError("label_taken", label=taken)
    head = placing.flag(form.get("head"))
    # Head tables go before the others: the plan fills them first, and the kitchen reads them first.
    position = (min((t.position for t in sitting.tables), default=0) - 1) if head else \
        max((t.position for t in sitting.tables), default=0) + 1
    tables = [MealTable(sitting_id=sitting.id, label=x, seats=seats, head=head, reserved_group=reserved,
                        position=position + (i if not head else -i)) for i, x in enumerate(labels)]
    db.session.add_all(tables)
    db.session.flush()
    db.session.expire(sitting, ["tables"])
    audit.record(actor, "meal.tables_add", meeting_id=meeting.id, target=f"meal:{sitting.id}", count=len(tables),
                 seats=seats, head=head, reserved=reserved)
    return tables


def update_table(meeting: Meeting, table: MealTable, form: dict, *, actor: str) -> MealTable:
    label = placing.check_label(KIND, table, form.get("label"), "桌号")
    seats = placing.check_seats(KIND, table, form.get("seats"))
    reserved = placing.clean_group(meeting, form.get("reserved_group"))
    table.label, table.seats, table.reserved_group = label, seats, reserved
    table.head = placing.flag(form.get("head"))
    db.session.flush()
    audit.record(actor, "meal.table_save", meeting_id=meeting.id, target=f"meal_table:{table.id}", label=label,
                 seats=seats)
    return table


def delete_table(meeting: Meeting, table: MealTable, *, actor: str) -> None:
    """The people at it go back to the unseated (the automatic plan seats them again)."""
    placing.remove(meeting, table, actor=actor, action="meal.table_delete", target=f"meal_table:{table.id}",
                   label=table.label)


def auto_assign(meeting: Meeting, sitting: MealSitting, *, actor: str, replace: bool = False,
                people: list[Person] | None = None) -> placing.AutoResult:
    return placing.auto_assign(KIND, meeting, sitting, actor=actor, replace=replace, people=people)


def move(meeting: Meeting, sitting: MealSitting, contact_id: object, table_id: object, *, actor: str) -> str:
    return placing.move(KIND, meeting, sitting, contact_id, table_id, actor=actor)


# -- the plan and the kitchen's numbers ------------------------------------------------------------

@dataclass
class TableView:
    table: MealTable | None
    people: list[Person] = field(default_factory=list)

    @cached_property
    def diet(self) -> Counter:
        return Counter(tag for person in self.people for tag in diet_tags(person))

    @property
    def label(self) -> str:
        return self.table.label if self.table is not None else "未安排桌位"


@dataclass
class SittingView:
    sitting: MealSitting
    tables: list[TableView]
    unseated: TableView
    #: The sitting's diet tags in the kitchen's order, then 常规 (no tag).
    tags: list[str]

    @property
    def total(self) -> Counter:
        out: Counter = Counter()
        for row in [*self.tables, self.unseated]:
            out.update(row.diet)
        return out

    @property
    def people(self) -> int:
        return sum(len(t.people) for t in self.tables) + len(self.unseated.people)

    @property
    def seats(self) -> int:
        return sum(t.table.seats for t in self.tables if t.table is not None)


def diet_tags(person: Person) -> tuple[str, ...]:
    return person.diet or (PLAIN,)


def _tag_order(tags) -> list[str]:
    known = [t for t in DIET_ORDER if t in tags]
    return known + sorted(t for t in tags if t not in DIET_ORDER and t != PLAIN) + [PLAIN]


def views(meeting: Meeting, sittings: list[MealSitting] | None = None,
          people: list[Person] | None = None) -> list[SittingView]:
    """Each sitting's tables with their people and diet counts (the roster read once, the
    assignments of every sitting in one query). Everyone on the roster who is there that day eats at
    every sitting: who has no table is counted as 未安排桌位, so the kitchen's total is everyone
    there (someone placed and then taken off the list, or away that day, is in no count)."""
    sittings = sittings_of(meeting) if sittings is None else sittings
    people = roster(meeting.id) if people is None else people
    at = placing.seat_map(KIND, sittings, people)
    tags = _tag_order({t for p in people for t in diet_tags(p)})
    out = []
    for sitting in sittings:
        here = at[sitting.id]
        out.append(SittingView(sitting, [TableView(t, here.get(t.id, [])) for t in sitting.tables],
                               TableView(None, here.get(None, [])), tags))
    return out


def export_xlsx(meeting: Meeting, *, progress=None) -> tuple[bytes, str]:
    """The kitchen's workbook: diet counts per sitting and table, then who sits at which table."""
    sitting_views = views(meeting)
    tags = sitting_views[0].tags if sitting_views else [PLAIN]
    counts, names = [], []
    for n, view in enumerate(sitting_views, start=1):
        s = view.sitting
        when = f"{local(s.starts_at):%Y-%m-%d %H:%M}–{local(s.ends_at):%H:%M}"
        for row in [*view.tables, view.unseated]:
            if row.table is None and not row.people:
                continue
            counts.append([s.name, when, s.place, row.label, row.table.seats if row.table else None,
                           len(row.people), *(row.diet.get(t, 0) for t in tags)])
            names.extend([s.name, when, row.label, i, p.name, p.unit_name, p.group or "", "、".join(p.diet)]
                         for i, p in enumerate(row.people, start=1))
        total = view.total
        counts.append([s.name, when, s.place, "合计", view.seats, view.people, *(total.get(t, 0) for t in tags)])
        if progress:
            progress(n, len(sitting_views))
    data = placing.write_sheets([
        ("用餐统计", ["餐次", "时间", "地点", "桌号", "座位数", "人数", *tags], counts),
        ("桌次名单", ["餐次", "时间", "桌号", "序号", "姓名", "单位", "分组", "饮食要求"], names),
    ])
    return data, f"{exports.safe_filename(meeting.title) or meeting.code}-用餐安排-{local(datetime.now(UTC)):%Y-%m-%d}.xlsx"


def submit_export(meeting: Meeting, *, actor: str, job_actor: str) -> int:
    return jobs.submit(EXPORT_JOB, export_job, meeting.id, actor, actor=job_actor, meeting_id=meeting.id)


def export_job(meeting_id: int, actor: str) -> dict:
    """The recorded job behind the console's 导出: the workbook kept in storage for the download."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise LogisticsError("sitting_not_found")
    jobs.report_progress(0, None, "正在统计用餐人数")
    data, name = export_xlsx(meeting, progress=lambda done, total: jobs.report_progress(done, total, "正在统计用餐人数"))
    audit.record(actor, "meal.export", meeting_id=meeting.id, file=name, job=jobs.current_job_id())
    return exports.stored(data, name)


# -- the service card ------------------------------------------------------------------------------

def timeline(meeting_id: int, *, after: datetime | None = None,
             contact_ids: Collection[int] | None = None) -> placing.Timeline:
    """contact_id → [(until, the card's meal fields)], each placed person's sittings in time order,
    ``until`` the sitting's end; only those not over at ``after`` when given. One query."""
    stmt = (select(MealAssignment.contact_id, MealSitting.name, MealSitting.place, MealSitting.starts_at,
                   MealSitting.ends_at, MealTable.label)
            .join(MealSitting, MealSitting.id == MealAssignment.sitting_id)
            .join(MealTable, MealTable.id == MealAssignment.table_id)
            .where(MealSitting.meeting_id == meeting_id)
            .order_by(MealSitting.ends_at, MealSitting.starts_at, MealSitting.id))
    if after is not None:
        stmt = stmt.where(MealSitting.ends_at > after)
    if contact_ids is not None:
        stmt = stmt.where(MealAssignment.contact_id.in_(list(contact_ids)))
    out: placing.Timeline = {}
    for contact_id, name, place, starts, ends, label in db.session.execute(stmt):
        out.setdefault(contact_id, []).append((ends, {"meal_name": name, "meal_place": place,
                                                      "meal_time": placing.when_cn(starts, ends), "meal_table": label}))
    return out


def card_timeline(meeting_id: int, contact_ids: Collection[int] | None = None) -> placing.Timeline:
    """Meals and buses as the card's allocation layer reads them (app/services/cards/allocated.py,
    ``TIMED_PROVIDERS``): contact_id → [(until, fields)] in time order, both kinds, for everyone or
    only ``contact_ids``. Two queries."""
    out = timeline(meeting_id, contact_ids=contact_ids)
    for contact_id, entries in buses.timeline(meeting_id, contact_ids=contact_ids).items():
        out[contact_id] = sorted([*out.get(contact_id, []), *entries], key=lambda e: e[0])
    return out


def card_fields(meeting_id: int, now: datetime, contact_ids: Collection[int] | None = None,
                ) -> dict[int, dict[str, str]]:
    """contact_id → the service card's meal and bus fields (app/services/cards/fields.py):
    ``meal_name``, ``meal_place``, ``meal_time``, ``meal_table`` of the person's current or next
    sitting (the first not over at ``now``), ``bus_route``, ``bus_time``, ``bus_car`` of their
    current or next route (the first not left more than ``buses.RIDING`` before ``now``). Only
    people with a table or a car are in it, with only the keys they have; values fit the card's
    limits. Two queries; ``contact_ids`` (one person at the door) narrows both."""
    out: dict[int, dict[str, str]] = {}
    for kind in (timeline(meeting_id, after=now, contact_ids=contact_ids),
                 buses.timeline(meeting_id, after=now, contact_ids=contact_ids)):
        for contact_id, entries in kind.items():
            out.setdefault(contact_id, {}).update(entries[0][1])
    return out
