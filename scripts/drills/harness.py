"""What every fault drill shares: its own Redis and PostgreSQL, the production server, a burst of
signed scans delivered as WeChat delivers them, and the check of the database against every answer.

A drill never touches the machine's shared PostgreSQL (5432) or Redis (6379): it starts a
``redis-server`` and a PostgreSQL cluster (``initdb`` into a temporary directory, ``pg_ctl`` on a free
port) of its own, which its fault may kill, stop, flush or restart, and removes them afterwards.

The burst is open-loop: scans arrive at ``rate`` per second whatever the server does (people keep
scanning while the door struggles), at most ``concurrency`` requests in flight. Each scan is one
WeChat *delivery*: a request, and if no answer came within 5 s (or the connection broke), the
identical request again 5 s after the previous try, three tries in all, as WeChat does.

The check (:func:`check`) reads every sign-in from the database and holds every answer to it:
- 0 acknowledged lost: everyone told 签到成功 / 您已签到 has a live sign-in;
- 0 answered ``success`` (or nothing) without being signed in;
- 0 told 系统繁忙 but signed in;
- every try answered within 5 s (a try whose connection a killed worker dropped is counted, and its
  delivery must be answered by a later try), every delivery answered;
- one live sign-in per person, order numbers 1..N;
- the screen's numbers (``/screen/<code>/numbers.json``) equal to the database within 2 s of the
  fault's end and of the burst's.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from glob import glob
from pathlib import Path

import sqlalchemy as sa

from app.services.live.headcount import screen_key
from scripts.bench.bench_callback import MEETING_CODE, app_config, callback_request, seed
from scripts.bench.loadgen import _read_response
from scripts.bench.servers import spawn_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[2]
WECHAT_TIMEOUT_S = 5.0
TRIES = 3
HEADCOUNT_WITHIN_S = 2.0

SIGNED = ("签到成功".encode(), "您已签到".encode())
BUSY = "系统繁忙".encode()
UNSURE = "暂时未能确认签到结果".encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def say(text: str) -> None:
    print(text, flush=True)


# --- its own Redis -------------------------------------------------------------------------------

class OwnRedis:
    """A ``redis-server`` on a free port in ``workdir``, nothing kept on disk (as the shared one)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir), "--logfile", str(self.dir / "redis.log"), "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, sig)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def command(self, *args: str) -> bytes:
        import redis

        return redis.Redis.from_url(self.url, socket_timeout=5).execute_command(*args)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # a drill may leave it stopped
            self.kill()


# --- its own PostgreSQL --------------------------------------------------------------------------

def _pg_bin(name: str) -> str:
    found = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found (PostgreSQL's server binaries)")
    return path


class OwnPostgres:
    """A PostgreSQL cluster in ``workdir`` on a free port (run as the ``postgres`` user when we are
    root: the server refuses to run as root)."""

    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "pg"
        self.log = workdir / "pg.log"
        self.port = free_port()
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(workdir, "postgres")

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def start(self) -> None:
        self._run(_pg_bin("initdb"), "-D", str(self.dir), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")
        self._ctl("start")

    def _ctl(self, action: str, *extra: str) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir.parent} -c max_connections=200 "
                   "-c shared_buffers=64MB")
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                  action, *extra)

    def restart(self, mode: str = "fast") -> None:
        self._ctl("restart", "-m", mode)

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        finally:
            engine.dispose()
        return self.url(name)

    def stop(self) -> None:
        if self.dir.exists():
            try:
                self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass


# --- the server ------------------------------------------------------------------------------------

@dataclass
class ServerOptions:
    workers: int = 2
    worker_class: str = "gevent"
    threads: int = 1
    server: str = "gunicorn"


