"""Registration (issue 18): 20 unit offices register delegations of 50 (1,000 people), the organizer
approves all of them at once, lists and exports them.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_registration [--units 20] [--per-unit 50] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_registration``, dropped afterwards unless
   ``--keep-db``) and a temporary storage folder, runs the migrations; ``units`` units, each with
   half its delegation already in the directory (approval finds them) and half not (approval adds
   them to the meeting's 报名人员 unit); one code form with a cap, the standard fields and an ID number.
2. Times, in this process, through the services the doors call, each in its own unit of work
   (commit included): every office's batch (``submit.submit``: all fields checked, ID numbers
   encrypted and digested, the form row locked for the cap); the approval of every pending
   registration in one call (``decide.approve``: directory match or new contact, invitee, audit);
   the console list's first page with a filter; the xlsx export (``query.export_file``).
3. Checks: every person approved and invited, contacts added only for those not in the directory,
   no ID number in clear anywhere in the database's registrations or audit rows.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from scripts.bench.bench_callback import machine
from scripts.bench.bench_console import ADMIN_URL, _admin
from scripts.bench.logistics_common import TITLES, UNIT_NAMES, config
from scripts.bench.logistics_common import person_name as _name
from scripts.bench.logistics_common import say as _say

DB_NAME = "huiyi_bench_registration"
#: Targets of this bench (the issue sets none for registration): a batch of 50 answered well
#: within a second, a thousand approvals within the time a console request may take.
BATCH_TARGET_S = 1.0
APPROVE_TARGET_S = 5.0


@dataclass
class Report:
    people: int
    batches: list[float]
    approve_all_s: float
    list_page_s: float
    export_s: float
    export_kbytes: float
    approved: int
    invitees: int
    contacts_added: int
    clear_ids_found: int
    machine: dict
    targets: dict = field(default_factory=dict)


def _id_number(i: int) -> str:
    from app.services.registration import idnumbers

    body = f"110105{1960 + i % 40}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, idnumbers.WEIGHTS, strict=True))
    return body + idnumbers.CHECK_CHARS[total % 11]


def run(units: int, per_unit: int, keep_db: bool) -> Report:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app
    from app.services.meetings.meetings import create_meeting
    from app.services.registration import decide, forms, query
    from app.services.registration.fields import CATALOG, spec
    from app.services.registration.submit import Caller, submit
    from app.tx import unit_of_work
    from models import AuditLog, Contact, Invitee, Unit
    from models.registrations import Registration

    mach = machine(ADMIN_URL)
    mach["cores_allowed"] = len(os.sched_getaffinity(0))
    people = units * per_unit
    _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        with tempfile.TemporaryDirectory(prefix="huiyi-bench-registration-") as storage_dir:
            app = create_app(config(DB_NAME, storage_dir))
            with app.app_context():
                upgrade()
                _say(f"seeding {units} units, {people // 2} of the {people} people already in the directory …")
                unit_rows = db.session.execute(sa.insert(Unit).returning(Unit.id, Unit.code, sort_by_parameter_order=True), [
                    {"code": f"RU{u:02d}", "name": f"{UNIT_NAMES[u % len(UNIT_NAMES)]}第{u + 1}处", "aliases": []}
                    for u in range(units)]).all()
                db.session.execute(sa.insert(Contact), [
                    {"unit_id": unit_rows[i // per_unit][0], "name": _name(i), "phone": f"139{i:08d}", "tags": []}
                    for i in range(people) if i % 2 == 0])
                starts = datetime.now(UTC) + timedelta(days=7)
                meeting = create_meeting("REGBENCH", "全市经济工作会议", actor="bench", starts_at=starts,
                                         ends_at=starts + timedelta(hours=6), publish=True)
                fields = [spec(k, required=k in ("name", "phone", "gender", "id_number"))
                          for k in CATALOG if k not in ("photo", "unit")]
                form = forms.create_form(meeting, actor="bench", title="代表报名", invite_code="BENCH2026", cap=people,
                                         fields=fields, published=True)
                db.session.commit()
                meeting_id, form_id = meeting.id, form.id
                day = starts.date().isoformat()

            batches: list[float] = []
            for u, (_unit_id, unit_code) in enumerate(unit_rows):
                delegation = [{"name": _name(i), "phone": f"139{i:08d}", "title": TITLES[i % len(TITLES)],
                               "gender": "男女"[i % 2], "ethnicity": "汉族", "id_number": _id_number(i),
                               "arrival": day, "departure": day, "diet": ["清真"] if i % 17 == 0 else [],
                               "needs_room": "1", "group": f"第{u % 4 + 1}代表团"}
                              for i in range(u * per_unit, (u + 1) * per_unit)]
                with app.app_context():
                    t = time.perf_counter()
                    with unit_of_work():
                        m = db.session.get(type(meeting), meeting_id)
                        f = forms.get_form(m, form_id)
                        submit(m, f, delegation, caller=Caller(f"bench:office{u}"), invite_code="BENCH2026",
                               unit_code=unit_code)
                    batches.append(round(time.perf_counter() - t, 4))
                    db.session.remove()
            _say(f"{len(batches)} batches: {min(batches):.3f}–{max(batches):.3f} s; approving all …")
            with app.app_context():
                m = db.session.get(type(meeting), meeting_id)
                t = time.perf_counter()
                with unit_of_work():
                    decide.approve(m, decide.pending_ids(m), actor="bench")
                approve_s = time.perf_counter() - t
                db.session.remove()
                m = db.session.get(type(meeting), meeting_id)
                t = time.perf_counter()
                query.list_registrations(m, query.Filters.parse({"status": "approved", "diet": "清真"}))
                list_s = time.perf_counter() - t
                t = time.perf_counter()
                with unit_of_work():
                    data, _name_, _rows = query.export_file(m, query.Filters(), actor="bench")
                export_s = time.perf_counter() - t
                approved = db.session.scalar(sa.select(sa.func.count()).where(
                    Registration.meeting_id == meeting_id, Registration.status == "approved"))
                invitees = db.session.scalar(sa.select(sa.func.count()).where(Invitee.meeting_id == meeting_id))
                added = db.session.scalar(sa.select(sa.func.count()).select_from(Contact).join(
                    Unit, Unit.id == Contact.unit_id).where(Unit.registration_meeting_id == meeting_id))
                numbers = {_id_number(i) for i in range(people)}
                stored = " ".join(str(v) for row in db.session.execute(sa.select(Registration)).scalars()
                                  for v in (row.id_cipher, row.id_masked, row.id_digest, row.answers))
                stored += " ".join(json.dumps(d, ensure_ascii=False) for d in db.session.scalars(sa.select(AuditLog.data)))
                clear = sum(1 for n in numbers if n in stored)
                db.engine.dispose()
    finally:
        if not keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
    report = Report(people=people, batches=batches, approve_all_s=round(approve_s, 3), list_page_s=round(list_s, 4),
                    export_s=round(export_s, 3), export_kbytes=round(len(data) / 1024, 1), approved=approved,
                    invitees=invitees, contacts_added=added, clear_ids_found=clear, machine=mach)
    report.targets = {
        f"a batch of {per_unit} answered < {BATCH_TARGET_S:g} s (worst)": max(batches) < BATCH_TARGET_S,
        f"{people} approved in one call < {APPROVE_TARGET_S:g} s": approve_s < APPROVE_TARGET_S,
        "everyone approved and invited; contacts added only for those not in the directory":
            approved == invitees == people and added == people - (people + 1) // 2,
        "no ID number in clear in registrations or audit rows": clear == 0,
    }
    return report


def summary(r: Report) -> str:
    lines = [f"{r.people} people in {len(r.batches)} batches ({r.machine['nproc']} cores, "
             f"{r.machine['cores_allowed']} allowed, load {r.machine['loadavg']})",
             f"  batch submit           {min(r.batches):g}–{max(r.batches):g} s (median "
             f"{sorted(r.batches)[len(r.batches) // 2]:g})",
             f"  approve all            {r.approve_all_s:g} s",
             f"  list page (2 filters)  {r.list_page_s:g} s",
             f"  export xlsx            {r.export_s:g} s ({r.export_kbytes} KB)",
             f"  approved {r.approved}, invitees {r.invitees}, contacts added {r.contacts_added}, "
             f"clear ID numbers found {r.clear_ids_found}"]
    lines += [f"[{'ok' if ok else 'MISSED'}] {name}" for name, ok in r.targets.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=20)
    parser.add_argument("--per-unit", type=int, default=50)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args.units, args.per_unit, args.keep_db)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=1) if args.json else summary(report))
    return 0 if all(report.targets.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
