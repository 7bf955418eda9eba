"""What one round of the scan lane costs per scan, by round size, in-process (no server, no network).

    .venv/bin/python -m scripts.bench.profile_scan_round                 # rounds of 1, 4, 8, 12, 20
    .venv/bin/python -m scripts.bench.profile_scan_round --sizes 12 --top 25

Runs ``scan_lane.answer_scans`` (every replay and retry check, the sign-ins, the live events, the
replies kept for retries) through ``batching.run_batch`` exactly as a round thread does, on a scratch
database seeded like ``bench_callback`` and Redis db 8, for distinct bound attendees. Prints CPU ms
per scan and the number of Python function calls per scan (counted by cProfile in a second pass).
CPU time moves with other work on a shared machine; the call count does not, so it is the number to
compare between two versions of the code.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import time
from datetime import UTC, datetime

from scripts.bench import bench_callback as bc
from scripts.bench.bench_callback import Options

REDIS_URL = "redis://127.0.0.1:6379/8"


def _arrivals(openids: list[str], scene: str):
    from app.services.codes.scenes import parse_scene
    from wechat_handlers import scan_lane
    from wechat_handlers.envelope import Envelope

    now, ts = datetime.now(UTC), str(int(time.time()))
    return [scan_lane.Arrival(Envelope(fields={"ToUserName": "gh", "FromUserName": o, "CreateTime": ts,
                                               "MsgType": "event", "Event": "SCAN", "EventKey": scene},
                                       encrypted=False, timestamp=ts, nonce=f"n-{o}", body_sha256=f"b-{o}"),
                              f"evt:{o}", parse_scene(scene), now) for o in openids]


def measure(size: int, n: int, top: int) -> tuple[float, float]:
    """(CPU ms per scan, Python calls per scan) for ``n`` scans in rounds of ``size``."""
    from app.batching import run_batch
    from app.extensions import db
    from app.factory import create_app
    from wechat_handlers.scan_lane import answer_scans

    opts = Options(n=3 * n, db_name="huiyi_bench_round")
    db_url = bc.create_database(opts)
    try:
        seeded = bc.seed(db_url, REDIS_URL, 3 * n)
        app = create_app({**bc.app_config(db_url, REDIS_URL), "GROUP_COMMIT": False})

        def rounds(first: int) -> None:  # n distinct attendees from ``first`` on, ``size`` per round
            for k in range(first, first + n, size):
                openids = seeded.openids[k:min(k + size, first + n)]
                replies = run_batch(answer_scans, _arrivals(openids, seeded.scene), "bench")
                assert all("签到成功" in r for r in replies), replies[0]

        with app.app_context():
            rounds(0)  # warm: the pool, the meeting cache, prepared statements
            cpu = time.process_time()
            rounds(n)
            cpu = time.process_time() - cpu
            profiler = cProfile.Profile()
            profiler.enable()
            rounds(2 * n)
            profiler.disable()
            db.engine.dispose()
    finally:
        bc.drop_database(opts)
    stats = pstats.Stats(profiler)
    if top:
        stats.sort_stats("cumulative").print_stats(r"(app|wechat_handlers)/", top)
    return cpu / n * 1000, stats.total_calls / n


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1, 4, 8, 12, 20])
    p.add_argument("--n", type=int, default=1200, help="scans measured per size (and as many to warm up and to profile)")
    p.add_argument("--top", type=int, default=0, help="also print cProfile's top functions of the app")
    a = p.parse_args(argv)
    print("round size | CPU ms per scan | Python calls per scan")
    for size in a.sizes:
        cpu, calls = measure(size, a.n, a.top)
        print(f"{size:10d} | {cpu:15.3f} | {calls:21.0f}", flush=True)


if __name__ == "__main__":
    main()
