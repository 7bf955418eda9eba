"""The offline door's sync: 5,000 queued scans from 5 desks, sent as the scanners send them.

    .venv/bin/python -m scripts.bench.bench_desk_sync [--scans 5000] [--desks 5] [--people 1200]
        [--batch 200] [--redis embedded|claim|URL] [--keep-db] [--json]

1. Creates a database of its own (``huiyi_bench_desk_sync``, dropped afterwards unless ``--keep-db``),
   runs the migrations, seeds a published meeting with ``people`` invitees (10 with a revoked code)
   and ``desks`` desks, and makes each desk's queue (scripts/bench/desk_scenario.py: people seen at
   several desks and several times, revoked, forged and other-meeting codes; device times in the
   past hour). Redis (the live counters and events each sync publishes): ``--redis embedded`` (the
   default: the app's in-process stand-in, pure Python, slower than a server), ``claim`` (a database
   of the local Redis no test run holds, claimed as tests/backends.py does, never flushed here), or
   a URL.
2. Times the sync of every queue through the API as the scanner sends it, ``POST
   /api/mp/v1/desk/scans`` with the desk's token, ``batch`` scans a request, the desks taking turns,
   in process through Flask's test client (the server's whole work: JSON, validation, the desk's
   token, the signature of every code, the merge and its commits; no socket). Then sends everything
   again (a scanner that lost every answer) and times that.
3. Checks the database against the scenario's own answer: one live sign-in per person at their
   earliest valid scan, every scan once.

Target (issue 19): 5,000 scans synced in under 10 s. Exit status 1 if a check fails or the target
is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
TARGET_S = 10.0


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def machine() -> str:
    return f"{platform.node()} {os.cpu_count()} CPU, Python {platform.python_version()}, load {os.getloadavg()[0]:.1f}"


def _send(client, token: str, scans, batch: int) -> int:
    """POST the scans in batches; returns the requests made."""
    requests = 0
    for i in range(0, len(scans), batch):
        body = {"scans": [{"scan_id": s.scan_id, "code": s.code, "at": s.at.isoformat(), "session": s.session,
                           "verdict": s.verdict} for s in scans[i:i + batch]]}
        res = client.post("/api/mp/v1/desk/scans", json=body, headers={"Authorization": f"Bearer {token}"})
        if res.status_code != 200:
            raise SystemExit(f"sync answered {res.status_code}: {res.get_data(as_text=True)[:300]}")
        requests += 1
    return requests


def run(args) -> dict:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app
    from app.services.meetings.meetings import create_meeting
    from models import Contact, Unit
    from scripts.bench import desk_scenario

    name = args.db_name
    redis_url, release = "", None
    if args.redis == "claim":
        from tests.backends import _claim_redis_db

        redis_url, release = _claim_redis_db()
    elif args.redis != "embedded":
        redis_url = args.redis
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    try:
        app = create_app({"DATABASE_URL": DB_URL.format(name=name), "SECRET_KEY": "bench-" + "k" * 40,
                          "WTF_CSRF_ENABLED": False, "PUBLIC_BASE_URL": "http://bench.test", "GROUP_COMMIT": False,
                          "REDIS_URL": redis_url})
        with app.app_context():
            upgrade()
            t0 = time.perf_counter()
            unit = Unit(code="DSORG", name="会务组", aliases=[])
            owner = Contact(unit=unit, name="会务压测", phone="13700000001", tags=[])
            db.session.add_all([unit, owner])
            now = datetime.now(UTC)
            meeting = create_meeting("DESKSYNC", "离线签到压测会议", actor="bench", starts_at=now,
                                     ends_at=now + timedelta(hours=3), publish=True)
            other = create_meeting("DESKOTHER", "另一个会议", actor="bench", starts_at=now,
                                   ends_at=now + timedelta(hours=3), publish=True)
            world = desk_scenario.seed(meeting, other, people=args.people, desks=args.desks, actor=owner)
            tokens = {}
            for desk in world.desks:  # fresh tokens the bench knows (issue_desk keeps only their hash)
                from app.services.signin import desks as desk_service

                issued = desk_service.issue_desk(meeting, name=f"压测{desk.name}", actor=owner)
                tokens[desk.id] = (issued.desk.id, issued.token)
            db.session.commit()
            queues = desk_scenario.make_scans(world, n=args.scans, now=datetime.now(UTC))
            want = desk_scenario.expected(world, queues)
            # The bench's desks are the tokened ones: the same queues, under their ids.
            queues = {tokens[d][0]: q for d, q in queues.items()}
            seed_s = time.perf_counter() - t0
            meeting_id = meeting.id
            db.session.remove()

            client = app.test_client()
            sent = {d: 0 for d in queues}
            t1, c1 = time.perf_counter(), time.process_time()
            requests = 0
            # The desks take turns, a batch each, as several scanners coming back online at once.
            while any(sent[d] < len(q) for d, q in queues.items()):
                for d, q in queues.items():
                    if sent[d] < len(q):
                        token = next(t for i, t in tokens.values() if i == d)
                        requests += _send(client, token, q[sent[d]:sent[d] + args.batch], args.batch)
                        sent[d] += args.batch
            sync_s, cpu_s = time.perf_counter() - t1, time.process_time() - c1
            t2 = time.perf_counter()
            for d, q in queues.items():
                token = next(t for i, t in tokens.values() if i == d)
                _send(client, token, q, args.batch)
            resend_s = time.perf_counter() - t2

            live, flags, n_live = desk_scenario.outcome(meeting_id)
            db.session.remove()
            checks = {"live_signins": n_live, "people_expected": len(want), "one_each": n_live == len(live),
                      "earliest_times": live == want, "scans_kept": len(flags),
                      "scans_sent": sum(len(q) for q in queues.values()),
                      "flagged": sum(1 for f in flags.values() if f)}
            checks["ok"] = (checks["one_each"] and checks["earliest_times"]
                            and checks["scans_kept"] == checks["scans_sent"])
            return {"scans": args.scans, "desks": args.desks, "people": args.people, "batch": args.batch,
                    "requests": requests, "seed_s": round(seed_s, 2), "sync_s": round(sync_s, 3),
                    "app_cpu_s": round(cpu_s, 3),
                    "scans_per_s": round(args.scans / sync_s), "resend_all_s": round(resend_s, 3),
                    "target_s": TARGET_S, "checks": checks, "redis": redis_url or "embedded", "machine": machine()}
    finally:
        if release is not None:
            release()
        if not args.keep_db:
            from app.extensions import db as _db

            try:
                _db.engine.dispose()
            except Exception:
                pass
            _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--desks", type=int, default=5)
    parser.add_argument("--people", type=int, default=1200)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--redis", default="embedded")
    parser.add_argument("--db-name", default="huiyi_bench_desk_sync")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = run(args)
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
    else:
        print(f"{report['scans']} scans from {report['desks']} desks ({report['people']} people), "
              f"{report['requests']} requests of {report['batch']}: synced in {report['sync_s']} s "
              f"({report['scans_per_s']}/s; the app's own CPU {report['app_cpu_s']} s); "
              f"everything sent again: {report['resend_all_s']} s")
        print(f"checks: {report['checks']}")
        print(f"machine: {report['machine']}; Redis: {report['redis']}")
    ok = report["checks"]["ok"] and report["sync_s"] < TARGET_S
    print("PASS" if ok else "FAIL", f"(target: {TARGET_S:.0f} s)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
