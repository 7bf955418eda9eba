"""Organizer console pages on a meeting of 10,000 invitees, a 10,000-row invitee spreadsheet, and
20 organizers' live pages open while sign-ins arrive at 1,000/s.

    taskset -c 0,1 .venv/bin/python -m scripts.bench.bench_console [--invitees 10000] [--n 100]
        [--concurrency 2] [--workers 2] [--import-rows 10000] [--explain] [--json]
        [--live-only] [--consoles 20] [--rate 1000] [--seconds 5]

1. Creates a database of its own (``huiyi_bench_console``, dropped afterwards unless ``--keep-db``),
   runs the migrations and seeds with bulk SQL: 40 units, ``invitees`` + ``import-rows / 2`` active
   contacts, one published meeting of the first unit inviting ``invitees`` of them (groups, seats,
   roles), 70% bound to WeChat, 30% signed in to the session, 2% on leave, 50 walk-ins pending; the
   owner is an organizer of the meeting's unit. Redis: ``BENCH_REDIS_URL``, else a database claimed
   as a test run claims one (tests/backends.py), flushed, and released afterwards.
2. Starts gunicorn (``wsgi:app``, sync workers, the bench config without an access log) and logs in
   as the owner with a signed session cookie, as the browser would hold it after the scan login.
3. Times ``--n`` GETs of each page with ``--concurrency`` connections: the meeting list ``/admin``,
   the invitees page (page 1, a filtered page, a search), the directory search JSON, the live page
   ``/admin/<code>``, its numbers.json, and its reads of who is missing (a unit, a search). Status
   codes are reported as they come: a page another engineer has not built yet answers 404 and is
   reported so, not hidden. ``--live-only``: the live page's rows only, and no import.
4. Uploads a ``--import-rows`` spreadsheet (half the meeting's invitees with a new group and seat,
   half people not yet invited), reads the report page and confirms it, each over HTTP; the import's
   seconds are the sum of the three. Checks the database afterwards.
5. ``--consoles`` live pages' event streams on a gevent gunicorn (the production worker class), and
   ``--rate`` sign-ins' live events per second for ``--seconds`` (:func:`run_stream`): each event's
   delay to every console, the numbers messages' count and size, the bytes per console, the
   server's CPU seconds, and whether every console ends on the right count.

Targets (issue 15): p95 < 300 ms per page, the import checked and applied < 10 s, every event on
every console with p95 < 1 s, on 2 cores.
``--explain`` prints PostgreSQL's plan (EXPLAIN ANALYZE) for the list's count and page queries.
Exit status 1 if the import's result in the database is wrong, or a console missed an event or
ended on a wrong count.
"""

from __future__ import annotations

import argparse
import codecs
import http.client
import io
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import redis
import requests
import sqlalchemy as sa

from scripts.bench import cpu
from scripts.bench.bench_callback import machine
from scripts.bench.loadgen import RunStats, fire
from scripts.bench.servers import spawn_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[2]
ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
#: BENCH_REDIS_URL names a Redis database to use (and flush); else one is claimed as a test run
#: claims one (tests/backends.py), so the bench never flushes a database a test run is using.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "")
REDIS_BASE = "redis://127.0.0.1:6379"
CLAIMABLE_REDIS_DBS = (1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 15)
CODE = "BENCHCON"
TARGET_P95_MS = 300.0
TARGET_IMPORT_S = 10.0
#: Sign-in → its event on every open console.
TARGET_EVENT_P95_MS = 1000.0
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英"


@dataclass
class Options:
    invitees: int = 10_000
    import_rows: int = 10_000
    n: int = 100
    concurrency: int = 2
    workers: int = 2
    worker_class: str = "sync"
    threads: int = 1
    server: str = "gunicorn"
    db_name: str = "huiyi_bench_console"
    redis_url: str = ""
    keep_db: bool = False
    explain: bool = False
    live_only: bool = False
    consoles: int = 20
    rate: int = 1000
    seconds: float = 5.0


