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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from app.config import _normalize_db_url
from app.services.live.headcount import screen_key
from scripts.bench.bench_callback import MEETING_CODE, callback_request, seed
from scripts.cluster.cluster import PROXY_PORT, REDIS_PORTS, SECRET_KEY, SENTINEL_MASTER, Cluster
from scripts.drills import harness
from scripts.drills.harness import Context, Delivery, Options, Result, say

#: The read of the screen 2 s after the recovery may take this long to be answered: right after a
#: failover the app hosts work off its backlog, and on a loaded 2-core machine that read has taken
#: more than 2 s. What it shows must still lie between the database's counts read before and after it.
SCREEN_TIMEOUT_S = 5.0


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


#: The longest a failover (PostgreSQL's or Redis's) may take before a drill calls it failed.
FAILOVER_LIMIT_S = 60.0


def wait_promoted(cluster: Cluster, ctx: Context, lost: str) -> None:
    """Until pg_auto_failover has promoted the node other than ``lost`` to take writes; the drill's
    own reads go to it from then on (a new connection would first wait on the lost host)."""
    survivor = next(n for n in cluster.node_states() if n != lost)

    def promoted() -> bool:
        reported, goal = cluster.node_states()[survivor]
        return reported == goal and reported in ("wait_primary", "primary", "single")
    wait_for(promoted, FAILOVER_LIMIT_S, f"{survivor} to be promoted")
    ctx.mark(f"{survivor} promoted")
    ctx.db_url = _normalize_db_url(cluster.database_url_from(survivor))


def redis_master_host(cluster: Cluster) -> tuple[str, tuple[str, int] | None]:
    """(the host of the Redis master the Sentinels name, its address)."""
    master = cluster.redis_master()
    return next(h for h, port in REDIS_PORTS.items() if master == (cluster.ip(h), port)), master


def wait_redis_failover(cluster: Cluster, ctx: Context, before: tuple[str, int] | None) -> None:
    """Until the Sentinels name a master other than ``before``."""
    wait_for(lambda: cluster.redis_master() not in (None, before), FAILOVER_LIMIT_S, "Sentinel's failover")
    ctx.mark(f"Sentinel promoted {cluster.redis_master()}")


# --- ballots beside the scans -----------------------------------------------------------------------
#
# Voters of a second meeting (scripts/bench/bench_votes.py seeds it: invited, signed in, a live 表决
# open) cast ballots through the H5 page during the same burst, one delivery per voter. A ballot
# answered with a non-200 page (系统繁忙 is 503) is cast again 5 s later, as a voter taps again.
VOTE_OK = "投票成功".encode()
VOTE_ALREADY = "您已投票".encode()


def _ballot_kind(t) -> str:
    if t.latency_s is None:
        return t.kind
    if VOTE_OK in t.body:
        return "voted"
    if VOTE_ALREADY in t.body:
        return "already"
    if harness.BUSY in t.body:
        return "busy"
    return f"http_{t.status}" if t.status != 200 else "other"


def seed_ballots(db_url: str, redis_url: str, voters: int, burst_s: float):
    from scripts.bench import bench_votes

    config = bench_votes.app_config(db_url, redis_url, SECRET_KEY)
    seeded = bench_votes.seed(config, voters)
    signer = bench_votes.Signer(config)
    host = f"127.0.0.1:{PROXY_PORT}"
    deliveries = [Delivery(i, str(ident), signer.ballot(host, seeded.vote_id, ident, seeded.options[i % 3]),
                           due=i * burst_s / max(1, voters)) for i, ident in enumerate(seeded.identities)]
    return seeded, deliveries


