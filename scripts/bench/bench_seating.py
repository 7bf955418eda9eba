"""Seating (issue 18): 1,000 people seated in a hall of 1,110 seats, and its printed plan.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_seating [--people 1000] [--runs 5] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_seating``, dropped afterwards unless ``--keep-db``)
   and a temporary storage folder, runs the migrations and seeds with bulk SQL: 30 units, ``people``
   contacts with names drawn from about 2,800 hanzi, every role (about 1 in 17 领导), four delegations
   of 60 with sections of their own; a plan of 42 rows × 26 seats with two aisles, a rostrum of
   2 × 15, 单双号 numbering, 12 blocked seats.
2. Times, in this process: the pure assignment (``seat_assign.assign`` on the roster, no database);
   auto-assign as the console runs it (``seating.auto_assign``: the roster read, the previous seats
   cleared, every seat written, the audit row, the commit) on PostgreSQL; ``card_fields`` for the
   whole meeting; the plan's PDF and xlsx (``seating_print.export``), ``--runs`` times each.
3. Checks: everyone seated, no seat twice (the database's unique keys, counted back), every 50th
   name in the PDF's text (pdfium).

Target (issue 18): 1,000 seats assigned in under 1 s (the worst run, with the database write).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scripts.bench import logistics_common as common

TARGET_S = 1.0
DB_NAME = "huiyi_bench_seating"
DELEGATIONS = ["第一代表团", "第二代表团", "第三代表团", "第四代表团"]


@dataclass
class Report:
    people: int
    seats: int
    runs: dict[str, list[float]]
    placed: int
    unseated: int
    distinct_seats: int
    pdf_pages: int
    pdf_kbytes: float
    names_ok: bool
    machine: dict
    targets: dict = field(default_factory=dict)


def seed(app, people: int) -> tuple[int, int]:
    from app.extensions import db
    from app.services.logistics import seating
    from app.services.meetings.meetings import create_meeting

    with app.app_context():
        ids = common.seed_directory(people, "SU")
        starts = datetime.now(UTC) + timedelta(days=1)
        meeting = create_meeting("SEATBENCH", "市第十五届人民代表大会第三次会议", actor="bench", starts_at=starts,
                                 ends_at=starts + timedelta(hours=6), publish=True)
        common.invite(meeting.id, ids, [DELEGATIONS[i % 4] if i < 240 else None for i in range(people)])
        blocked = "，".join(f"{r}排{n}号 损坏" for r in (7, 19, 33) for n in (1, 2, 3, 4))
        sections = "\n".join(f"{g} {21 + 3 * k}-{23 + 3 * k} 1-26" for k, g in enumerate(DELEGATIONS))
        plan = seating.create_plan(meeting, {
            "name": "人民大会堂", "rows": "42", "seats_per_row": "26", "aisles": "6, 20", "numbering": "odd_right",
            "rostrum_rows": "2", "rostrum_seats": "15", "sections": sections, "blocked": blocked, "on_card": "1"},
            actor="bench")
        common.analyze()
        ids = meeting.id, plan.id
        db.session.remove()
    return ids


def time_all(app, meeting_id: int, plan_id: int, people: int, runs: int) -> dict:
    import pypdfium2 as pdfium

    from app.extensions import db
    from app.services.logistics import seat_assign, seating, seating_print
    from app.services.logistics.people import roster
    from models import Meeting, SeatAssignment

    out: dict = {"runs": {"pure assignment": [], "auto-assign with the database": [], "card_fields": [],
                          "PDF": [], "xlsx": []}}
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        plan = seating.get_plan(meeting, plan_id)
        people_list = roster(meeting_id)
        geo = seating.geometry(plan)
        for _ in range(runs):
            t0 = time.perf_counter()
            result = seat_assign.assign(geo, people_list, rostrum_ids=list(plan.rostrum_people or ()))
            out["runs"]["pure assignment"].append(round(time.perf_counter() - t0, 4))
        for _ in range(runs):
            db.session.expunge_all()
            t0 = time.perf_counter()
            meeting = db.session.get(Meeting, meeting_id)
            outcome = seating.auto_assign(meeting, seating.get_plan(meeting, plan_id), actor="bench")
            db.session.commit()
            out["runs"]["auto-assign with the database"].append(round(time.perf_counter() - t0, 4))
        for _ in range(runs):
            t0 = time.perf_counter()
            cards = seating.card_fields(meeting_id)
            out["runs"]["card_fields"].append(round(time.perf_counter() - t0, 4))
        meeting = db.session.get(Meeting, meeting_id)
        plan = seating.get_plan(meeting, plan_id)
        files = {}
        for fmt, label in (("pdf", "PDF"), ("xlsx", "xlsx")):
            for _ in range(runs):
                t0 = time.perf_counter()
                files[fmt] = seating_print.export(meeting, plan, fmt, actor="bench")
                db.session.commit()
                out["runs"][label].append(round(time.perf_counter() - t0, 3))
        common.say_runs(out["runs"])
        out["placed"] = outcome.placed + outcome.kept
        out["unseated"] = len(outcome.unseated)
        out["distinct_seats"] = db.session.scalar(sa.select(sa.func.count(sa.distinct(
            sa.tuple_(SeatAssignment.row, SeatAssignment.seat)))).where(SeatAssignment.plan_id == plan_id))
        doc = pdfium.PdfDocument(files["pdf"].data)
        text = "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc))).replace("\r\n", "")
        out["pdf_pages"], out["pdf_kbytes"] = len(doc), round(len(files["pdf"].data) / 1024, 1)
        seated = {p.contact_id for p in result.placed}
        names = [p.name for p in people_list if p.contact_id in seated][::50]
        out["names_ok"] = len(cards) == out["placed"] and all(n in text for n in names)
        doc.close()
        db.session.remove()
    return out


def run(people: int, runs: int, keep_db: bool) -> Report:
    mach = common.machine_info()
    with common.bench_app(DB_NAME, keep_db) as app:
        common.say(f"seeding {people} people into {DB_NAME} …")
        meeting_id, plan_id = seed(app, people)
        timed = time_all(app, meeting_id, plan_id, people, runs)
    report = Report(people=people, seats=42 * 26 + 2 * 15 - 12, machine=mach, **timed)
    report.targets = {
        f"{people} seats assigned < {TARGET_S:g} s (worst run, pure)": max(report.runs["pure assignment"]) < TARGET_S,
        f"{people} seats assigned < {TARGET_S:g} s (worst run, with the database write and commit)":
            max(report.runs["auto-assign with the database"]) < TARGET_S,
        "everyone seated, no seat twice, names in the PDF as text":
            report.unseated == 0 and report.placed == people == report.distinct_seats and report.names_ok,
    }
    return report


def summary(r: Report) -> str:
    return common.summary_text(f"{r.people} people, {r.seats} seats", r, 32,
                               f"  placed {r.placed}, unseated {r.unseated}, distinct seats {r.distinct_seats}; "
                               f"PDF {r.pdf_pages} pages, {r.pdf_kbytes} KB")


def main(argv: list[str] | None = None) -> int:
    return common.main(__doc__, run, summary, argv)


if __name__ == "__main__":
    sys.exit(main())