@dataclass
class PageResult:
    name: str
    path: str
    n: int
    statuses: dict[str, int]
    p50_ms: float
    p95_ms: float
    max_ms: float
    bytes: int


@dataclass
class Report:
    invitees: int
    pages: list[PageResult]
    import_rows: int
    import_check_s: float
    import_report_s: float
    import_apply_s: float
    import_total_s: float
    import_statuses: list[int]
    import_check: dict
    server: str
    concurrency: int
    machine: dict
    stream: dict | None = None
    targets: dict = field(default_factory=dict)


# --- setup -------------------------------------------------------------------------------------

def db_url(opts: Options) -> str:
    return sa.engine.make_url(ADMIN_URL).set(database=opts.db_name).render_as_string(hide_password=False)


def _admin(sql: str) -> None:
    engine = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(sql))
    finally:
        engine.dispose()


def app_config(opts: Options) -> dict[str, str]:
    return {"DATABASE_URL": db_url(opts), "REDIS_URL": opts.redis_url, "SECRET_KEY": "bench-console-" + "k" * 40,
            "WECHAT_TOKEN": "huiyibenchtoken", "PUBLIC_BASE_URL": "http://huiyi.bench",
            "WECHAT_API_BASE_URL": "http://127.0.0.1:9", "DOOR_SIGNING_KEY": "YmVuY2gtZG9vci1rZXktb2YtdGhpcnR5LXR3by1ieXQ="}


def _name(i: int) -> str:
    return SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)]


def seed(opts: Options) -> dict:
    """The meeting, its invitees and the directory, in bulk statements. Returns ids the run needs."""
    from flask_migrate import upgrade

    from app.extensions import db, get_redis
    from app.factory import create_app
    from app.services.meetings.meetings import create_meeting
    from models import Contact, Invitee, Leave, SignIn, Unit, UnitOrganizer, WechatIdentity

    _admin(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)')
    _admin(f'CREATE DATABASE "{opts.db_name}"')
    app = create_app(app_config(opts))
    with app.app_context():
        upgrade()
        get_redis().flushdb()
        units = db.session.execute(sa.insert(Unit).returning(Unit.id, sort_by_parameter_order=True), [
            {"code": f"BU{u:02d}", "name": f"压测单位{u:02d}局", "aliases": []} for u in range(40)]).scalars().all()
        people = opts.invitees + opts.import_rows // 2
        contact_ids = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
            {"unit_id": units[i % len(units)], "name": _name(i), "phone": f"139{i:08d}", "tags": []}
            for i in range(people)]).scalars().all()
        owner = db.session.execute(sa.insert(Contact).returning(Contact.id), [
            {"unit_id": units[0], "name": "压测主办", "phone": "13700000000", "tags": []}]).scalar_one()
        db.session.execute(sa.insert(UnitOrganizer), [{"unit_id": units[0], "contact_id": owner}])
        now = datetime.now(UTC)
        identity = db.session.execute(sa.insert(WechatIdentity).returning(WechatIdentity.id), [
            {"oa_openid": "o_bench_owner", "contact_id": owner, "bound_at": now}]).scalar_one()
        meeting = create_meeting(CODE, "压测：全区干部大会", actor="bench", starts_at=now + timedelta(minutes=30),
                                 ends_at=now + timedelta(hours=3), publish=True,
                                 signin_opens_at=now - timedelta(minutes=30))
        meeting.unit_id = units[0]
        session_id = meeting.sessions[0].id
        invited = contact_ids[:opts.invitees]
        groups = [f"第{g + 1}代表团" for g in range(12)] + [None] * 4
        roles = ["代表"] * 8 + ["列席", "领导", "工作人员", "媒体"]
        db.session.execute(sa.insert(Invitee), [
            {"meeting_id": meeting.id, "contact_id": c, "role": roles[i % len(roles)],
             "group_name": groups[i % len(groups)], "seat": f"{i // 40 + 1}排{i % 40 + 1}座" if i % 3 else None,
             "status": "pending" if i >= opts.invitees - 50 else "approved"} for i, c in enumerate(invited)])
        db.session.execute(sa.insert(WechatIdentity), [
            {"oa_openid": f"o_bench_{c}", "contact_id": c, "bound_at": now} for i, c in enumerate(invited) if i % 10 < 7])
        db.session.execute(sa.insert(SignIn), [
            {"meeting_id": meeting.id, "session_id": session_id, "contact_id": c, "method": "scan",
             "signed_at": now - timedelta(seconds=i)} for i, c in enumerate(invited) if i % 10 < 3])
        db.session.execute(sa.insert(Leave), [
            {"meeting_id": meeting.id, "contact_id": c, "reason": "出差", "approver": "办公室", "recorded_by": "bench"}
            for i, c in enumerate(invited) if i % 50 == 49])
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        cookie = app.session_interface.get_signing_serializer(app).dumps({"identity_id": identity})
        out = {"meeting_id": meeting.id, "session_id": session_id, "unit_id": units[3], "cookie": cookie,
               "cookie_name": app.config["SESSION_COOKIE_NAME"]}
        db.session.remove()
        db.engine.dispose()
    return out


