"""What the cluster drills share (issue 20): a fresh local cluster (scripts/cluster/cluster.py: an HA
PostgreSQL pair under pg_auto_failover, Redis with Sentinel, two app hosts behind HAProxy), a burst of
signed scans delivered through the proxy as WeChat delivers them, a fault in the middle, and the
check of every answer against the database afterwards (``harness.check``: nobody acknowledged and
lost, nobody told 系统繁忙 but signed in, every try answered within 5 s, the screen equal to the
database).

On top of that check, what a machine's loss costs:
- **RTO**: from the fault to the first acknowledged sign-in of a scan sent after it, and to the
  rate of acknowledged sign-ins being back at 90% of the rate before the fault;
- **RPO**: acknowledged sign-ins missing from the database afterwards (``acknowledged_lost``);
- the scans answered 系统繁忙 and whether each was true (nobody answered so is signed in);
- the screen's numbers against the database 2 s after the recovery and after the burst.

The cluster is started for the drill and stopped after it (``--keep`` leaves its directory).
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.config import _normalize_db_url
from app.services.live.headcount import screen_key
from scripts.bench.bench_callback import MEETING_CODE, callback_request, seed
from scripts.cluster.cluster import PROXY_PORT, SECRET_KEY, SENTINEL_MASTER, Cluster
from scripts.drills import harness
from scripts.drills.harness import Context, Delivery, Options, Result, say


@dataclass
class ClusterFault:
    name: str
    inject: Callable[[Cluster, Context], None]
    describe: str


def sentinel_url(cluster: Cluster) -> str:
    return f"redis+sentinel://{cluster.sentinels}/{SENTINEL_MASTER}/0"


def primary(cluster: Cluster) -> str:
    states = cluster.node_states()
    return next(n for n, (reported, _goal) in states.items() if reported in ("primary", "single", "wait_primary"))


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"timed out after {timeout:g} s waiting for {what}")


def run(fault: ClusterFault, opts: Options, *, directory=None, app_workers: int = 2) -> Result:
    cluster = Cluster(directory) if directory else Cluster()
    try:
        say(f"drill {fault.name}: {fault.describe}")
        started = time.monotonic()
        cluster.start(app_workers)
        startup_s = round(time.monotonic() - started, 1)
        db_url = _normalize_db_url(cluster.database_url)
        seeded = seed(db_url, sentinel_url(cluster), opts.warmup + opts.scans)
        say(f"  {opts.scans} scans at {opts.rate:g}/s through HAProxy :{PROXY_PORT}, {opts.concurrency} in flight "
            f"at most, fault at {opts.fault_at:g} s")
        host = f"127.0.0.1:{PROXY_PORT}"
        now = int(time.time())
        deliveries = [Delivery(i, o, callback_request(o, seeded.scene, host, now=now, nonce=secrets.token_hex(8)),
                               due=i / opts.rate) for i, o in enumerate(seeded.openids)]
        warm, deliveries = deliveries[:opts.warmup], deliveries[opts.warmup:]
        for d in deliveries:
            d.due -= opts.warmup / opts.rate
        harness.deliver(warm, PROXY_PORT, opts.concurrency, time.perf_counter())
        screen = (f"http://127.0.0.1:{PROXY_PORT}/screen/{MEETING_CODE}/numbers.json"
                  f"?k={screen_key(SECRET_KEY, MEETING_CODE)}")
        ctx = Context(None, None, None, screen=screen, db_url=db_url,  # type: ignore[arg-type]
                      session_id=seeded.session_id, rate=opts.rate)
        harness_fault = harness.Fault(fault.name, lambda c: fault.inject(cluster, c), fault.describe)
        faulty = threading.Thread(target=harness._fault_thread, args=(harness_fault, ctx, opts.fault_at), daemon=True)
        ctx.t0 = time.perf_counter()
        faulty.start()
        harness.deliver(deliveries, PROXY_PORT, opts.concurrency, ctx.t0)
        ctx.mark("burst answered")
        faulty.join(180)
        if faulty.is_alive():
            raise RuntimeError("the fault did not finish")
        # (Read from the primary of now: a checker's new connection would first wait on a lost host.)
        db_url = _normalize_db_url(cluster.database_url_from(primary(cluster)))
        measurements, violations = harness.check(db_url, seeded, deliveries, ctx, screen)
        measurements.update(recovery(deliveries, ctx, opts))
        measurements["cluster"] = {"isolation": cluster.isolation, "startup_s": startup_s,
                                   "postgres_after": cluster.node_states(), "redis_master_after": cluster.redis_master()}
        return Result(fault.name, measurements, violations)
    finally:
        cluster.stop(quiet=True, keep=opts.keep)
        if opts.keep:
            say(f"  kept {cluster.dir} (logs)")


def recovery(deliveries: list[Delivery], ctx: Context, opts: Options) -> dict:
    """RTO figures from the answers' own times (seconds since the burst began)."""
    fault = ctx.marks.get("injected", ctx.marks.get("fault"))  # when the fault was done, not begun
    if fault is None:
        return {"rto_s": None}
    signed_at = sorted(t.started + t.latency_s for d in deliveries for t in d.tries
                       if t.kind == "signed" and t.latency_s is not None)
    after = [t.started + t.latency_s for d in deliveries for t in d.tries
             if t.kind == "signed" and t.latency_s is not None and t.started >= fault]
    first = round(min(after) - fault, 2) if after else None
    # The rate before the fault (its last 2 s, or what there was of them) and the first second
    # after it in which as many sign-ins were acknowledged, less 10%.
    window = min(2.0, fault)
    before = sum(1 for t in signed_at if fault - window <= t < fault) / window if window > 0 else opts.rate
    target = 0.9 * min(before, opts.rate) if before else 0.9 * opts.rate
    back = None
    t = fault
    end = signed_at[-1] if signed_at else fault
    while t <= end:
        if sum(1 for s in signed_at if t <= s < t + 1.0) >= target:
            back = round(t - fault, 2)
            break
        t += 0.1
    busy = sum(1 for d in deliveries for t in d.tries if t.kind == "busy")
    # And from the fault's end (a promotion, a network back): how soon the door signs people in again.
    whole = ctx.marks.get("recovered")
    again = [t.started + t.latency_s for d in deliveries for t in d.tries
             if t.kind == "signed" and t.latency_s is not None and whole is not None and t.started >= whole]
    return {"rto_first_ack_s": first, "rto_rate_90pct_s": back, "rate_before_per_s": round(before, 1),
            "busy_answers": busy, "first_ack_after_recovery_s": round(min(again) - whole, 2) if again else None}


