"""Lodging (issue 18): 1,000 registrants allocated into 500 rooms in one click.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_allocation [--people 1000] [--runs 5] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_lodging``, dropped afterwards unless ``--keep-db``),
   runs the migrations and seeds with bulk SQL: 30 units, ``people`` contacts, each an approved
   invitee with an approved registration asking for a room: genders mixed (3 % not given), every
   role, ranks 1–200, 40 delegations of 15 (the rest by unit), arrivals over three days, 2 %
   needing an accessible room; four hotels with 500 rooms: 30 单人间, 430 标准间 (20 accessible, one
   floor of a hotel for women only), 40 三人间 (1,010 beds).
2. Times, in this process: the pure allocation (``allocate.allocate`` on the roster, no database);
   one-click allocation as the console runs it (``lodging.run_allocation``: the meeting's lodging
   row and every room locked, the previous automatic assignments cleared, the roster read, the
   allocation, every assignment written, the audit row, the commit) on PostgreSQL; ``card_fields``
   (published) and the console page's data (``lodging.overview``); ``--runs`` times each.
3. Checks from the database: no room over its beds, no shared room with two genders or with
   someone of unknown gender, every accessible guest placed is in an accessible room.

Target (issue 18): 1,000 registrants into 500 rooms in under 2 s (the worst run, with the database).
"""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from scripts.bench import logistics_common as common
from scripts.bench.logistics_common import person_name as _name

TARGET_S = 2.0
DB_NAME = "huiyi_bench_lodging"
HOTELS = ["会议中心酒店", "迎宾馆", "新华饭店", "国际大酒店"]


@dataclass
class Report:
    people: int
    rooms: int
    beds: int
    runs: dict[str, list[float]]
    placed: int
    unplaced: dict[str, int]
    violations: list[str]
    machine: dict
    targets: dict = field(default_factory=dict)


def seed(app, people: int) -> int:
    from app.extensions import db
    from app.services.meetings.meetings import create_meeting
    from models import Hotel, Room, RoomType
    from models.registrations import Registration, RegistrationForm

    rng = random.Random(18)
    with app.app_context():
        ids = common.seed_directory(people, "LU")
        starts = datetime.now(UTC) + timedelta(days=2)
        meeting = create_meeting("ROOMBENCH", "市第十五届人民代表大会第三次会议", actor="bench", starts_at=starts,
                                 ends_at=starts + timedelta(hours=8), publish=True)
        groups = [f"第{i // 15 + 1}代表团" if i < 600 else None for i in range(people)]
        rng.shuffle(groups)
        common.invite(meeting.id, ids, groups)
        form = RegistrationForm(meeting_id=meeting.id, title="代表报名", role="代表")
        db.session.add(form)
        db.session.flush()
        db.session.execute(sa.insert(Registration), [
            {"meeting_id": meeting.id, "form_id": form.id, "batch": f"b{i}", "submitted_by": "bench",
             "status": "approved", "name": _name(i), "phone": f"139{i:08d}", "contact_id": c,
             "unit_name": "", "title": "", "diet": [], "answers": {}, "tags": [], "group_name": groups[i],
             "gender": None if rng.random() < 0.03 else rng.choice(["男", "男", "女"]), "rank": rng.randrange(1, 201),
             "arrival": date(2026, 12, 1) + timedelta(days=rng.randrange(3)), "departure": date(2026, 12, 5),
             "needs_room": True, "accessible": rng.random() < 0.02} for i, c in enumerate(ids)])
        room_rows = []
        for h, name in enumerate(HOTELS):
            hotel = Hotel(meeting_id=meeting.id, name=name, address=f"市府路 {h + 1} 号", phone="")
            db.session.add(hotel)
            db.session.flush()
            types = {}
            for type_name, beds in (("单人间", 1), ("标准间", 2), ("三人间", 3)):
                types[beds] = RoomType(hotel_id=hotel.id, name=type_name, beds=beds, price="", roles=[])
                db.session.add(types[beds])
            db.session.flush()
            for n in range(125):  # per hotel: 7-8 singles, 107-108 doubles, 10 triples
                index = h * 125 + n
                beds = 1 if index % 500 < 30 and n < 8 else 3 if n >= 115 else 2
                floor = 2 + n // 20
                room_rows.append({"meeting_id": meeting.id, "hotel_id": hotel.id, "type_id": types[beds].id,
                                  "number": f"{floor}{n % 20 + 1:02d}", "floor": floor,
                                  "gender": "女" if h == 1 and floor == 7 and beds == 2 else None,
                                  "accessible": beds == 2 and n % 25 == 10})
        db.session.execute(sa.insert(Room), room_rows)
        common.analyze()
        meeting_id = meeting.id
        db.session.remove()
    return meeting_id


