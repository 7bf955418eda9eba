"""A backup taken during a burst restores every sign-in acknowledged before it (issue 20).

    python -m scripts.drills.backup_during_burst [--scans 3000 --rate 100 --backup-at 5]

The production server (gunicorn, as the other drills run it) signs people in from a burst of
signed scans while ``pg_basebackup -X stream`` (PostgreSQL's own physical backup, what
docs/operations.md tells operators to take) copies the database. The backup is then started as a
fresh server, and every sign-in acknowledged to an attendee before the backup began must be in it
(so must every one acknowledged before the backup's end point, which lies between its start and its
return: counted and reported). The restored server also passes the check every drill makes: one
live sign-in per person, order numbers 1..N with no gap.

Its own Redis and PostgreSQL (scripts/drills/harness.py); the shared ones are never touched.
"""

from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from scripts.bench.bench_callback import callback_request, seed
from scripts.drills.harness import Delivery, Door, OwnPostgres, OwnRedis, _pg_bin, deliver, say


def run(scans: int = 3000, rate: float = 100.0, backup_at: float = 5.0, warmup: int = 60,
        concurrency: int = 50) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="huiyi-drill-backup-"))
    redis, postgres = OwnRedis(workdir), OwnPostgres(workdir)
    restored = None
    door = None
    try:
        redis.start()
        postgres.start()
        db_url = postgres.create_database("huiyi_drill")
        seeded = seed(db_url, redis.url, warmup + scans)
        door = Door(db_url, redis.url, workdir)
        door.start()
        host = f"127.0.0.1:{door.port}"
        now = int(time.time())
        deliveries = [Delivery(i, o, callback_request(o, seeded.scene, host, now=now, nonce=secrets.token_hex(8)),
                               due=i / rate) for i, o in enumerate(seeded.openids)]
        warm, deliveries = deliveries[:warmup], deliveries[warmup:]
        for d in deliveries:
            d.due -= warmup / rate
        deliver(warm, door.port, concurrency, time.perf_counter())
        say(f"backup during a burst: {scans} scans at {rate:g}/s, pg_basebackup at {backup_at:g} s ({workdir})")
        t0 = time.perf_counter()
        burst = threading.Thread(target=deliver, args=(deliveries, door.port, concurrency, t0), daemon=True)
        burst.start()
        time.sleep(max(0.0, t0 + backup_at - time.perf_counter()))
        backup = workdir / "backup"
        began = time.perf_counter() - t0
        subprocess.run([*postgres.as_user, _pg_bin("pg_basebackup"), "-h", "127.0.0.1", "-p", str(postgres.port),
                        "-U", "postgres", "-D", str(backup), "-X", "stream", "-c", "fast", "--no-sync"],
                       check=True, capture_output=True)
        ended = time.perf_counter() - t0
        say(f"  pg_basebackup from {began:.2f} s to {ended:.2f} s")
        burst.join(300)
        door.stop()
        door = None

        # The restore: the backup's directory started as a fresh server on a port of its own.
        restored = OwnPostgres(workdir)
        restored.dir, restored.log = backup, workdir / "restored.log"
        restored._ctl("start")
        engine = sa.create_engine(restored.url("huiyi_drill"))
        try:
            with engine.connect() as conn:
                rows = conn.execute(sa.text("SELECT contact_id, seq FROM signins WHERE session_id = :s "
                                            "AND revoked_at IS NULL ORDER BY seq"), {"s": seeded.session_id}).all()
        finally:
            engine.dispose()
        present = {c for c, _ in rows}
        seqs = [s for _, s in rows]

        def acked_by(limit: float) -> list[str]:
            return [d.openid for d in deliveries if any(t.kind == "signed" and t.latency_s is not None
                                                        and t.started + t.latency_s < limit for t in d.tries)]

        before_start, before_end = acked_by(began), acked_by(ended)
        missing = [o for o in before_start if seeded.contact_ids[o] not in present]
        during = [o for o in before_end if o not in set(before_start)]
        m = {
            "scans": scans, "rate": rate, "backup_s": [round(began, 2), round(ended, 2)],
            "acknowledged_before_backup": len(before_start),
            "of_them_missing_from_restore": len(missing),
            "acknowledged_during_backup": len(during),
            "of_those_in_restore": sum(1 for o in during if seeded.contact_ids[o] in present),
            "restored_signins": len(rows),  # the warm-up's included
            "restored_seq_1_to_n": seqs == list(range(1, len(seqs) + 1)),
            "restored_one_per_person": len(present) == len(rows),
            "acknowledged_in_burst": len(acked_by(float("inf"))),
        }
        m["ok"] = (not missing and m["restored_seq_1_to_n"] and m["restored_one_per_person"]
                   and m["acknowledged_before_backup"] > 0)
        return m
    finally:
        if door is not None:
            door.stop()
        if restored is not None:
            restored.stop()
        redis.stop()
        postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    import argparse

    p = argparse.ArgumentParser(description="A backup taken during a burst, restored and checked")
    p.add_argument("--scans", type=int, default=3000)
    p.add_argument("--rate", type=float, default=100.0)
    p.add_argument("--backup-at", type=float, default=5.0)
    a = p.parse_args(argv)
    m = run(a.scans, a.rate, a.backup_at)
    say(json.dumps(m, ensure_ascii=False, indent=1))
    return 0 if m["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
