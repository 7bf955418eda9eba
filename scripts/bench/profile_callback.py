"""Profile the scan-to-sign-in callback in-process, one request at a time (no server, no network).

    .venv/bin/python -m scripts.bench.profile_callback            # per-request wall and CPU ms
    .venv/bin/python -m scripts.bench.profile_callback --profile  # plus cProfile's top 25 (tottime)
    .venv/bin/python -m scripts.bench.profile_callback --floor    # the benchmark's floor route instead

Uses the benchmark's scratch database and Redis db 7 (scripts.bench.bench_callback): 100 warm-up
sign-ins, then 500 measured, each a distinct bound attendee through ``app.test_client()``. CPU time
(process_time) is the number to compare on a shared machine: wall time includes everyone else's load.
"""

from __future__ import annotations

import cProfile
import pstats
import secrets
import sys
import time

from scripts.bench import bench_callback as bc
from scripts.bench.bench_callback import Options

WARM, MEASURED = 100, 500


def main() -> None:
    profile, floor = "--profile" in sys.argv, "--floor" in sys.argv
    db_url = bc.create_database(Options(n=WARM + MEASURED))
    redis_url = "redis://127.0.0.1:6379/7"
    seeded = bc.seed(db_url, redis_url, WARM + MEASURED + 100)
    from app.factory import create_app
    from scripts.bench.bench_wsgi import bench_floor
    from scripts.wechat_sim.signing import signature
    from scripts.wechat_sim.xmlmsg import build_xml

    app = create_app(bc.app_config(db_url, redis_url))
    app.add_url_rule("/_bench/floor", view_func=bench_floor, methods=["POST"])
    client = app.test_client()

    def scan(openid: str):
        if floor:
            return client.post(f"/_bench/floor?k={secrets.randbits(40)}")
        ts, nonce = str(int(time.time())), secrets.token_hex(6)
        body = build_xml([("ToUserName", "gh"), ("FromUserName", openid), ("CreateTime", ts),
                          ("MsgType", "event"), ("Event", "SCAN"), ("EventKey", seeded.scene), ("Ticket", "b")])
        query = f"signature={signature(bc.TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}&openid={openid}"
        return client.post(f"/wechat/callback?{query}", data=body)

    ids = seeded.openids
    for openid in ids[:WARM]:
        assert floor or "签到成功" in scan(openid).get_data(as_text=True)
    profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting on the database
    wall, cpu = time.perf_counter(), time.process_time()
    if profile:
        profiler.enable()
    for openid in ids[WARM:WARM + MEASURED]:
        reply = scan(openid).get_data(as_text=True)
        assert floor or "签到成功" in reply, reply
    profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{'floor' if floor else 'sign-in'} per request: {wall / MEASURED * 1000:.2f} ms wall, {cpu / MEASURED * 1000:.2f} ms CPU"
          f"{' (profiled)' if profile else ''}")
    if profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"(app|wechat_handlers)/", 25)


if __name__ == "__main__":
    main()
