"""Big-screen benchmark: 500 sign-ins in 5 s while N screens listen over server-sent events.

    .venv/bin/python -m scripts.bench.bench_screen [--signins 500] [--seconds 5] [--clients 20]
        [--servers 2] [--server gunicorn|flask]

What it does:
1. creates a scratch PostgreSQL database (``huiyi_bench_screen``) with the migrations, uses Redis
   database 6 (flushed), and seeds a meeting with ``--signins`` invitees in 20 units;
2. starts ``--servers`` app servers (gunicorn with the production config, gevent workers; or
   ``flask run --with-threads``) on that database and Redis;
3. connects ``--clients`` SSE clients to ``/screen/<code>/events``, spread over the servers;
4. a separate process signs everyone in through the sign-in service, evenly over ``--seconds``
   seconds, from 16 threads, each sign-in its own transaction, and notes the time just before
   each commit (so the commit itself counts against us);
5. each client notes when each person's sign-in event arrives and the last numbers it was sent.

Reported: p50/p95/max of "commit → event received" over every (client, sign-in) pair, events
missed, and whether every client's last 实到 equals the database's count. Exit status 1 if any
client ends with a wrong count or misses an event.
"""

from __future__ import annotations

import argparse
import codecs
import http.client
import json
import multiprocessing as mp
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DB_NAME = "huiyi_bench_screen"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
SECRET = "bench-screen-secret-long-enough-for-production"  # gunicorn.conf.py refuses short keys
CODE = "BENCHSCR"


def database_url() -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + DB_NAME


def _env() -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET,
            "WECHAT_TOKEN": "bench-screen-token", "PUBLIC_BASE_URL": "http://bench.invalid",
            "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "DOOR_SIGNING_KEY": "YmVuY2gtZG9vci1rZXktb2YtdGhpcnR5LXR3by1ieXQ=",
            "PYTHONUNBUFFERED": "1"}


def setup(people: int) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(sa.text(f"CREATE DATABASE {DB_NAME}"))
    engine.dispose()
    os.environ.update(_env())
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    from datetime import UTC, datetime, timedelta

    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import create_meeting, invite_contact
    from models import Contact

    app = create_app({"DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET})
    with app.app_context():
        upgrade()
        units = [add_unit(f"B{i:02d}", f"基准单位{i:02d}", actor="bench") for i in range(20)]
        starts = datetime.now(UTC) + timedelta(minutes=20)
        meeting = create_meeting(CODE, "大屏基准测试会议", actor="bench", starts_at=starts,
                                 ends_at=starts + timedelta(hours=2), publish=True)
        for i in range(people):
            contact = Contact(unit=units[i % 20], name=f"测试{i:04d}", phone=f"139{i:08d}")
            db.session.add(contact)
            db.session.flush()
            invite_contact(meeting, contact, actor="bench")
        db.session.commit()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_servers(count: int, kind: str) -> tuple[list[str], list[subprocess.Popen]]:
    bases, procs = [], []
    for _ in range(count):
        port = _free_port()
        if kind == "gunicorn":
            env = {**_env(), "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_WORKERS": os.environ.get("BENCH_GUNICORN_WORKERS", "1"),
                   "GUNICORN_ACCESS_LOG": "/dev/null"}
            cmd = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
        else:
            env = _env()
            cmd = [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port), "--with-threads",
                   "--no-reload"]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        bases.append(f"http://127.0.0.1:{port}")
    for base in bases:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"server {base} did not start")
            time.sleep(0.2)
    return bases, procs