def check_ballots(db_url: str, seeded, deliveries: list[Delivery]) -> tuple[dict, list[str]]:
    import sqlalchemy as sa

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            contact_of = dict(conn.execute(sa.text("SELECT id, contact_id FROM wechat_identities WHERE id = ANY(:i)"),
                                           {"i": [int(d.openid) for d in deliveries]}).all())
            voted = {c for (c,) in conn.execute(sa.text("SELECT contact_id FROM vote_participations WHERE vote_id = :v"),
                                                {"v": seeded.vote_id})}
            ballots = conn.execute(sa.text("SELECT count(*) FROM ballots WHERE vote_id = :v"),
                                   {"v": seeded.vote_id}).scalar_one()
    finally:
        engine.dispose()
    stored = {d.openid for d in deliveries if contact_of.get(int(d.openid)) in voted}
    kinds = [[_ballot_kind(t) for t in d.tries] for d in deliveries]
    acked = {d.openid for d, k in zip(deliveries, kinds, strict=True) if "voted" in k or "already" in k}
    # 系统繁忙 is false if the ballot was stored by that try: the voter's next try then hears 您已投票
    # (a later try's own ballot would say 投票成功), or, when it was the last try, it is in the database.
    busy_false = [d.openid for d, k in zip(deliveries, kinds, strict=True)
                  if any(a == "busy" and ("already" in k[i + 1:] or (i == len(k) - 1 and d.openid in stored))
                         for i, a in enumerate(k))]
    m = {"ballots": len(deliveries), "ballot_tries": sum(len(k) for k in kinds),
         "ballot_answers": dict(Counter(a for k in kinds for a in k)),
         "ballots_acknowledged": len(acked), "ballots_in_db": ballots, "voters_in_db": len(stored),
         "ballots_acknowledged_lost": len(acked - stored), "ballots_busy_but_stored": len(busy_false),
         "ballots_stored_without_being_told": len(stored - acked)}
    violations = []
    if acked - stored:
        violations.append(f"{len(acked - stored)} ballots acknowledged but not in the database")
    if busy_false:
        violations.append(f"{len(busy_false)} ballots told 系统繁忙 but stored")
    if ballots != len(stored):
        violations.append(f"{ballots} ballots for {len(stored)} voters")
    return m, violations