class Door:
    """The production app (``wsgi:app``) under gunicorn with gevent workers, as in production."""

    def __init__(self, db_url: str, redis_url: str, workdir: Path, workers: int = 2) -> None:
        self.env = {**os.environ, **app_config(db_url, redis_url), "PYTHONPATH": str(ROOT)}
        self.port = free_port()
        self.opts = ServerOptions(workers=workers)
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            # Its log, not the terminal: an outage makes every worker log each failed Redis call.
            old_err = os.dup(2)
            os.dup2(log.fileno(), 2)
            try:
                self.proc = spawn_gunicorn(self.opts, self.port, self.env, "wsgi:app")
            finally:
                os.dup2(old_err, 2)
                os.close(old_err)

    def workers(self) -> list[int]:
        assert self.proc is not None
        children: list[int] = []
        for path in glob(f"/proc/{self.proc.pid}/task/*/children"):
            children += [int(p) for p in Path(path).read_text().split()]
        return children

    def stop(self) -> None:
        if self.proc is not None:
            stop_gunicorn(self.proc)


# --- deliveries, as WeChat makes them ------------------------------------------------------------

@dataclass
class Try:
    started: float  # seconds since the burst began
    latency_s: float | None  # None: no answer (timeout or dropped connection)
    status: int = 0
    body: bytes = b""
    error: str = ""

    @property
    def kind(self) -> str:
        if self.latency_s is None:
            return "timeout" if self.error == "timeout" else "dropped"
        if self.status != 200:
            return f"http_{self.status}"
        if any(s in self.body for s in SIGNED):
            return "signed"
        if BUSY in self.body:
            return "busy"
        if UNSURE in self.body:
            return "unsure"
        if self.body in (b"", b"success"):
            return "empty"
        return "other"


@dataclass
class Delivery:
    index: int
    openid: str
    request: bytes
    due: float  # when the first try is sent (seconds since the burst began)
    tries: list[Try] = field(default_factory=list)

    @property
    def final(self) -> Try | None:
        answered = [t for t in self.tries if t.latency_s is not None]
        return answered[-1] if answered else None


#: A kept-alive connection is reused only this long after its last answer (see ``kept_alive``).
KEEP_ALIVE_S = 4.0


async def _deliver_all(deliveries: list[Delivery], port: int, concurrency: int, t0: float) -> None:
    slots = asyncio.Semaphore(concurrency)
    idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []

    def kept_alive() -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        # A connection idle for longer than the servers keep it (gunicorn 5 s, HAProxy 10 s) may be
        # closing as the request goes out, and the try would count as dropped: not reused, as HTTP
        # clients with an idle timeout do.
        while idle:
            reader, writer, since = idle.pop()
            if time.perf_counter() - since < KEEP_ALIVE_S:
                return reader, writer
            writer.close()
        return None

    async def attempt(d: Delivery) -> Try:
        async with slots:
            conn = kept_alive()
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), WECHAT_TIMEOUT_S)
                reader, writer = conn
                writer.write(d.request)
                left = WECHAT_TIMEOUT_S - (time.perf_counter() - started)
                status, body, close = await asyncio.wait_for(_read_response(reader), max(0.01, left))
            except TimeoutError:
                if conn is not None:
                    conn[1].close()
                return Try(started - t0, None, error="timeout")
            except (ConnectionError, asyncio.IncompleteReadError, OSError) as exc:
                if conn is not None:
                    conn[1].close()
                return Try(started - t0, None, error=type(exc).__name__)
            latency = time.perf_counter() - started
            if close:
                writer.close()
            else:
                idle.append((*conn, time.perf_counter()))
            return Try(started - t0, latency, status, body)

    async def deliver(d: Delivery) -> None:
        due = d.due
        for _ in range(TRIES):
            wait = t0 + due - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
            t = await attempt(d)
            d.tries.append(t)
            if t.latency_s is not None and t.status == 200:
                return
            due = t.started + WECHAT_TIMEOUT_S  # WeChat tries again 5 s after the previous try

    await asyncio.gather(*(deliver(d) for d in deliveries))
    for _reader, writer, _since in idle:
        writer.close()


def deliver(deliveries: list[Delivery], port: int, concurrency: int, t0: float) -> None:
    asyncio.run(_deliver_all(deliveries, port, concurrency, t0))


# --- the drill -----------------------------------------------------------------------------------

@dataclass
class Options:
    scans: int = 3000
    rate: float = 300.0  # scans arriving per second
    concurrency: int = 50
    fault_at: float = 2.0  # seconds into the burst
    workers: int = 2
    keep: bool = False
    #: Scans by other attendees before the burst, unmeasured: a worker's first requests load what it
    #: loads lazily, and a cold start is not the fault being drilled.
    warmup: int = 100


