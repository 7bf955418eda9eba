"""Attendance across meetings (考勤) over 100 meetings x 1,000 people: the service and the page.

    .venv/bin/python -m scripts.bench.bench_attendance [--meetings 100] [--people 1000] [--n 5]
        [--keep-db] [--explain] [--json]

1. Creates a database of its own (``huiyi_bench_attendance``, dropped afterwards unless
   ``--keep-db``), runs the migrations and seeds with bulk SQL: 20 units of ``people / 20`` active
   people each, ``meetings`` published meetings over the last 100 days, all held and over, of one
   organizing unit, each inviting every person (``meetings x people`` invitee rows; every fifth
   meeting has two sessions); per meeting 85% signed in (a tenth of them late, some to the second
   session only), 3% on leave, 1% of the sign-ins revoked; 70% of people bound to WeChat.
   Redis: the app's embedded stand-in (attendance reads none).
2. Times, ``--n`` times each (min / median / max): the service for the organizer (the one
   visibility rule over their meetings), for a system administrator (every meeting) and for one
   unit; the console page ``/admin/attendance`` as the organizer (people, sorted by rate; the units
   view) and the unit office's ``/units/attendance``, in process through Flask's test client (the
   server's work, no socket); the xlsx export of the 1,000 people, and the PDF.
3. Checks the service's total against a plain count of the seeded rows.

Target (issue 16): attendance over 100 meetings x 1,000 people in under 2 s (the service and the
page). Exit status 1 if a total is wrong or a page does not answer 200.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
TARGET_S = 2.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"
PASSWORD = "bench-password-0123"


@dataclass
class Timing:
    name: str
    n: int
    min_s: float
    median_s: float
    max_s: float
    status: int | None = None
    bytes: int | None = None


@dataclass
class Report:
    meetings: int
    people: int
    invitee_rows: int
    signin_rows: int
    seed_s: float
    timings: list[Timing] = field(default_factory=list)
    checks: dict = field(default_factory=dict)
    machine: str = ""


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)]


def make_app(db_name: str):
    from app.factory import create_app

    return create_app({"DATABASE_URL": DB_URL.format(name=db_name), "SECRET_KEY": "bench-" + "k" * 40,
                       "WTF_CSRF_ENABLED": False, "PUBLIC_BASE_URL": "http://bench.test"})


def seed(app, meetings: int, people: int) -> dict:
    """The directory, the meetings, their invitees, sign-ins and leaves, in bulk statements."""
    from flask_migrate import upgrade

    from app.extensions import db
    from app.services.contacts.units import add_unit_account
    from models import (
        Contact,
        Invitee,
        Leave,
        Meeting,
        MeetingSession,
        SignIn,
        SystemAdmin,
        Unit,
        UnitOrganizer,
        WechatIdentity,
    )

    with app.app_context():
        upgrade()
        units = db.session.execute(sa.insert(Unit).returning(Unit.id, sort_by_parameter_order=True), [
            {"code": f"KQ{u:02d}", "name": f"考勤压测单位{u:02d}局", "aliases": []} for u in range(21)]).scalars().all()
        org, member_units = units[0], units[1:]
        contacts = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
            {"unit_id": member_units[i % len(member_units)], "name": _name(i), "phone": f"139{i:08d}",
             "title": "科员" if i % 5 else "科长", "tags": []} for i in range(people)]).scalars().all()
        organizer, admin = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
            {"unit_id": org, "name": "考勤主办", "phone": "13700000001", "tags": []},
            {"unit_id": org, "name": "系统管理员", "phone": "13700000002", "tags": []}]).scalars().all()
        db.session.execute(sa.insert(UnitOrganizer), [{"unit_id": org, "contact_id": organizer}])
        db.session.execute(sa.insert(SystemAdmin), [{"contact_id": admin}])
        now = datetime.now(UTC)
        ids = db.session.execute(sa.insert(WechatIdentity).returning(WechatIdentity.id, sort_by_parameter_order=True), [
            {"oa_openid": "o_kq_organizer", "contact_id": organizer, "bound_at": now},
            {"oa_openid": "o_kq_admin", "contact_id": admin, "bound_at": now}]).scalars().all()
        db.session.execute(sa.insert(WechatIdentity), [
            {"oa_openid": f"o_kq_{c}", "contact_id": c, "bound_at": now} for i, c in enumerate(contacts) if i % 10 < 7])
        first_day = now - timedelta(days=100)
        meeting_ids = db.session.execute(sa.insert(Meeting).returning(Meeting.id, sort_by_parameter_order=True), [
            {"code": f"KQM{m:04d}", "title": f"考勤压测会议第{m + 1}次", "intro": "", "venue": "", "agenda": [],
             "starts_at": first_day + timedelta(days=m * 0.95), "ends_at": first_day + timedelta(days=m * 0.95, hours=3),
             "admission": "invitees", "state": "closed" if m % 3 == 0 else "published", "unit_id": org}
            for m in range(meetings)]).scalars().all()
        sessions: dict[int, list[int]] = {}
        for m, mid in enumerate(meeting_ids):
            starts = first_day + timedelta(days=m * 0.95)
            rows = [{"meeting_id": mid, "position": 1, "title": "上午", "starts_at": starts,
                     "ends_at": starts + timedelta(hours=3), "signin_opens_at": starts - timedelta(hours=1),
                     "signin_closes_at": starts + timedelta(hours=3)}]
            if m % 5 == 0:
                rows.append({**rows[0], "position": 2, "title": "下午", "starts_at": starts + timedelta(hours=2)})
            sessions[mid] = db.session.execute(sa.insert(MeetingSession).returning(
                MeetingSession.id, sort_by_parameter_order=True), rows).scalars().all()
        invitees, signins, leaves = [], [], []
        for m, mid in enumerate(meeting_ids):
            starts = first_day + timedelta(days=m * 0.95)
            for i, c in enumerate(contacts):
                invitees.append({"meeting_id": mid, "contact_id": c, "role": "代表", "status": "approved"})
                k = (i * 31 + m * 17) % 100
                if k < 85:
                    second = len(sessions[mid]) > 1 and k % 7 == 0
                    late = k % 10 == 0
                    signins.append({
                        "meeting_id": mid, "session_id": sessions[mid][1 if second else 0], "contact_id": c,
                        "method": "scan", "late": late, "signed_at": starts + timedelta(minutes=20 if late else -5),
                        "revoked_at": now if k == 42 else None})
                elif k < 88:
                    leaves.append({"meeting_id": mid, "contact_id": c, "reason": "出差", "approver": "办公室",
                                   "recorded_by": "bench"})
        for chunk in range(0, len(invitees), 20_000):
            db.session.execute(sa.insert(Invitee), invitees[chunk:chunk + 20_000])
        for chunk in range(0, len(signins), 20_000):
            db.session.execute(sa.insert(SignIn), signins[chunk:chunk + 20_000])
        db.session.execute(sa.insert(Leave), leaves)
        office_unit = db.session.get(Unit, member_units[0])
        account = add_unit_account(office_unit, "kq_office", PASSWORD, actor="bench")
        db.session.commit()  # the sign-ins take their order numbers here (the deferred trigger)
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        out = {"organizer": organizer, "admin": admin, "organizer_identity": ids[0], "admin_identity": ids[1],
               "unit_code": office_unit.code, "account_id": account.id, "invitee_rows": len(invitees),
               "signin_rows": len(signins), "leaves": len(leaves),
               "expected_attended": sum(1 for s in signins if s["revoked_at"] is None),
               "from": (first_day - timedelta(days=1)).date(), "to": now.date()}
        db.session.remove()
    return out


def timed(name: str, n: int, fn) -> Timing:
    times, last = [], None
    for _ in range(n):
        t0 = time.perf_counter()
        last = fn()
        times.append(time.perf_counter() - t0)
    status = getattr(last, "status_code", None)
    size = len(last.data) if hasattr(last, "data") else (len(last) if isinstance(last, bytes) else None)
    return Timing(name, n, round(min(times), 3), round(statistics.median(times), 3), round(max(times), 3), status,
                  size)


def measure(app, seeded: dict, n: int, explain: bool) -> tuple[list[Timing], dict]:
    from app.extensions import db
    from app.services.attendance import export as ex
    from app.services.attendance import query as svc
    from app.web.auth import SESSION_KEY
    from models import Contact, Unit

    span = {"from": seeded["from"].isoformat(), "to": seeded["to"].isoformat()}
    filters = svc.Filters(seeded["from"], seeded["to"])
    timings: list[Timing] = []
    with app.app_context():
        organizer = db.session.get(Contact, seeded["organizer"])
        admin = db.session.get(Contact, seeded["admin"])
        unit = db.session.scalar(sa.select(Unit).where(Unit.code == seeded["unit_code"]))
        now = datetime.now(UTC)
        result = svc.attendance(svc.console_viewer(organizer), filters, now=now)
        checks = {"meetings": len(result.meetings), "people": len(result.people), "invited": result.total.invited,
                  "attended": result.total.attended, "expected_invited": seeded["invitee_rows"],
                  "expected_attended": seeded["expected_attended"], "leave_plain_count": seeded["leaves"]}
        checks["ok"] = (result.total.invited == seeded["invitee_rows"]
                        and result.total.attended == seeded["expected_attended"])
        if explain:
            st = svc._statuses(db.session.scalars(sa.select(svc.Meeting)).all(), None)
            plan = db.session.execute(sa.text("EXPLAIN ANALYZE " + str(
                sa.select(st.c.cid, sa.func.count()).group_by(st.c.cid).compile(
                    db.engine, compile_kwargs={"literal_binds": True})))).scalars().all()
            print("\n".join(plan), file=sys.stderr)
        timings.append(timed("service: organizer (visible meetings)", n,
                             lambda: svc.attendance(svc.console_viewer(organizer), filters, now=now)))
        timings.append(timed("service: system administrator (every meeting)", n,
                             lambda: svc.attendance(svc.console_viewer(admin), filters, now=now)))
        timings.append(timed("service: one unit's people (unit office)", n,
                             lambda: svc.attendance(svc.unit_office_viewer(unit), filters, now=now)))
        timings.append(timed("export: xlsx, 1,000 people (read + write)", max(1, n // 2), lambda: ex.export(
            svc.attendance(svc.console_viewer(organizer), filters, now=now), "xlsx", actor="bench", now=now).data))
        timings.append(timed("export: PDF, 1,000 people (read + write)", 1, lambda: ex.export(
            svc.attendance(svc.console_viewer(organizer), filters, now=now), "pdf", actor="bench", now=now).data))
        db.session.rollback()
        db.session.remove()

    client = app.test_client()
    with client.session_transaction() as s:
        s[SESSION_KEY] = seeded["organizer_identity"]
    timings.append(timed("page: /admin/attendance (people, by rate)", n,
                         lambda: client.get("/admin/attendance", query_string={**span, "sort": "rate"})))
    timings.append(timed("page: /admin/attendance (units)", n,
                         lambda: client.get("/admin/attendance", query_string={**span, "view": "units"})))
    office = app.test_client()
    office.post("/units/login", data={"username": "kq_office", "password": PASSWORD})
    timings.append(timed("page: /units/attendance (unit office)", n,
                         lambda: office.get("/units/attendance", query_string=span)))
    timings.append(timed("page: /units/people (roster, page 1)", n, lambda: office.get("/units/people")))
    return timings, checks


def machine() -> str:
    return f"{platform.node()} {os.cpu_count()} CPU, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--n", type=int, default=5)
    parser.add_argument("--db-name", default="huiyi_bench_attendance")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    _admin(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{args.db_name}"')
    try:
        app = make_app(args.db_name)
        t0 = time.perf_counter()
        seeded = seed(app, args.meetings, args.people)
        seed_s = time.perf_counter() - t0
        timings, checks = measure(app, seeded, args.n, args.explain)
        with app.app_context():
            from app.extensions import db

            db.engine.dispose()
    finally:
        if not args.keep_db:
            _admin(f'DROP DATABASE IF EXISTS "{args.db_name}" WITH (FORCE)')
    report = Report(args.meetings, args.people, seeded["invitee_rows"], seeded["signin_rows"], round(seed_s, 1),
                    timings, checks, machine())
    failed = not checks["ok"] or any(t.status not in (None, 200) for t in timings)
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, default=str))
    else:
        print(f"{report.meetings} meetings x {report.people} people: {report.invitee_rows} invitee rows, "
              f"{report.signin_rows} sign-ins; seeded in {report.seed_s} s; {report.machine}")
        print(f"checks: {checks}")
        print(f"| what | n | min s | median s | max s | status | bytes | under {TARGET_S:.0f} s |")
        print("|---|---|---|---|---|---|---|---|")
        for t in timings:
            under = "yes" if t.median_s < TARGET_S else "no"
            print(f"| {t.name} | {t.n} | {t.min_s} | {t.median_s} | {t.max_s} | {t.status or ''} | {t.bytes or ''} | "
                  f"{under} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