def spreadsheet(opts: Options) -> bytes:
    """``import_rows`` rows: the first half re-lists invitees with a new group and seat, the second
    half names directory people not yet invited."""
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("参会人员")
    ws.append(["序号", "单位", "姓名", "手机", "身份", "分组", "座位", "备注"])
    half = opts.import_rows // 2
    for k in range(opts.import_rows):
        i = k if k < half else opts.invitees + (k - half)
        ws.append([k + 1, f"压测单位{i % 40:02d}局", _name(i), f"139{i:08d}", "代表" if k % 5 else "列席",
                   f"导入{k % 9 + 1}组", f"{k // 30 + 1}排{k % 30 + 1}号", "导入" if k % 100 == 0 else ""])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- measuring ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_request(path: str, host: str, cookie: str, accept: str = "text/html") -> bytes:
    return (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: huiyi-bench\r\nAccept: {accept}\r\n"
            f"Cookie: {cookie}\r\n\r\n").encode()


def time_page(name: str, path: str, opts: Options, port: int, cookie: str, accept: str = "text/html") -> PageResult:
    host = f"127.0.0.1:{port}"
    fire([get_request(path, host, cookie, accept)] * 3, "127.0.0.1", port, 1)  # warm each worker's caches
    stats: RunStats = fire([get_request(path, host, cookie, accept)] * opts.n, "127.0.0.1", port, opts.concurrency)
    statuses = Counter(str(r.status) for r in stats.results)
    ok = [r for r in stats.results if r.status == 200]
    return PageResult(name=name, path=path, n=len(stats.results), statuses=dict(statuses),
                      p50_ms=round(stats.percentile_ms(50), 1), p95_ms=round(stats.percentile_ms(95), 1),
                      max_ms=round(stats.percentile_ms(100), 1), bytes=len(ok[0].body) if ok else 0)


def _follow_job(http, url: str, timeout_s: float = 300) -> str:
    """Poll a job's page until it leads elsewhere (the report, or the list); returns that URL."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        res = http.get(url, allow_redirects=False, timeout=60)
        if res.status_code == 302:
            return res.headers["Location"]
        time.sleep(0.1)
    raise TimeoutError(f"job page {url} never finished")


def run_import(base: str, cookie_name: str, cookie: str, data: bytes) -> tuple[list[float], list[int]]:
    """Upload, wait for the check (a job since issue 21.10), read the report, confirm (a job too when
    large): each over HTTP, with the page's CSRF token. Times: upload + check, report, confirm + apply."""
    http = requests.Session()
    http.cookies.set(cookie_name, cookie, domain="127.0.0.1")
    page = http.get(f"{base}/admin/{CODE}/invitees", timeout=60)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
    times, statuses = [], []
    t0 = time.perf_counter()
    res = http.post(f"{base}/admin/{CODE}/invitees/import", data={"csrf_token": token},
                    files={"file": ("参会人员.xlsx", data)}, allow_redirects=False, timeout=120)
    statuses.append(res.status_code)
    location = res.headers.get("Location", "")
    if "/invitees/import/job/" in location:
        location = _follow_job(http, base + location)
    times.append(time.perf_counter() - t0)
    report_url = location if location.startswith("http") else base + location
    t0 = time.perf_counter()
    report = http.get(report_url, timeout=120)
    times.append(time.perf_counter() - t0)
    statuses.append(report.status_code)
    t0 = time.perf_counter()
    done = http.post(report_url, data={"csrf_token": token}, allow_redirects=False, timeout=120)
    if "/invitees/import/job/" in done.headers.get("Location", ""):
        _follow_job(http, base + done.headers["Location"])
    times.append(time.perf_counter() - t0)
    statuses.append(done.status_code)
    return times, statuses