@dataclass
class Fault:
    """What a drill does to the system, in a thread of its own, ``fault_at`` s into the burst; it
    returns once the system is whole again (the time of that is the recovery)."""

    name: str
    inject: Callable[[Context], None]
    describe: str


@dataclass
class Context:
    redis: OwnRedis
    postgres: OwnPostgres
    door: Door
    t0: float = 0.0
    marks: dict[str, float] = field(default_factory=dict)  # event name -> seconds since the burst began
    fault_error: str = ""  # the fault could not be carried out as described
    screen: str = ""
    db_url: str = ""
    session_id: int = 0
    rate: float = 0.0
    #: 2 s after the recovery, while the burst may still run: the database's count, the screen's, the
    #: database's again (the screen must lie between, less the sign-ins of the last half second).
    after_recovery: dict = field(default_factory=dict)
    #: How long that read of the screen may take (the cluster drills' app hosts, working off a
    #: failover's backlog on a loaded machine, may take longer than 2 s to answer it).
    screen_timeout_s: float = 2.0

    def mark(self, name: str) -> None:
        self.marks[name] = round(time.perf_counter() - self.t0, 3)
        say(f"  [{self.marks[name]:6.2f} s] {name}")


@dataclass
class Result:
    drill: str
    measurements: dict
    violations: list[str]

    @property
    def ok(self) -> bool:
        return not self.violations


def run(fault: Fault, opts: Options) -> Result:
    workdir = Path(tempfile.mkdtemp(prefix=f"huiyi-drill-{fault.name}-"))
    redis, postgres = OwnRedis(workdir), OwnPostgres(workdir)
    door = None
    try:
        say(f"drill {fault.name}: {fault.describe}")
        say(f"  own Redis on :{redis.port}, own PostgreSQL on :{postgres.port} ({workdir})")
        redis.start()
        postgres.start()
        db_url = postgres.create_database("huiyi_drill")
        seeded = seed(db_url, redis.url, opts.warmup + opts.scans)
        door = Door(db_url, redis.url, workdir, opts.workers)
        door.start()
        say(f"  gunicorn -k gevent -w {opts.workers} on :{door.port}; {opts.scans} scans at {opts.rate:g}/s, "
            f"{opts.concurrency} in flight at most, fault at {opts.fault_at:g} s")
        host = f"127.0.0.1:{door.port}"
        now = int(time.time())
        deliveries = [Delivery(i, o, callback_request(o, seeded.scene, host, now=now, nonce=secrets.token_hex(8)),
                               due=i / opts.rate) for i, o in enumerate(seeded.openids)]
        warm, deliveries = deliveries[:opts.warmup], deliveries[opts.warmup:]
        for d in deliveries:
            d.due -= opts.warmup / opts.rate
        deliver(warm, door.port, opts.concurrency, time.perf_counter())
        ctx = Context(redis, postgres, door, screen=_screen_url(door, seeded), db_url=db_url,
                      session_id=seeded.session_id, rate=opts.rate)
        faulty = threading.Thread(target=_fault_thread, args=(fault, ctx, opts.fault_at), daemon=True)
        ctx.t0 = time.perf_counter()
        faulty.start()
        deliver(deliveries, door.port, opts.concurrency, ctx.t0)
        ctx.mark("burst answered")
        faulty.join(120)
        if faulty.is_alive():
            raise RuntimeError("the fault did not finish")
        measurements, violations = check(db_url, seeded, deliveries, ctx, ctx.screen)
        return Result(fault.name, measurements, violations)
    finally:
        if door is not None:
            door.stop()
        redis.stop()
        postgres.stop()
        if not opts.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            say(f"  kept {workdir}")


def _fault_thread(fault: Fault, ctx: Context, at: float) -> None:
    time.sleep(max(0.0, ctx.t0 + at - time.perf_counter()))
    ctx.mark("fault")
    try:
        fault.inject(ctx)
    except Exception as exc:
        ctx.fault_error = f"{type(exc).__name__}: {exc}"
    finally:
        ctx.mark("recovered")
    time.sleep(HEADCOUNT_WITHIN_S)
    engine = sa.create_engine(ctx.db_url)
    try:
        before = len(_db_state(engine, ctx.session_id)[0])
        shown = _screen_arrived(ctx.screen, ctx.screen_timeout_s)
        after = len(_db_state(engine, ctx.session_id)[0])
    finally:
        engine.dispose()
    ctx.after_recovery = {"at_s": round(time.perf_counter() - ctx.t0, 2), "database_before": before,
                          "screen": shown, "database_after": after}