class Client(threading.Thread):
    """One screen: reads the SSE stream and notes when each person's sign-in arrives."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.arrivals: dict[int, float] = {}
        self.last_arrived: int | None = None
        self.numbers_log: list[tuple[float, int]] = []
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        # http.client's read1 returns whatever bytes have arrived: no per-byte Python loop, and no
        # waiting for a buffer to fill, so the client itself adds neither CPU load nor delay.
        parts = urlsplit(self.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", f"{parts.path}?{parts.query}", headers={"Accept": "text/event-stream"})
            res = conn.getresponse()
            if res.status != 200:
                raise RuntimeError(f"HTTP {res.status}")
            buffer = ""
            # A read may end inside a character (names are Chinese): decode across reads.
            decoder = codecs.getincrementaldecoder("utf-8")()
            while not self.stop.is_set():
                chunk = res.read1(65536)
                if not chunk:
                    return
                now = time.time()
                buffer += decoder.decode(chunk)
                *messages, buffer = buffer.split("\n\n")
                for message in messages:
                    self._handle(message, now)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the run goes on
            if not self.stop.is_set():
                self.error = repr(exc)
        finally:
            conn.close()

    def _handle(self, message: str, now: float) -> None:
        event, data = None, None
        for line in message.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        if data is None:
            return
        if event == "numbers":
            self.last_arrived = json.loads(data)["arrived"]
            self.numbers_log.append((now, self.last_arrived))
            self.connected.set()
        elif event == "signin":
            self.arrivals.setdefault(json.loads(data)["contact_id"], now)


def _signer(people_ids: list[int], seconds: float, out_path: str, start_at: float, offset: float) -> None:
    """Runs in its own process: sign everyone in at an even rate; write {contact_id: commit_time}."""
    os.environ.update(_env())
    from app.extensions import db
    from app.factory import create_app
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in
    from models import Contact, Meeting

    app = create_app({"DATABASE_URL": database_url(), "REDIS_URL": REDIS_URL, "SECRET_KEY": SECRET})
    times: dict[int, float] = {}
    interval = seconds / len(people_ids)
    start_at += offset * interval  # signer processes interleave their sign-ins

    def one(index: int, contact_id: int) -> None:
        due = start_at + index * interval
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        with app.app_context():
            meeting = db.session.scalar(sa.select(Meeting).where(Meeting.code == CODE))
            session = get_session(meeting)
            sign_in(meeting, session, db.session.get(Contact, contact_id), method="scan", check_window=False)
            t = time.time()
            db.session.commit()  # publishes to Redis after the commit
            times[contact_id] = t
            db.session.remove()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda a: one(*a), enumerate(people_ids)))
    Path(out_path).write_text(json.dumps(times))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--signins", type=int, default=500)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--servers", type=int, default=2)
    ap.add_argument("--signer-procs", type=int, default=2)
    ap.add_argument("--server", choices=["gunicorn", "flask"], default="gunicorn")
    args = ap.parse_args()

    print(f"setting up {DB_NAME} with {args.signins} invitees…", flush=True)
    setup(args.signins)
    engine = sa.create_engine(database_url().replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        people = [r[0] for r in conn.execute(sa.text("SELECT contact_id FROM invitees ORDER BY id"))]
    from app.services.live.headcount import screen_key

    bases, procs = start_servers(args.servers, args.server)
    clients = []
    try:
        key = screen_key(SECRET, CODE)
        clients = [Client(f"{bases[i % len(bases)]}/screen/{CODE}/events?k={key}") for i in range(args.clients)]
        for c in clients:
            c.start()
        for c in clients:
            if not c.connected.wait(10):
                raise SystemExit(f"client {c.url} did not connect: {c.error}")
        out = ROOT / "instance" / "bench_screen_commits.json"
        out.parent.mkdir(exist_ok=True)
        # Several signer processes (one Python process cannot drive 100 commits/s past its GIL on a
        # small machine); all start together once their apps are built.
        start_at = time.time() + 4.0
        ctx = mp.get_context("spawn")
        n = args.signer_procs
        outs = [out.with_suffix(f".{i}.json") for i in range(n)]
        signers = [ctx.Process(target=_signer, args=(people[i::n], args.seconds, str(outs[i]), start_at, i / n))
                   for i in range(n)]
        for proc in signers:
            proc.start()
        for proc in signers:
            proc.join()
        commits = {int(k): v for o in outs for k, v in json.loads(o.read_text()).items()}
        # Give the streams time to deliver the tail, then stop.
        deadline = time.time() + 5
        while time.time() < deadline and any(len(c.arrivals) < len(commits) or c.last_arrived != len(commits)
                                             for c in clients):
            time.sleep(0.05)
        for c in clients:
            c.stop.set()
        with engine.connect() as conn:
            db_count = conn.execute(sa.text("SELECT count(*) FROM signins WHERE revoked_at IS NULL")).scalar_one()
    finally:
        for p in procs:
            # SIGINT is a quick shutdown for gunicorn and flask alike; open SSE streams would hold
            # a graceful one for its full timeout.
            os.killpg(p.pid, signal.SIGINT)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)

    latencies = sorted(c.arrivals[cid] - t for c in clients for cid, t in commits.items() if cid in c.arrivals)
    missed = sum(1 for c in clients for cid in commits if cid not in c.arrivals)
    finals = [c.last_arrived for c in clients]
    span = max(commits.values()) - min(commits.values())
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    print(f"servers: {args.servers} × {args.server}; SSE clients: {args.clients}; "
          f"target: {args.signins} sign-ins in {args.seconds:.0f} s from {args.signer_procs} processes")
    print(f"sign-ins committed: {len(commits)} in {span:.2f} s ({len(commits) / span:.0f}/s); "
          f"database count: {db_count}")
    print(f"commit → visible on screen, over {len(latencies)} (client, sign-in) pairs: "
          f"p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    print(f"events missed: {missed}; clients whose last 实到 == {db_count}: "
          f"{sum(1 for f in finals if f == db_count)}/{len(clients)} (finals: {sorted(set(finals))})")
    last_commit = max(commits.values())
    final_lag = sorted(next((t for t, n in c.numbers_log if n == db_count), float("inf")) - last_commit
                       for c in clients)
    print(f"last commit → 实到 {db_count} shown, per client: median {statistics.median(final_lag) * 1000:.0f} ms, "
          f"max {final_lag[-1] * 1000:.0f} ms")
    errors = [c.error for c in clients if c.error]
    if errors:
        print("client errors:", errors[:3])
    ok = missed == 0 and all(f == db_count for f in finals) and db_count == len(people) and p95 < 1.0
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