def start_job_worker(env: dict[str, str]) -> subprocess.Popen:
    """An rq worker beside gunicorn, as production runs one: the spreadsheet is checked there."""
    rq = shutil.which("rq", path=str(Path(sys.executable).parent)) or "rq"
    return subprocess.Popen([rq, "worker", "--url", env["REDIS_URL"], "--worker-class", "worker.Worker", "huiyi",
                             "--logging_level", "WARNING"], env=env)


def check_import(opts: Options, meeting_id: int) -> dict:
    engine = sa.create_engine(db_url(opts))
    try:
        with engine.connect() as conn:
            total = conn.execute(sa.text("SELECT count(*) FROM invitees WHERE meeting_id = :m"),
                                 {"m": meeting_id}).scalar()
            imported = conn.execute(sa.text("SELECT count(*) FROM invitees WHERE meeting_id = :m "
                                            "AND group_name LIKE '导入%'"), {"m": meeting_id}).scalar()
            audit = conn.execute(sa.text("SELECT data FROM audit_log WHERE action = 'invitees.import'")).scalars().all()
    finally:
        engine.dispose()
    expected_total = opts.invitees + opts.import_rows - opts.import_rows // 2
    result = {"invitees_after": total, "expected": expected_total, "rows_with_imported_group": imported,
              "audit": audit[0] if audit else None}
    result["ok"] = total == expected_total and imported == opts.import_rows and len(audit) == 1
    return result


def explain(opts: Options, meeting_id: int, session_id: int, unit_id: int) -> None:
    """PostgreSQL's plans for the list's two queries, as the service builds them."""
    from app.extensions import db
    from app.factory import create_app
    from app.services.meetings import invitees as svc
    from models import Meeting, MeetingSession

    app = create_app(app_config(opts))
    with app.app_context():
        meeting = db.session.get(Meeting, meeting_id)
        session = db.session.get(MeetingSession, session_id)
        captured: list[tuple[str, object]] = []

        def keep(conn, cursor, statement, parameters, context, executemany):
            if "FROM invitees" in statement and ("count(*) FILTER" in statement or "LIMIT" in statement):
                captured.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", keep)
        svc.list_invitees(meeting, svc.Filters(status="unsigned", unit_id=unit_id), page=3, session=session)
        sa.event.remove(db.engine, "before_cursor_execute", keep)
        for statement, parameters in captured:
            plan = db.session.connection().exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            _say("\n".join(row[0] for row in plan))
            _say("-" * 100)
        db.session.remove()