def _screen_url(door: Door, seeded) -> str:
    key = screen_key(door.env["SECRET_KEY"], MEETING_CODE)
    return f"http://127.0.0.1:{door.port}/screen/{MEETING_CODE}/numbers.json?k={key}"


def _screen_arrived(url: str, timeout: float = 2.0) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return int(json.loads(resp.read())["arrived"])
    except Exception:
        return None


def _db_state(engine, session_id: int) -> tuple[dict[int, int], list[int]]:
    with engine.connect() as conn:
        per_contact = dict(conn.execute(sa.text(
            "SELECT contact_id, count(*) FROM signins WHERE session_id = :s AND revoked_at IS NULL "
            "GROUP BY contact_id"), {"s": session_id}).all())
        seqs = [r[0] for r in conn.execute(sa.text(
            "SELECT seq FROM signins WHERE session_id = :s AND revoked_at IS NULL ORDER BY seq"),
            {"s": session_id})]
    return per_contact, seqs


def headcount_lag(engine, session_id: int, screen: str, within_s: float) -> tuple[float | None, int | None, int]:
    """Seconds until the screen's 实到 equals the database's count (None: not within ``within_s``),
    with the last numbers read."""
    started = time.monotonic()
    shown = None
    while True:
        truth = len(_db_state(engine, session_id)[0])
        shown = _screen_arrived(screen)
        if shown == truth:
            return round(time.monotonic() - started, 2), shown, truth
        if time.monotonic() - started > within_s:
            return None, shown, truth
        time.sleep(0.1)


def check(db_url: str, seeded, deliveries: list[Delivery], ctx: Context, screen: str) -> tuple[dict, list[str]]:
    engine = sa.create_engine(db_url)
    try:
        # The screen, first: its numbers within 2 s of the end of the burst (and so of the fault's end).
        lag, shown, truth = headcount_lag(engine, seeded.session_id, screen, HEADCOUNT_WITHIN_S)
        per_contact, seqs = _db_state(engine, seeded.session_id)
    finally:
        engine.dispose()
    signed_in = {d.openid for d in deliveries if per_contact.get(seeded.contact_ids[d.openid], 0) > 0}
    tries = [t for d in deliveries for t in d.tries]
    kinds = Counter(t.kind for t in tries)
    finals = Counter((d.final.kind if d.final else "none") for d in deliveries)
    lat = sorted(t.latency_s for t in tries if t.latency_s is not None)

    def pct(p: float) -> float:
        return round(1000 * lat[min(len(lat) - 1, int(round(p / 100 * (len(lat) - 1))))], 1) if lat else 0.0

    acknowledged_lost = [d.openid for d in deliveries
                         if any(t.kind == "signed" for t in d.tries) and d.openid not in signed_in]
    empty_not_signed = [d.openid for d in deliveries
                        if any(t.kind == "empty" for t in d.tries) and d.openid not in signed_in]
    busy_but_signed = [d.openid for d in deliveries
                       if any(t.kind == "busy" for t in d.tries) and d.openid in signed_in]
    slow = [t for t in tries if (t.latency_s is not None and t.latency_s > WECHAT_TIMEOUT_S) or t.kind == "timeout"]
    unanswered = [d.openid for d in deliveries if d.final is None or d.final.status != 200]
    doubled = [c for c, k in per_contact.items() if k != 1]
    gapless = seqs == list(range(1, len(seqs) + 1))
    unconfirmed = [d.openid for d in deliveries if d.final is not None and d.final.kind == "unsure"]
    retried = sum(1 for d in deliveries if len(d.tries) > 1)
    told = {d.openid for d in deliveries if any(t.kind == "signed" for t in d.tries)}
    m = {
        "scans": len(deliveries), "tries": len(tries), "retried_deliveries": retried,
        "answers": dict(kinds), "final_answers": dict(finals),
        "signed_in_db": len(signed_in), "seq_1_to_n": gapless,
        "latency_ms": {"p50": pct(50), "p99": pct(99), "max": pct(100)},
        "acknowledged_lost": len(acknowledged_lost), "success_without_signin": len(empty_not_signed),
        "busy_but_signed_in": len(busy_but_signed), "tries_over_5s": len(slow),
        "deliveries_unanswered": len(unanswered), "doubled": len(doubled),
        "unconfirmed_final": len(unconfirmed),
        "signed_in_without_being_told": len(signed_in - told),
        "headcount": {"screen": shown, "database": truth, "equal_after_s": lag},
        "marks": ctx.marks,
        "headcount_2s_after_recovery": ctx.after_recovery,
        # When the tries that were not answered with a sign-in started, by second of the burst.
        "other_tries_by_second": {sec: dict(c) for sec, c in sorted(_by_second(tries).items())},
    }
    violations = []
    for name, bad in (("acknowledged but not in the database", acknowledged_lost),
                      ("answered `success` without being signed in", empty_not_signed),
                      ("told 系统繁忙 but signed in", busy_but_signed), ("tries not answered within 5 s", slow),
                      ("deliveries never answered", unanswered), ("signed in more than once", doubled)):
        if bad:
            violations.append(f"{len(bad)} {name}")
    if not gapless:
        violations.append("order numbers are not 1..N")
    if ctx.fault_error:
        violations.append(f"the fault was not carried out: {ctx.fault_error}")
    slack = int(ctx.rate * 0.5)  # the sign-ins whose events are on their way (half a second's worth)
    r = ctx.after_recovery
    if r.get("screen") is None or not r["database_before"] - slack <= r["screen"] <= r["database_after"]:
        violations.append(f"headcount 2 s after the recovery: {r}")
    if lag is None:
        violations.append(f"headcount {shown} != database {truth} {HEADCOUNT_WITHIN_S:g} s after the burst")
    return m, violations


