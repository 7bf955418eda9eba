"""Meals and buses (issue 18): 1,000 people at tables and in cars, the kitchen's counts, the card.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_meals [--people 1000] [--runs 5] [--keep-db] [--json]

1. A database of its own (``huiyi_bench_meals``, dropped afterwards unless ``--keep-db``), seeded as
   the seating bench seeds it (30 units, every role, four delegations of 60), then two sittings
   (午餐: a head table of 12 and 100 tables of 10; 晚餐: 110 tables of 10) and a route of 25 cars
   of 45 seats.
2. Times, in this process: the pure plan (``packing.pack``, no database); the automatic plan as the
   console runs it (``meals.auto_assign`` with ``replace``: the roster read, the sitting locked, the
   old rows deleted, every row written, the audit row, the commit), the same for a route; the page's
   views with diet counts for every sitting; the kitchen's xlsx; ``card_fields`` for the whole
   meeting and for one person; ``--runs`` times each.
3. Checks: nobody over a table's or car's seats (counted back from the database), everyone placed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from scripts.bench import logistics_common as common
from scripts.bench.bench_seating import seed as seed_people

DB_NAME = "huiyi_bench_meals"
#: Our own targets (the issue sets none for meals): a click's answer, and a door reply's share.
TARGET_ASSIGN_S = 1.0
TARGET_CARD_ONE_S = 0.01


@dataclass
class Report:
    people: int
    runs: dict[str, list[float]]
    placed_meals: int
    placed_bus: int
    over_capacity: int
    xlsx_kbytes: float
    machine: dict
    targets: dict = field(default_factory=dict)


def seed(app, people: int) -> int:
    from app.extensions import db
    from app.services.logistics import buses, meals
    from models import Meeting

    meeting_id, _plan_id = seed_people(app, people)
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        lunch = meals.save_sitting(m, {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00",
                                       "place": "2 楼宴会厅"}, actor="bench")
        meals.add_tables(m, lunch, {"label": "主桌", "seats": "12", "head": "1"}, actor="bench")
        meals.add_tables(m, lunch, {"count": "100", "seats": "10"}, actor="bench")
        dinner = meals.save_sitting(m, {"name": "晚餐", "day": "2026-12-03", "starts": "18:00", "ends": "19:30",
                                        "place": "1 楼餐厅"}, actor="bench")
        meals.add_tables(m, dinner, {"count": "110", "seats": "10"}, actor="bench")
        route = buses.save_route(m, {"name": "酒店—会场", "day": "2026-12-03", "departs": "07:30"}, actor="bench")
        buses.add_cars(m, route, {"count": "25", "seats": "45"}, actor="bench")
        db.session.commit()
        db.session.remove()
    return meeting_id


def time_all(app, meeting_id: int, runs: int) -> dict:
    from app.extensions import db
    from app.services.logistics import buses, meals, packing
    from app.services.logistics.people import roster
    from models import BusAssignment, BusCar, MealAssignment, MealTable, Meeting

    labels = ["pure plan (tables)", "auto-assign a sitting, with the database", "auto-assign a route, with the database",
              "page views with diet counts", "kitchen xlsx", "card_fields, whole meeting", "card_fields, one person"]
    out: dict = {"runs": {label: [] for label in labels}}
    now = datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    with app.app_context():
        m = db.session.get(Meeting, meeting_id)
        lunch, _dinner = meals.sittings_of(m)
        (route,) = buses.routes_of(m)
        people = roster(meeting_id)
        places = [packing.Place(t.id, t.label, t.seats, 0, t.head, t.reserved_group) for t in lunch.tables]
        for _ in range(runs):
            common.timed(out["runs"][labels[0]], lambda: packing.pack(people, places, together=packing.by_delegation))
        for _ in range(runs):
            for sitting in meals.sittings_of(m):
                common.timed(out["runs"][labels[1]], lambda s=sitting: (
                    meals.auto_assign(m, s, actor="bench", replace=True), db.session.commit()))
            common.timed(out["runs"][labels[2]], lambda: (
                buses.auto_assign(m, route, actor="bench", replace=True), db.session.commit()))
        for _ in range(runs):
            common.timed(out["runs"][labels[3]], lambda: meals.views(m))
            data, _name = common.timed(out["runs"][labels[4]], lambda: meals.export_xlsx(m))
            cards = common.timed(out["runs"][labels[5]], lambda: meals.card_fields(meeting_id, now))
            common.timed(out["runs"][labels[6]], lambda: meals.card_fields(meeting_id, now, [people[500].contact_id]))
        common.say_runs(out["runs"])
        over = 0
        for place, assignment, key in ((MealTable, MealAssignment, "table_id"), (BusCar, BusAssignment, "car_id")):
            over += db.session.scalar(sa.select(sa.func.count()).select_from(
                sa.select(place.id).join(assignment, getattr(assignment, key) == place.id)
                .group_by(place.id, place.seats).having(sa.func.count() > place.seats).subquery()))
        out["over_capacity"] = over
        out["placed_meals"] = db.session.scalar(sa.select(sa.func.count()).select_from(MealAssignment))
        out["placed_bus"] = db.session.scalar(sa.select(sa.func.count()).select_from(BusAssignment))
        out["xlsx_kbytes"] = round(len(data) / 1024, 1)
        assert len(cards) == len(people)
        db.session.remove()
    return out


def run(people: int, runs: int, keep_db: bool) -> Report:
    mach = common.machine_info()
    with common.bench_app(DB_NAME, keep_db) as app:
        common.say(f"seeding {people} people into {DB_NAME} …")
        timed = time_all(app, seed(app, people), runs)
    report = Report(people=people, machine=mach, **timed)
    report.targets = {
        f"a sitting or route of {people} planned < {TARGET_ASSIGN_S:g} s (worst run, with the write and commit)":
            max(report.runs["auto-assign a sitting, with the database"]
                + report.runs["auto-assign a route, with the database"]) < TARGET_ASSIGN_S,
        f"one person's card fields < {TARGET_CARD_ONE_S * 1000:g} ms (median run: two indexed queries)":
            sorted(report.runs["card_fields, one person"])[len(report.runs["card_fields, one person"]) // 2]
            < TARGET_CARD_ONE_S,
        "nobody over a table's or car's seats, everyone placed":
            report.over_capacity == 0 and report.placed_meals == 2 * people and report.placed_bus == people,
    }
    return report


def summary(r: Report) -> str:
    return common.summary_text(f"{r.people} people", r, 42,
                               f"  placed at tables {r.placed_meals}, in cars {r.placed_bus}, "
                               f"over capacity {r.over_capacity}; xlsx {r.xlsx_kbytes} KB")


def main(argv: list[str] | None = None) -> int:
    return common.main(__doc__, run, summary, argv)


if __name__ == "__main__":
    sys.exit(main())