class ScreenStream(threading.Thread):
    """The big screen's live stream (``/screen/<code>/events``) read through HAProxy the way a
    browser's EventSource reads it: when the connection breaks (its app host died), it connects
    again after the stream's ``retry`` with ``Last-Event-ID`` and goes on from there. Records each
    break and how long until the next message, and the last 实到 the stream showed."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.last_id: str | None = None
        self.arrived: int | None = None
        self.breaks: list[float] = []  # seconds (perf_counter) of each break
        self.gaps: list[float] = []  # from each break to the next message received
        self.messages = 0

    def run(self) -> None:
        import http.client

        retry_s, broken_at = 1.5, None
        while not self.stop.is_set():
            conn = http.client.HTTPConnection("127.0.0.1", PROXY_PORT, timeout=10)
            try:
                conn.request("GET", self.path, headers={"Accept": "text/event-stream",
                                                        **({"Last-Event-ID": self.last_id} if self.last_id else {})})
                resp = conn.getresponse()
                if resp.status != 200:
                    raise OSError(f"HTTP {resp.status}")
                event, data = "message", ""
                while not self.stop.is_set():
                    line = resp.fp.readline()
                    if not line:
                        raise OSError("stream ended")
                    line = line.decode().rstrip("\n")
                    if line.startswith("id: "):
                        self.last_id = line[4:]
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line.startswith("retry: "):
                        retry_s = int(line[7:]) / 1000
                    elif line == "" and data:
                        if broken_at is not None:
                            self.gaps.append(time.perf_counter() - broken_at)
                            broken_at = None
                        self.messages += 1
                        if event == "numbers":
                            self.arrived = json.loads(data).get("arrived", self.arrived)
                        event, data = "message", ""
            except (OSError, ValueError, http.client.HTTPException):
                if broken_at is None and not self.stop.is_set():
                    broken_at = time.perf_counter()
                    self.breaks.append(broken_at)
                time.sleep(retry_s)
            finally:
                conn.close()

    def report(self, database: int) -> dict:
        deadline = time.monotonic() + harness.HEADCOUNT_WITHIN_S
        while self.arrived != database and time.monotonic() < deadline:
            time.sleep(0.1)
        self.stop.set()
        return {"messages": self.messages, "breaks": len(self.breaks),
                "longest_break_s": round(max(self.gaps), 2) if self.gaps else None,
                "unhealed_break": len(self.breaks) > len(self.gaps),
                "last_arrived": self.arrived, "database": database}


def run(fault: ClusterFault, opts: Options, *, directory=None, app_workers: int = 2, ballots: int = 0) -> Result:
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
        vote_seeded, ballot_deliveries = (seed_ballots(db_url, sentinel_url(cluster), ballots, opts.scans / opts.rate)
                                          if ballots else (None, []))
        screen = (f"http://127.0.0.1:{PROXY_PORT}/screen/{MEETING_CODE}/numbers.json"
                  f"?k={screen_key(SECRET_KEY, MEETING_CODE)}")
        ctx = Context(None, None, None, screen=screen, db_url=db_url,  # type: ignore[arg-type]
                      session_id=seeded.session_id, rate=opts.rate, screen_timeout_s=SCREEN_TIMEOUT_S)
        harness_fault = harness.Fault(fault.name, lambda c: fault.inject(cluster, c), fault.describe)
        faulty = threading.Thread(target=harness._fault_thread, args=(harness_fault, ctx, opts.fault_at), daemon=True)
        ctx.t0 = time.perf_counter()
        stream = ScreenStream(f"/screen/{MEETING_CODE}/events?k={screen_key(SECRET_KEY, MEETING_CODE)}")
        stream.start()
        voting = threading.Thread(target=harness.deliver, args=(ballot_deliveries, PROXY_PORT, opts.concurrency,
                                                                 ctx.t0), daemon=True)
        faulty.start()
        voting.start()
        harness.deliver(deliveries, PROXY_PORT, opts.concurrency, ctx.t0)
        voting.join(300)
        ctx.mark("burst answered")
        faulty.join(180)
        if faulty.is_alive():
            raise RuntimeError("the fault did not finish")
        # (Read from the primary of now: a checker's new connection would first wait on a lost host.)
        db_url = _normalize_db_url(cluster.database_url_from(primary(cluster)))
        measurements, violations = harness.check(db_url, seeded, deliveries, ctx, screen)
        measurements.update(recovery(deliveries, ctx, opts))
        measurements["screen_stream"] = stream.report(measurements["headcount"]["database"])
        if measurements["screen_stream"]["last_arrived"] != measurements["headcount"]["database"]:
            violations.append(f"the screen's stream: {measurements['screen_stream']}")
        if ballots:
            ballot_m, ballot_v = check_ballots(db_url, vote_seeded, ballot_deliveries)
            measurements.update(ballot_m)
            violations += ballot_v
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
                "first_ack_after_recovery_s", "ballots", "ballot_answers", "ballots_acknowledged", "ballots_in_db",
                "ballots_acknowledged_lost", "ballots_busy_but_stored", "ballots_stored_without_being_told",
                "screen_stream", "cluster"):
        if key in m:
            say(f"  {key:30} {json.dumps(m.get(key), ensure_ascii=False)}")
    say(f"  RPO (acknowledged sign-ins lost): {m['acknowledged_lost']}; 系统繁忙 answers: {m['busy_answers']}, "
        f"of them signed in after all: {m['busy_but_signed_in']}")
    if "ballots" in m:
        say(f"  ballots: RPO {m['ballots_acknowledged_lost']}, 系统繁忙 but stored {m['ballots_busy_but_stored']}")
    return code


def main(fault: ClusterFault, argv: list[str] | None = None, **defaults) -> int:
    import argparse

    d = Options(**{k: v for k, v in defaults.items() if k != "ballots"})
    p = argparse.ArgumentParser(description=f"Cluster drill: {fault.describe}")
    p.add_argument("--scans", type=int, default=d.scans)
    p.add_argument("--rate", type=float, default=d.rate, help="scans arriving per second")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--fault-at", type=float, default=d.fault_at, help="seconds into the burst")
    p.add_argument("--app-workers", type=int, default=2, help="gunicorn workers per app host")
    p.add_argument("--ballots", type=int, default=defaults.get("ballots", 0),
                   help="ballots cast through the H5 page during the same burst (spread over it)")
    p.add_argument("--warmup", type=int, default=d.warmup, help="unmeasured scans before the burst")
    p.add_argument("--keep", action="store_true", help="keep the cluster's directory (logs)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    opts = Options(scans=a.scans, rate=a.rate, concurrency=a.concurrency, fault_at=a.fault_at, keep=a.keep,
                   warmup=a.warmup)
    result = run(fault, opts, app_workers=a.app_workers, ballots=a.ballots)
    if a.json:
        print(json.dumps({"drill": result.drill, "ok": result.ok, "violations": result.violations,
                          **result.measurements}, ensure_ascii=False))
        return 0 if result.ok else 1
    return report(result)