def report(result: Result) -> int:
    m = result.measurements
    code = harness.report(result)
    for key in ("rto_first_ack_s", "rto_rate_90pct_s", "rate_before_per_s", "busy_answers",
                "first_ack_after_recovery_s", "cluster"):
        say(f"  {key:30} {json.dumps(m.get(key), ensure_ascii=False)}")
    say(f"  RPO (acknowledged sign-ins lost): {m['acknowledged_lost']}; 系统繁忙 answers: {m['busy_answers']}, "
        f"of them signed in after all: {m['busy_but_signed_in']}")
    return code


def main(fault: ClusterFault, argv: list[str] | None = None, **defaults) -> int:
    import argparse

    d = Options(**defaults)
    p = argparse.ArgumentParser(description=f"Cluster drill: {fault.describe}")
    p.add_argument("--scans", type=int, default=d.scans)
    p.add_argument("--rate", type=float, default=d.rate, help="scans arriving per second")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--fault-at", type=float, default=d.fault_at, help="seconds into the burst")
    p.add_argument("--app-workers", type=int, default=2, help="gunicorn workers per app host")
    p.add_argument("--warmup", type=int, default=d.warmup, help="unmeasured scans before the burst")
    p.add_argument("--keep", action="store_true", help="keep the cluster's directory (logs)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    opts = Options(scans=a.scans, rate=a.rate, concurrency=a.concurrency, fault_at=a.fault_at, keep=a.keep,
                   warmup=a.warmup)
    result = run(fault, opts, app_workers=a.app_workers)
    if a.json:
        print(json.dumps({"drill": result.drill, "ok": result.ok, "violations": result.violations,
                          **result.measurements}, ensure_ascii=False))
        return 0 if result.ok else 1
    return report(result)