def violations(meeting_id: int) -> list[str]:
    from app.extensions import db
    from app.services.logistics.people import roster
    from models import Room, RoomAssignment, RoomType

    people = {p.contact_id: p for p in roster(meeting_id)}
    rooms = {r.id: (r, beds) for r, beds in db.session.execute(
        sa.select(Room, RoomType.beds).join(RoomType, RoomType.id == Room.type_id).where(Room.meeting_id == meeting_id))}
    inside = defaultdict(list)
    for cid, room_id in db.session.execute(sa.select(RoomAssignment.contact_id, RoomAssignment.room_id)
                                           .where(RoomAssignment.meeting_id == meeting_id)):
        inside[room_id].append(people[cid])
    out = []
    for room_id, guests in inside.items():
        room, beds = rooms[room_id]
        if len(guests) > beds:
            out.append(f"room {room.number} over capacity")
        genders = {g.gender for g in guests}
        if len(guests) > 1 and (None in genders or len(genders) > 1):
            out.append(f"room {room.number} mixed")
        if room.gender and genders != {room.gender}:
            out.append(f"room {room.number} gender constraint")
        if any(g.accessible for g in guests) and not room.accessible:
            out.append(f"room {room.number} not accessible")
    return out


def time_all(app, meeting_id: int, runs: int) -> dict:
    from app.extensions import db
    from app.services.logistics import allocate, lodging
    from app.services.logistics.people import roster
    from models import LodgingState, Meeting

    out: dict = {"runs": {"pure allocation": [], "one-click allocation with the database": [], "card_fields": [],
                          "console page data (overview)": []}}
    with app.app_context():
        people = [p for p in roster(meeting_id) if p.needs_room]
        specs = lodging.room_specs(meeting_id)
        for _ in range(runs):
            t0 = time.perf_counter()
            result = allocate.allocate([lodging.guest_of(p) for p in people], specs)
            out["runs"]["pure allocation"].append(round(time.perf_counter() - t0, 4))
        for _ in range(runs):
            db.session.expunge_all()
            t0 = time.perf_counter()
            run = lodging.run_allocation(db.session.get(Meeting, meeting_id), actor="bench", acting=None)
            db.session.commit()
            out["runs"]["one-click allocation with the database"].append(round(time.perf_counter() - t0, 4))
        db.session.get(LodgingState, meeting_id).published_at = datetime.now(UTC)
        db.session.commit()
        for _ in range(runs):
            t0 = time.perf_counter()
            cards = lodging.card_fields(meeting_id)
            out["runs"]["card_fields"].append(round(time.perf_counter() - t0, 4))
        for _ in range(runs):
            db.session.expunge_all()
            t0 = time.perf_counter()
            lodging.overview(db.session.get(Meeting, meeting_id))
            out["runs"]["console page data (overview)"].append(round(time.perf_counter() - t0, 4))
        common.say_runs(out["runs"])
        out["placed"] = run.placed
        assert len(cards) == run.placed == len(result.placed)
        counts: dict[str, int] = defaultdict(int)
        for u in run.unplaced:
            counts[u["code"]] += 1
        out["unplaced"] = dict(counts)
        out["violations"] = violations(meeting_id)
        db.session.remove()
    return out


def run(people: int, runs: int, keep_db: bool) -> Report:
    mach = common.machine_info()
    with common.bench_app(DB_NAME, keep_db) as app:
        common.say(f"seeding {people} people and 500 rooms into {DB_NAME} …")
        meeting_id = seed(app, people)
        timed = time_all(app, meeting_id, runs)
    report = Report(people=people, rooms=500, beds=30 + 430 * 2 + 40 * 3, machine=mach, **timed)
    report.targets = {
        f"{people} registrants into 500 rooms < {TARGET_S:g} s (worst run, pure)":
            max(report.runs["pure allocation"]) < TARGET_S,
        f"{people} registrants into 500 rooms < {TARGET_S:g} s (worst run, with the database write and commit)":
            max(report.runs["one-click allocation with the database"]) < TARGET_S,
        "no room over capacity, no mixed or unknown-gender sharing, accessible guests in accessible rooms":
            not report.violations,
    }
    return report


def summary(r: Report) -> str:
    return common.summary_text(f"{r.people} people, {r.rooms} rooms, {r.beds} beds", r, 40,
                               f"  placed {r.placed}; unplaced by reason {r.unplaced}; violations {len(r.violations)}")


def main(argv: list[str] | None = None) -> int:
    return common.main(__doc__, run, summary, argv)


if __name__ == "__main__":
    sys.exit(main())