def _by_second(tries: list[Try]) -> dict[int, Counter]:
    seconds: dict[int, Counter] = {}
    for t in tries:
        if t.kind != "signed":
            seconds.setdefault(int(t.started), Counter())[t.kind] += 1
    return seconds


def report(result: Result) -> int:
    m = result.measurements
    say(f"drill {result.drill}: {'OK' if result.ok else 'FAILED'}")
    for key in ("scans", "tries", "retried_deliveries", "answers", "final_answers", "signed_in_db", "latency_ms",
                "acknowledged_lost", "success_without_signin", "busy_but_signed_in", "tries_over_5s",
                "deliveries_unanswered", "doubled", "seq_1_to_n", "unconfirmed_final",
                "signed_in_without_being_told", "headcount", "headcount_2s_after_recovery", "marks",
                "other_tries_by_second"):
        say(f"  {key:30} {json.dumps(m[key], ensure_ascii=False)}")
    for v in result.violations:
        say(f"  VIOLATION: {v}")
    return 0 if result.ok else 1


def main(fault: Fault, argv: list[str] | None = None, **defaults) -> int:
    import argparse

    d = Options(**defaults)
    p = argparse.ArgumentParser(description=f"Fault drill: {fault.describe}")
    p.add_argument("--scans", type=int, default=d.scans)
    p.add_argument("--rate", type=float, default=d.rate, help="scans arriving per second")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--fault-at", type=float, default=d.fault_at, help="seconds into the burst")
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--warmup", type=int, default=d.warmup, help="unmeasured scans before the burst")
    p.add_argument("--keep", action="store_true", help="keep the drill's directory (logs, data)")
    p.add_argument("--json", action="store_true")
    a = p.parse_args(argv)
    opts = Options(scans=a.scans, rate=a.rate, concurrency=a.concurrency, fault_at=a.fault_at, workers=a.workers,
                   keep=a.keep, warmup=a.warmup)
    result = run(fault, opts)
    if a.json:
        print(json.dumps({"drill": result.drill, "ok": result.ok, "violations": result.violations,
                          **result.measurements}, ensure_ascii=False))
        return 0 if result.ok else 1
    return report(result)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run one of scripts/drills/<fault>.py")
