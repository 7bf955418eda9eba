"""PostgreSQL's own CPU per scan sign-in, by batch size (what group commit saves the database).

    .venv/bin/python -m scripts.bench.pg_signin_cost                 # batches of 1, 10 and 50
    .venv/bin/python -m scripts.bench.pg_signin_cost --sizes 1 5 20 --n 2000

Runs a scan round's own statements (``signin.scans``' read of the scanners, then the write core
``signin.write.commit_signins``: the INSERT whose trigger takes the order numbers as it commits, the
read of those numbers) from one connection
against a scratch database seeded like ``bench_callback``, and reads the server process's CPU time
from /proc (so PostgreSQL must run on this machine). CPU time, unlike wall time, is little affected
by other work on a shared machine.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from scripts.bench import bench_callback as bc
from scripts.bench import cpu
from scripts.bench.bench_callback import Options


def measure(size: int, n: int) -> tuple[float, float]:
    """(server CPU ms, wall ms) per sign-in for ``n`` sign-ins in batches of ``size``."""
    from app.extensions import db
    from app.factory import create_app
    from app.services.signin import scans as scan_signin
    from app.services.signin import write as signin
    from models import SignInMethod

    opts = Options(n=n, db_name="huiyi_bench_pgcost")
    db_url = bc.create_database(opts)
    try:
        seeded = bc.seed(db_url, "redis://127.0.0.1:6379/8", n)
        app = create_app(bc.app_config(db_url, "redis://127.0.0.1:6379/8"))
        with app.app_context():
            pid = db.session.execute(db.text("SELECT pg_backend_pid()")).scalar()
            db.session.commit()  # the pool hands the same connection back below (one thread, one use)
            scanners = scan_signin._scanners("postgresql")
            started_cpu, started = cpu.process_cpu_s(pid), time.perf_counter()
            for k in range(0, n, size):
                openids = seeded.openids[k:k + size]
                signin.begin_round()
                rows = db.session.execute(scanners, {"meeting_id": seeded.meeting_id, "session_id": seeded.session_id,
                                                     "openids": openids}).all()
                now = datetime.now(UTC)
                signin.commit_signins([
                    signin.NewSignIn(seeded.meeting_id, seeded.session_id, r.id, SignInMethod.SCAN, now, False,
                                     r.name, r.unit_id, r.unit_name) for r in rows])
            used, wall = cpu.process_cpu_s(pid) - started_cpu, time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    finally:
        bc.drop_database(opts)
    return used / n * 1000, wall / n * 1000


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    p.add_argument("--n", type=int, default=3000)
    a = p.parse_args(argv)
    print("batch size | PostgreSQL CPU ms per sign-in | wall ms per sign-in")
    for size in a.sizes:
        cpu, wall = measure(size, a.n)
        print(f"{size:10d} | {cpu:29.3f} | {wall:.3f}", flush=True)


if __name__ == "__main__":
    main()
