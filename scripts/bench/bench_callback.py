"""Scan-to-sign-in burst through the official-account callback, against its floor (issue 4).

    python -m scripts.bench.bench_callback --n 5000 --concurrency 50 [--record]

1. Creates a fresh PostgreSQL database, runs the migrations, seeds one published meeting whose
   sign-in window is open and ``n`` (+ warm-up) distinct attendees: contacts invited to it and
   bound to their WeChat identity. Flushes a dedicated Redis database.
2. Starts gunicorn on 127.0.0.1 with the real app (``scripts.bench.bench_wsgi``, which adds the
   floor route ``/_bench/floor``).
3. Pre-builds every request as WeChat signs it (signature/timestamp/nonce query, a SCAN event whose
   EventKey is the meeting's scene, a distinct FromUserName per attendee).
4. Fires: warm-up, floor, the burst, floor again, with ``concurrency`` connections in flight.
5. Checks the database: one live sign-in per acknowledged attendee, order numbers 1..N, no repeats.

Exit status 0 when the correctness check passes (speed targets are reported, not enforced).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shlex
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from scripts.bench import cpu
from scripts.bench.loadgen import RunStats, build_request, fire
from scripts.bench.servers import spawn_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Scan-to-sign-in burst (issue 4)"
TOKEN = "huiyibenchtoken"
MEETING_CODE = "BENCH2026"
SIGNED_IN = "签到成功".encode()
TARGETS = {"rate": 1000.0, "p99_ms": 100.0, "ratio": 0.60}


@dataclass
class Options:
    n: int = 5000
    concurrency: int = 50
    warmup: int = 200
    floor_n: int | None = None  # default: same as n
    workers: int = 4
    worker_class: str = "sync"
    server: str = "gunicorn"  # or granian
    threads: int = 1
    switch_interval: float | None = None  # sys.setswitchinterval in each worker (gthread)
    port: int = 0  # 0: pick a free port
    pg_admin_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    db_name: str = "huiyi_bench"
    redis_url: str = "redis://127.0.0.1:6379/7"
    keep_db: bool = False
    record: bool = False
    quiet: bool = False
    gunicorn_args: list[str] = field(default_factory=list)


@dataclass
class Seeded:
    meeting_id: int
    session_id: int
    scene: str
    openids: list[str]  # warm-up attendees first, then the measured ones
    contact_ids: dict[str, int]


@dataclass
class Report:
    n: int
    concurrency: int
    server: str
    signins_per_s: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    acknowledged: int
    floor_per_s: float
    floor_p99_ms: float
    ratio: float
    generator_cpu_share: float  # generator CPU seconds / wall seconds during the burst
    cpu_ms_per_signin: dict  # CPU ms per sign-in during the burst: server, postgres, redis, generator
    check_ok: bool
    check: dict
    command: str
    machine: dict

    def meets_targets(self) -> dict[str, bool]:
        return {"≥1000 sign-ins/s": self.signins_per_s >= TARGETS["rate"],
                "p99 < 100 ms": self.p99_ms < TARGETS["p99_ms"],
                "≥60% of floor": self.ratio >= TARGETS["ratio"],
                "every acknowledged sign-in once": self.check_ok}


# --- setup -------------------------------------------------------------------------------------

def _db_url(opts: Options) -> str:
    return sa.engine.make_url(opts.pg_admin_url).set(database=opts.db_name).render_as_string(hide_password=False)


def create_database(opts: Options) -> str:
    admin = sa.create_engine(opts.pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)'))
            conn.execute(sa.text(f'CREATE DATABASE "{opts.db_name}"'))
    finally:
        admin.dispose()
    return _db_url(opts)


def drop_database(opts: Options) -> None:
    admin = sa.create_engine(opts.pg_admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{opts.db_name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def app_config(db_url: str, redis_url: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "SECRET_KEY": "bench-" + secrets.token_hex(8),
            "WECHAT_TOKEN": TOKEN, "WECHAT_ENCODING_AES_KEY": "", "PUBLIC_BASE_URL": "http://huiyi.bench",
            # production entry points (the rq worker) refuse to start without the personal codes' key
            "DOOR_SIGNING_KEY": "YmVuY2gtZG9vci1rZXktb2YtdGhpcnR5LXR3by1ieXQ="}


def seed(db_url: str, redis_url: str, attendees: int) -> Seeded:
    """Migrate the fresh database and seed the meeting and its bound attendees (bulk inserts)."""
    from flask_migrate import upgrade

    from app.extensions import db, get_redis
    from app.factory import create_app
    from app.services.codes.scenes import make_scene
    from app.services.meetings.meetings import create_meeting
    from models import Contact, Invitee, Unit, WechatIdentity
    from scripts.bench.bench_wsgi import FLOOR_TABLE

    app = create_app(app_config(db_url, redis_url))
    with app.app_context():
        upgrade()
        get_redis().flushdb()
        db.session.execute(sa.text(f"CREATE TABLE {FLOOR_TABLE} (k bigint PRIMARY KEY)"))
        now = datetime.now(UTC)
        units = db.session.execute(
            sa.insert(Unit).returning(Unit.id),
            [{"code": f"BU{u:03d}", "name": f"压测单位{u:03d}", "aliases": []} for u in range(40)],
        ).scalars().all()
        contact_ids = db.session.execute(
            sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [{"unit_id": units[i % len(units)], "name": f"压测{i:05d}", "phone": f"139{i:08d}", "tags": []}
             for i in range(attendees)],
        ).scalars().all()
        meeting = create_meeting(MEETING_CODE, "压测：全区工作会议", actor="bench", starts_at=now + timedelta(minutes=30),
                                 ends_at=now + timedelta(hours=3), publish=True,
                                 signin_opens_at=now - timedelta(minutes=10))
        db.session.execute(sa.insert(Invitee), [{"meeting_id": meeting.id, "contact_id": c, "status": "approved"}
                                                for c in contact_ids])
        openids = [f"o_bench_{i:06d}_{secrets.token_hex(4)}" for i in range(attendees)]
        db.session.execute(sa.insert(WechatIdentity), [{"oa_openid": o, "contact_id": c, "bound_at": now}
                                                       for o, c in zip(openids, contact_ids, strict=True)])
        session_id = meeting.sessions[0].id
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        result = Seeded(meeting.id, session_id, make_scene(MEETING_CODE, 1), openids,
                        dict(zip(openids, contact_ids, strict=True)))
        db.engine.dispose()
    return result


# --- server ------------------------------------------------------------------------------------

def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(opts: Options, db_url: str, port: int) -> subprocess.Popen:
    env = {**os.environ, **app_config(db_url, opts.redis_url)}
    env["PYTHONPATH"] = str(ROOT)
    env.pop("BENCH_SWITCH_INTERVAL", None)
    if opts.switch_interval:
        env["BENCH_SWITCH_INTERVAL"] = str(opts.switch_interval)
    return spawn_gunicorn(opts, port, env, "scripts.bench.bench_wsgi:app", *opts.gunicorn_args)


# --- requests ----------------------------------------------------------------------------------

def callback_request(openid: str, scene: str, host: str, *, now: int, nonce: str) -> bytes:
    """A SCAN event exactly as WeChat posts it for a subscribed user scanning a parametric QR."""
    from scripts.wechat_sim.signing import signature
    from scripts.wechat_sim.xmlmsg import build_xml

    ts = str(now)
    body = build_xml([("ToUserName", "gh_huiyi_bench"), ("FromUserName", openid), ("CreateTime", ts),
                      ("MsgType", "event"), ("Event", "SCAN"), ("EventKey", scene), ("Ticket", "bench")])
    target = (f"/wechat/callback?signature={signature(TOKEN, ts, nonce)}&timestamp={ts}&nonce={nonce}"
              f"&openid={openid}")
    return build_request("POST", target, host, body.encode())


def floor_requests(count: int, host: str, start: int) -> list[bytes]:
    return [build_request("POST", f"/_bench/floor?k={start + i}", host, b"", "text/plain") for i in range(count)]


# --- check -------------------------------------------------------------------------------------

def check(db_url: str, seeded: Seeded, acked_openids: list[str]) -> dict:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            total, distinct, lo, hi = conn.execute(sa.text(
                "SELECT count(*), count(DISTINCT contact_id), min(seq), max(seq) FROM signins "
                "WHERE session_id = :s AND revoked_at IS NULL"), {"s": seeded.session_id}).one()
            per_contact = dict(conn.execute(sa.text(
                "SELECT contact_id, count(*) FROM signins WHERE session_id = :s GROUP BY contact_id"),
                {"s": seeded.session_id}).all())
            seqs = [r[0] for r in conn.execute(sa.text(
                "SELECT seq FROM signins WHERE session_id = :s ORDER BY seq"), {"s": seeded.session_id})]
            # Rows written by one transaction share its xmin: how many sign-ins each commit carried.
            transactions = conn.execute(sa.text(
                "SELECT count(DISTINCT xmin::text) FROM signins WHERE session_id = :s"), {"s": seeded.session_id}).scalar()
    finally:
        engine.dispose()
    acked = [seeded.contact_ids[o] for o in acked_openids]
    missing = [c for c in acked if per_contact.get(c, 0) == 0]
    doubled = [c for c, k in per_contact.items() if k != 1]
    gapless = seqs == list(range(1, len(seqs) + 1))
    result = {"rows": total, "distinct_contacts": distinct, "min_seq": lo, "max_seq": hi,
              "acknowledged": len(acked), "acknowledged_missing": len(missing), "doubled": len(doubled),
              "unacknowledged_in_db": total - len(set(acked)), "seq_1_to_n": gapless,
              "transactions": transactions, "signins_per_transaction": round(total / transactions, 1) if transactions else 0}
    result["ok"] = bool(not missing and not doubled and gapless and total == distinct
                        and len(set(acked)) == len(acked))
    return result


# --- run ---------------------------------------------------------------------------------------

def machine(pg_admin_url: str) -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    engine = sa.create_engine(pg_admin_url)
    try:
        with engine.connect() as conn:
            pg = conn.execute(sa.text("SHOW server_version")).scalar_one()
    finally:
        engine.dispose()
    try:
        out = subprocess.run(["redis-cli", "INFO", "server"], capture_output=True, text=True, timeout=10).stdout
        redis_version = re.search(r"redis_version:(\S+)", out).group(1)
    except (OSError, AttributeError):
        redis_version = "?"
    # Other work on the machine skews everything here; the load average says how much there was.
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "postgresql": pg,
            "redis": redis_version, "loadavg": " ".join(Path("/proc/loadavg").read_text().split()[:3])}


def _say(opts: Options, text: str) -> None:
    if not opts.quiet:
        print(text, flush=True)


def run(opts: Options, argv: list[str] | None = None) -> Report:
    floor_n = opts.floor_n or opts.n
    mach = machine(opts.pg_admin_url)  # before we load the machine ourselves
    db_url = create_database(opts)
    proc = None
    try:
        _say(opts, f"seeding {opts.warmup} + {opts.n} attendees into {opts.db_name} …")
        seeded = seed(db_url, opts.redis_url, opts.warmup + opts.n)
        port = opts.port or _free_port()
        host = f"127.0.0.1:{port}"
        proc = start_gunicorn(opts, db_url, port)
        now = int(time.time())
        requests = [callback_request(o, seeded.scene, host, now=now, nonce=f"{i:08d}{secrets.token_hex(4)}")
                    for i, o in enumerate(seeded.openids)]
        warm, burst = requests[:opts.warmup], requests[opts.warmup:]
        floor_a = floor_requests(floor_n, host, 0)
        floor_b = floor_requests(floor_n, host, floor_n)

        _say(opts, f"warm-up: {len(warm)} sign-ins and {len(warm)} floor requests …")
        warm_stats = fire(warm, "127.0.0.1", port, opts.concurrency)
        fire(floor_requests(opts.warmup, host, 10 * floor_n), "127.0.0.1", port, opts.concurrency)
        _say(opts, "floor …")
        fa = fire(floor_a, "127.0.0.1", port, opts.concurrency)
        _say(opts, f"burst: {len(burst)} sign-ins at {opts.concurrency} connections …")
        cpu_before, ticks_before = cpu.snapshot(proc.pid), cpu.machine_ticks()
        cb = fire(burst, "127.0.0.1", port, opts.concurrency)
        cpu_ms = cpu.per_request_ms(cpu_before, cpu.snapshot(proc.pid), len(burst))
        mach["stolen_during_burst"] = f"{cpu.stolen_share(ticks_before, cpu.machine_ticks()):.0%}"
        cpu_ms["generator"] = round(1000 * cb.cpu_s / max(len(burst), 1), 3)
        _say(opts, "floor again …")
        fb = fire(floor_b, "127.0.0.1", port, opts.concurrency)

        acked = [seeded.openids[r.index] for r in warm_stats.results if r.status == 200 and SIGNED_IN in r.body]
        acked += [seeded.openids[opts.warmup + r.index] for r in cb.results
                  if r.status == 200 and SIGNED_IN in r.body]
        result = check(db_url, seeded, acked)
        report = _report(opts, cb, fa, fb, result, argv, mach, cpu_ms)
    finally:
        if proc is not None:
            stop_gunicorn(proc)
        if not opts.keep_db:
            drop_database(opts)
    if opts.record:
        record(report)
    return report


def _errors(stats: RunStats) -> int:
    return sum(1 for r in stats.results if r.status != 200 or SIGNED_IN not in r.body) + (
        0 if len(stats.results) else 1)


def _report(opts: Options, cb: RunStats, fa: RunStats, fb: RunStats, result: dict, argv, mach: dict,
            cpu_ms: dict) -> Report:
    floor_rate = (fa.rate + fb.rate) / 2
    server = (f"granian --interface wsgi --workers {opts.workers} --blocking-threads {opts.threads}"
              if opts.server == "granian" else f"gunicorn -k {opts.worker_class} -w {opts.workers}" + (
                  f" --threads {opts.threads}" if opts.threads > 1 else ""))
    if opts.switch_interval:
        server += f", GIL switch interval {opts.switch_interval * 1000:g} ms"
    return Report(
        n=len(cb.results), concurrency=opts.concurrency, server=server,
        signins_per_s=round(cb.rate, 1), p50_ms=round(cb.percentile_ms(50), 1), p95_ms=round(cb.percentile_ms(95), 1),
        p99_ms=round(cb.percentile_ms(99), 1), max_ms=round(cb.percentile_ms(100), 1), errors=_errors(cb),
        acknowledged=result["acknowledged"], floor_per_s=round(floor_rate, 1),
        floor_p99_ms=round(max(fa.percentile_ms(99), fb.percentile_ms(99)), 1),
        ratio=round(cb.rate / floor_rate, 3) if floor_rate else 0.0,
        generator_cpu_share=round(cb.cpu_s / cb.wall_s, 2) if cb.wall_s else 0.0,
        check_ok=result["ok"], check=result, cpu_ms_per_signin=cpu_ms,
        command="python -m scripts.bench.bench_callback " + shlex.join(argv if argv is not None else sys.argv[1:]),
        machine=mach,
    )


def summary(report: Report) -> str:
    lines = [
        f"server        {report.server}, {report.concurrency} connections, {report.n} sign-ins",
        f"sign-ins/s    {report.signins_per_s}",
        f"latency ms    p50 {report.p50_ms}  p95 {report.p95_ms}  p99 {report.p99_ms}  max {report.max_ms}",
        f"floor/s       {report.floor_per_s} (p99 {report.floor_p99_ms} ms)   ratio {report.ratio:.0%}",
        f"errors        {report.errors}",
        f"generator     {report.generator_cpu_share:.0%} of one core during the burst",
        "CPU ms/scan   " + "  ".join(f"{k} {v:.2f}" for k, v in report.cpu_ms_per_signin.items())
        + f"  (total {sum(report.cpu_ms_per_signin.values()):.2f})",
        f"check         {'OK' if report.check_ok else 'FAILED'} {json.dumps(report.check)}",
        "targets       " + ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in report.meets_targets().items()),
        f"machine       {json.dumps(report.machine, ensure_ascii=False)}",
    ]
    return "\n".join(lines)


def record(report: Report) -> None:
    """Append a dated entry at the end of this benchmark's section of docs/benchmarks.md."""
    m = report.machine
    entry = (
        f"\n### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n\n"
        f"`{report.command}`\n\n"
        f"Machine: {m['nproc']} cores, {m['cpu']}; PostgreSQL {m['postgresql']}, Redis {m['redis']}, "
        f"Python {m['python']}. Server: `{report.server}`. Load average before the run: {m['loadavg']}.\n\n"
        "| sign-ins/s | p50 ms | p95 ms | p99 ms | floor/s | ratio | errors | check |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---|\n"
        f"| {report.signins_per_s} | {report.p50_ms} | {report.p95_ms} | {report.p99_ms} | "
        f"{report.floor_per_s} | {report.ratio:.0%} | {report.errors} | "
        f"{'OK' if report.check_ok else 'FAILED'}: {report.check['rows']} rows, "
        f"{report.check['distinct_contacts']} people, seq {report.check['min_seq']}..{report.check['max_seq']}, "
        f"{report.check.get('signins_per_transaction', 1)} sign-ins per transaction |\n"
    )
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n"
    if SECTION not in text:
        text = text.rstrip("\n") + f"\n\n{SECTION}\n"
    start = text.index(SECTION) + len(SECTION)
    following = re.search(r"^## ", text[start:], flags=re.M)
    end = start + following.start() if following else len(text)
    text = text[:end].rstrip("\n") + "\n" + entry + ("\n" + text[end:] if following else "")
    DOC.write_text(text, encoding="utf-8")