class ConsoleStream(threading.Thread):
    """One organizer's live page: reads /admin/<code>/events as the browser would (its cookie), and
    notes the bytes, each person's sign-in event as it arrives, and each numbers message."""

    def __init__(self, port: int, path: str, cookie: str) -> None:
        super().__init__(daemon=True)
        self.port, self.path, self.cookie = port, path, cookie
        self.arrivals: dict[int, float] = {}
        self.bytes = 0
        self.numbers: list[tuple[float, int, int]] = []  # (when, 实到, bytes of the message)
        self.connected = threading.Event()
        self.stop = threading.Event()
        self.error: str | None = None

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("GET", self.path, headers={"Accept": "text/event-stream", "Cookie": self.cookie})
            res = conn.getresponse()
            if res.status != 200:
                raise RuntimeError(f"HTTP {res.status}")
            buffer = ""
            decode = codecs.getincrementaldecoder("utf-8")().decode  # a chunk may end inside a character
            while not self.stop.is_set():
                chunk = res.read1(65536)  # whatever has arrived: the client adds no delay
                if not chunk:
                    return
                now = time.time()
                self.bytes += len(chunk)
                buffer += decode(chunk)
                *messages, buffer = buffer.split("\n\n")
                for message in messages:
                    self._handle(message, now)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            if not self.stop.is_set():
                self.error = repr(exc)[:300]
        finally:
            conn.close()

    def _handle(self, message: str, now: float) -> None:
        event = data = None
        for line in message.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        if data is None:
            return
        if event == "numbers":
            self.numbers.append((now, json.loads(data)["arrived"], len(message) + 2))
            self.connected.set()
        elif event == "signin":
            self.arrivals.setdefault(json.loads(data)["contact_id"], now)