def parse_args(argv: list[str] | None) -> Options:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    d = Options()
    p.add_argument("--n", type=int, default=d.n, help="sign-ins in the measured burst")
    p.add_argument("--concurrency", type=int, default=d.concurrency)
    p.add_argument("--warmup", type=int, default=d.warmup, help="extra attendees signed in before measuring")
    p.add_argument("--floor-n", type=int, default=None, help="floor requests per floor run (default: --n)")
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--worker-class", default=d.worker_class, help="sync, gthread or gevent")
    p.add_argument("--threads", type=int, default=d.threads)
    p.add_argument("--server", choices=("gunicorn", "granian"), default=d.server)
    p.add_argument("--switch-interval", type=float, default=None,
                   help="GIL switch interval in seconds for each worker (default: Python's 0.005)")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--pg-admin-url", default=d.pg_admin_url)
    p.add_argument("--db-name", default=d.db_name)
    p.add_argument("--redis-url", default=d.redis_url, help="a Redis database of its own: it is flushed")
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--record", action="store_true", help="append the result to docs/benchmarks.md")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    a = p.parse_args(argv)
    opts = Options(n=a.n, concurrency=a.concurrency, warmup=a.warmup, floor_n=a.floor_n, workers=a.workers,
                   worker_class=a.worker_class, server=a.server, threads=a.threads, switch_interval=a.switch_interval, port=a.port, pg_admin_url=a.pg_admin_url,
                   db_name=a.db_name, redis_url=a.redis_url, keep_db=a.keep_db, record=a.record)
    opts.json = a.json  # type: ignore[attr-defined]
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    report = run(opts, argv)
    print(json.dumps(asdict(report), ensure_ascii=False, indent=2) if getattr(opts, "json", False)
          else summary(report))
    return 0 if report.check_ok else 1


if __name__ == "__main__":
    sys.exit(main())