def run_stream(opts: Options, seeded: dict, env: dict[str, str]) -> dict:
    """``consoles`` live pages open on a gevent gunicorn (the production worker class) while sign-ins'
    live events arrive at ``rate`` per second for ``seconds``.

    The events are published as the sign-in write publishes them after its commits (the counters
    and the stream, in rounds every 10 ms), without the sign-ins themselves: what is measured is
    what the open consoles cost, apart from the sign-ins, whose cost bench_callback measures."""
    from dataclasses import replace

    from app.extensions import db, get_redis
    from app.factory import create_app
    from app.services.live import events as live_events
    from app.services.live import headcount
    from models import Contact, Invitee, Leave, SignIn, Unit

    app = create_app(app_config(opts))
    with app.app_context():
        meeting_id, session_id = seeded["meeting_id"], seeded["session_id"]
        rows = db.session.execute(
            sa.select(Contact.id, Contact.name, Unit.id, Unit.name).join(Invitee, Invitee.contact_id == Contact.id)
            .join(Unit, Unit.id == Contact.unit_id)
            .where(Invitee.meeting_id == meeting_id, Invitee.status == "approved",
                   ~Contact.id.in_(sa.select(SignIn.contact_id).where(SignIn.session_id == session_id)),
                   ~Contact.id.in_(sa.select(Leave.contact_id).where(Leave.meeting_id == meeting_id)))
            .order_by(Contact.id)).all()
        total = min(len(rows), int(opts.rate * opts.seconds))
        rows = rows[:total]
        arrived_before = headcount.rebuild(session_id)
        # The counters hold sign-ins the database does not: no reconcile may run during the test.
        get_redis().set(headcount.built_key(session_id), "1", ex=600)
        db.session.remove()
    port = _free_port()
    proc = spawn_gunicorn(replace(opts, worker_class="gevent"), port, env, "wsgi:app")
    consoles = [ConsoleStream(port, f"/admin/{CODE}/events", f"{seeded['cookie_name']}={seeded['cookie']}")
                for _ in range(opts.consoles)]
    published: dict[int, float] = {}
    try:
        for c in consoles:
            c.start()
        for c in consoles:
            if not c.connected.wait(20):
                raise RuntimeError(f"a console stream did not open: {c.error}")
        cpu_before = cpu.snapshot(proc.pid)
        started = time.monotonic()
        tick, per_tick = 0.01, max(1, round(opts.rate * 0.01))
        with app.app_context():
            at = datetime.now(UTC)
            for k in range(0, total, per_tick):
                due = started + (k // per_tick) * tick
                if (pause := due - time.monotonic()) > 0:
                    time.sleep(pause)
                batch = [live_events.signin_event(meeting_id, session_id, seq=None, contact_id=cid, name=name,
                                                  unit_id=uid, unit=uname, at=at, late=False, method="scan")
                         for cid, name, uid, uname in rows[k:k + per_tick]]
                now = time.time()
                live_events.publish_signins(batch)
                published.update((cid, now) for cid, *_ in rows[k:k + per_tick])
        publish_s = time.monotonic() - started
        last_published = max(published.values())
        final = arrived_before + total
        deadline = time.time() + 15
        while time.time() < deadline and any(len(c.arrivals) < total or not c.numbers or c.numbers[-1][1] != final
                                             for c in consoles):
            time.sleep(0.05)
        cpu_after = cpu.snapshot(proc.pid)
        elapsed = time.monotonic() - started
    finally:
        for c in consoles:
            c.stop.set()
        stop_gunicorn(proc)
    delays = sorted(c.arrivals[cid] - t for c in consoles for cid, t in published.items() if cid in c.arrivals)
    missed = sum(1 for c in consoles for cid in published if cid not in c.arrivals)
    numbers_sizes = [b for c in consoles for _t, _n, b in c.numbers]
    final_lag = sorted(next((t for t, n, _b in c.numbers if n == final), float("inf")) - last_published
                       for c in consoles)

    def pct(values: list[float], p: float) -> float:
        return round(1000 * values[min(len(values) - 1, int(p / 100 * (len(values) - 1)))], 1) if values else 0.0

    return {
        "consoles": opts.consoles, "signins": total, "rate_per_s": round(total / publish_s) if publish_s else 0,
        "server": f"gunicorn -k gevent -w {opts.workers}",
        "event_delay_ms": {"p50": pct(delays, 50), "p95": pct(delays, 95), "max": pct(delays, 100)},
        "events_missed": missed,
        "numbers_messages_per_console": round(statistics.mean(len(c.numbers) for c in consoles), 1),
        "numbers_message_bytes": {"mean": round(statistics.mean(numbers_sizes)), "max": max(numbers_sizes)},
        "bytes_per_console": round(statistics.mean(c.bytes for c in consoles)),
        "bytes_per_console_per_s": round(statistics.mean(c.bytes for c in consoles) / elapsed),
        "server_cpu_s": round(cpu_after["server"] - cpu_before["server"], 2),
        "redis_cpu_s": round(cpu_after["redis"] - cpu_before["redis"], 2),
        "elapsed_s": round(elapsed, 2),
        "last_signin_to_final_numbers_ms": {"median": pct(final_lag, 50), "max": pct(final_lag, 100)},
        "consoles_with_final_count": sum(1 for c in consoles if c.numbers and c.numbers[-1][1] == final),
        "errors": [c.error for c in consoles if c.error][:3],
    }


@contextmanager
def redis_database(opts: Options) -> Iterator[None]:
    """Sets ``opts.redis_url``: BENCH_REDIS_URL, else a database claimed the way a test run claims
    one (the claim in database 0, released afterwards, expiring by itself if the bench dies)."""
    if BENCH_REDIS_URL:
        opts.redis_url = BENCH_REDIS_URL
        yield
        return
    admin = redis.Redis.from_url(f"{REDIS_BASE}/0", socket_timeout=2)
    for index in CLAIMABLE_REDIS_DBS:
        key = f"huiyi:test-run-claims:{index}"
        if admin.set(key, f"bench_console:{os.getpid()}", nx=True, ex=3600):
            break
    else:
        raise RuntimeError(f"every Redis database {CLAIMABLE_REDIS_DBS} is claimed; set BENCH_REDIS_URL")
    opts.redis_url = f"{REDIS_BASE}/{index}"
    try:
        yield
    finally:
        redis.Redis.from_url(opts.redis_url).flushdb()
        admin.delete(key)


def _say(text: str) -> None:
    """Progress goes to stderr, so that ``--json`` leaves stdout to the one report object."""
    print(text, file=sys.stderr, flush=True)


def run(opts: Options) -> Report:
    mach = machine(ADMIN_URL)
    mach["cores_allowed"] = len(os.sched_getaffinity(0))
    _say(f"seeding {opts.invitees} invitees into {opts.db_name} …")
    t0 = time.perf_counter()
    seeded = seed(opts)
    _say(f"seeded in {time.perf_counter() - t0:.1f} s")
    data = b"" if opts.live_only else spreadsheet(opts)
    if data:
        _say(f"spreadsheet: {opts.import_rows} rows, {len(data) / 1e6:.1f} MB")
    if opts.explain:
        explain(opts, seeded["meeting_id"], seeded["session_id"], seeded["unit_id"])
    port = _free_port()
    env = {**os.environ, **app_config(opts), "PYTHONPATH": str(ROOT)}
    proc = spawn_gunicorn(opts, port, env, "wsgi:app")
    worker = None if opts.live_only else start_job_worker(env)
    times, statuses = [0.0, 0.0, 0.0], []
    try:
        cookie = f"{seeded['cookie_name']}={seeded['cookie']}"
        pages = [] if opts.live_only else [
            ("meeting list", "/admin"),
            ("invitees, page 1", f"/admin/{CODE}/invitees"),
            ("invitees, filtered", f"/admin/{CODE}/invitees?status=unsigned&unit={seeded['unit_id']}&page=3"),
            ("invitees, search", f"/admin/{CODE}/invitees?q={requests.utils.quote('王芳')}"),
            ("directory search JSON", f"/admin/{CODE}/directory.json?q={requests.utils.quote('李')}"),
        ]
        # The live page, what it re-reads every 15 s, and its reads of who is missing.
        pages += [
            ("live page", f"/admin/{CODE}"),
            ("live numbers.json", f"/admin/{CODE}/numbers.json"),
            ("missing.json, a unit", f"/admin/{CODE}/missing.json?unit={seeded['unit_id']}"),
            ("missing.json, search", f"/admin/{CODE}/missing.json?q={requests.utils.quote('刘')}"),
        ]
        results = []
        for name, path in pages:
            accept = "application/json" if ".json" in path else "text/html"
            result = time_page(name, path, opts, port, cookie, accept)
            _say(f"{name:24} {result.p50_ms:7.1f} {result.p95_ms:7.1f} ms  {result.bytes:8d} B  "
                 f"statuses {result.statuses}")
            results.append(result)
        if not opts.live_only:
            times, statuses = run_import(f"http://127.0.0.1:{port}", seeded["cookie_name"], seeded["cookie"], data)
    finally:
        stop_gunicorn(proc)
        if worker is not None:
            worker.terminate()
            worker.wait(10)
    stream = None
    if opts.consoles:
        _say(f"{opts.consoles} console streams, sign-ins at {opts.rate}/s for {opts.seconds:g} s …")
        stream = run_stream(opts, seeded, env)
    checked = {"ok": True, "skipped": True} if opts.live_only else check_import(opts, seeded["meeting_id"])
    report = Report(invitees=opts.invitees, pages=results, import_rows=0 if opts.live_only else opts.import_rows,
                    import_check_s=round(times[0], 2), import_report_s=round(times[1], 2),
                    import_apply_s=round(times[2], 2), import_total_s=round(sum(times), 2),
                    import_statuses=statuses, import_check=checked,
                    server=f"gunicorn -k {opts.worker_class} -w {opts.workers}", concurrency=opts.concurrency,
                    machine=mach, stream=stream)
    report.targets = {
        f"{p.name}: p95 < {TARGET_P95_MS:.0f} ms": (p.p95_ms < TARGET_P95_MS if p.statuses.get("200") == p.n
                                                   else f"not measured (statuses {p.statuses})")
        for p in results}
    if not opts.live_only:
        report.targets[f"import < {TARGET_IMPORT_S:.0f} s"] = (report.import_total_s < TARGET_IMPORT_S
                                                              and statuses == [302, 200, 302])
        report.targets["import result in the database"] = checked["ok"]
    if stream is not None:
        report.targets[f"{stream['consoles']} consoles: every event and the final count, events p95 < "
                       f"{TARGET_EVENT_P95_MS:.0f} ms"] = (
            stream["events_missed"] == 0 and stream["consoles_with_final_count"] == stream["consoles"]
            and stream["event_delay_ms"]["p95"] < TARGET_EVENT_P95_MS)
    if not opts.keep_db:
        _admin(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)')
    return report


def summary(r: Report) -> str:
    lines = [f"meeting of {r.invitees} invitees; {r.server}, {r.concurrency} connections, "
             f"{r.pages[0].n if r.pages else 0} requests per page",
             f"{'page':24} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'bytes':>8}  statuses"]
    lines += [f"{p.name:24} {p.p50_ms:8.1f} {p.p95_ms:8.1f} {p.max_ms:8.1f} {p.bytes:8d}  {p.statuses}"
              for p in r.pages]
    if r.stream:
        st = r.stream
        lines += [f"streams       {st['consoles']} consoles on {st['server']}, {st['signins']} sign-ins at "
                  f"{st['rate_per_s']}/s: event delay p50 {st['event_delay_ms']['p50']} p95 "
                  f"{st['event_delay_ms']['p95']} max {st['event_delay_ms']['max']} ms, missed "
                  f"{st['events_missed']}; numbers messages {st['numbers_messages_per_console']} per console, "
                  f"{st['numbers_message_bytes']['mean']} B each (max {st['numbers_message_bytes']['max']}); "
                  f"{st['bytes_per_console_per_s']} B/s per console; server CPU {st['server_cpu_s']} s over "
                  f"{st['elapsed_s']} s; final count on {st['consoles_with_final_count']}/{st['consoles']} "
                  f"(last sign-in → shown: median {st['last_signin_to_final_numbers_ms']['median']} ms)"
                  + (f"; errors {st['errors']}" if st["errors"] else "")]
    lines += [f"import {r.import_rows} rows: upload + check {r.import_check_s:.2f} s, report page "
              f"{r.import_report_s:.2f} s, confirm + apply {r.import_apply_s:.2f} s = {r.import_total_s:.2f} s "
              f"(HTTP {r.import_statuses})",
              f"import check   {'OK' if r.import_check['ok'] else 'FAILED'} {json.dumps(r.import_check, ensure_ascii=False)}",
              "targets       " + "; ".join(f"{k}: {'yes' if v is True else 'NO' if v is False else v}"
                                           for k, v in r.targets.items()),
              f"machine       {json.dumps(r.machine, ensure_ascii=False)} python {platform.python_version()}"]
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> tuple[Options, bool]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    d = Options()
    p.add_argument("--invitees", type=int, default=d.invitees)
    p.add_argument("--import-rows", type=int, default=d.import_rows)
    p.add_argument("--n", type=int, default=d.n, help="requests per page")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--db-name", default=d.db_name)
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE of the list's queries")
    p.add_argument("--live-only", action="store_true", help="only the live page, its JSON and its streams")
    p.add_argument("--consoles", type=int, default=d.consoles, help="open console streams (0: none)")
    p.add_argument("--rate", type=int, default=d.rate, help="sign-ins per second while they are open")
    p.add_argument("--seconds", type=float, default=d.seconds)
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    a = p.parse_args(argv)
    return Options(invitees=a.invitees, import_rows=a.import_rows, n=a.n, concurrency=a.concurrency,
                   workers=a.workers, db_name=a.db_name, keep_db=a.keep_db, explain=a.explain,
                   live_only=a.live_only, consoles=a.consoles, rate=a.rate, seconds=a.seconds), a.json


def main(argv: list[str] | None = None) -> int:
    opts, as_json = parse_args(argv)
    with redis_database(opts):
        report = run(opts)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=2, default=str) if as_json else summary(report))
    stream_ok = report.stream is None or (report.stream["events_missed"] == 0
                                          and report.stream["consoles_with_final_count"] == report.stream["consoles"])
    return 0 if report.import_check["ok"] and stream_ok else 1


if __name__ == "__main__":
    sys.exit(main())
