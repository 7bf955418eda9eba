"""3,000 ballots through the H5 ballot page, with live results read back while they arrive (issue 8).

    python -m scripts.bench.bench_votes --n 3000 --concurrency 50 [--record]

1. Creates a fresh PostgreSQL database, runs the migrations, seeds one meeting with ``n`` (+ warm-up)
   attendees who are invited, signed in and bound to a WeChat identity, and opens a named 表决 with
   live results (through the vote service, so the Redis counters are built as in production).
2. Starts the server (gunicorn, or granian with ``--server granian``) with the real app. Each
   attendee's request is pre-built as the H5 page sends it: a signed session cookie (their identity
   and CSRF secret) and a form POST with the CSRF token.
3. Fires the burst with ``concurrency`` connections. Meanwhile two observers record what a screen
   would see: one reads the meeting's live stream (what the big screen's SSE reads), one polls the
   organizer's ``results.json`` every ``poll_ms``.
4. Lag: ballot *i* (ordered by its ``cast_at``, stamped before the commit, so the lag is if anything
   over-stated) is shown once an observer first reports at least *i* ballots; lag = shown - cast_at.
5. Checks the database: one ballot and one marker per attendee, totals equal to the ballots, and
   the live JSON equal to the database after the burst.
6. CPU per ballot during the burst, by who spent it (``cpu_ms_per_ballot``): the server's processes,
   this database's PostgreSQL backends, Redis, the load generator. On a shared machine these are
   steadier than the wall time, which everyone else's load moves. ``ballots_per_batch``: each batch
   of ballots publishes one live event, so ballots / events is how many each transaction carried.

Exit status 0 when the correctness check passes (speed targets are reported, not enforced).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from scripts.bench import cpu
from scripts.bench.bench_callback import _free_port, create_database, drop_database
from scripts.bench.loadgen import fire
from scripts.bench.servers import spawn_gunicorn, stop_gunicorn

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "benchmarks.md"
SECTION = "## Votes (issue 8)"
START, END = "<!-- bench_votes:start -->", "<!-- bench_votes:end -->"
MEETING_CODE = "BENCHVOTE"
OK_TEXT = "投票成功".encode()
TARGETS = {"ballots_in_s": 10.0, "lag_p99_s": 1.0}


@dataclass
class Options:
    n: int = 3000
    concurrency: int = 50
    warmup: int = 200
    workers: int = 2
    worker_class: str = "gthread"
    server: str = "gunicorn"  # or granian (worker_class is then unused)
    threads: int = 4
    poll_ms: int = 100
    pg_admin_url: str = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    db_name: str = "huiyi_bench_votes"
    #: empty: claim a free Redis database (1–15) the way test runs do, so nobody's run is flushed
    redis_url: str = ""
    keep_db: bool = False
    record: bool = False


@dataclass
class Seeded:
    meeting_id: int
    vote_id: int
    warmup_vote_id: int
    options: list[int]
    warmup_options: list[int]
    organizer_identity: int
    identities: list[int]  # warm-up attendees first


def app_config(db_url: str, redis_url: str, secret: str) -> dict[str, str]:
    return {"DATABASE_URL": db_url, "REDIS_URL": redis_url, "SECRET_KEY": secret,
            "PUBLIC_BASE_URL": "http://huiyi.bench", "WECHAT_ENCODING_AES_KEY": ""}


def seed(config: dict[str, str], attendees: int) -> Seeded:
    from flask_migrate import upgrade

    from app.extensions import db, get_redis
    from app.factory import create_app
    from app.services.meetings.meetings import create_meeting
    from app.services.meetings.organizers import add_organizer
    from app.services.votes.votes import create_vote, open_vote
    from models import Contact, Invitee, OrganizerRight, SignIn, Unit, WechatIdentity

    app = create_app(config)
    with app.app_context():
        upgrade()
        get_redis().flushdb()
        now = datetime.now(UTC)
        unit_id = db.session.execute(sa.insert(Unit).returning(Unit.id),
                                     [{"code": "BV001", "name": "压测单位", "aliases": []}]).scalar_one()
        contact_ids = db.session.execute(
            sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True),
            [{"unit_id": unit_id, "name": f"代表{i:05d}", "phone": f"137{i:08d}", "tags": []}
             for i in range(attendees + 1)],
        ).scalars().all()
        organizer_id, contact_ids = contact_ids[-1], contact_ids[:-1]
        meeting = create_meeting(MEETING_CODE, "压测：区人民代表大会", actor="bench", starts_at=now - timedelta(minutes=5),
                                 ends_at=now + timedelta(hours=3), publish=True)
        session = meeting.sessions[0]
        db.session.execute(sa.insert(Invitee), [{"meeting_id": meeting.id, "contact_id": c, "status": "approved",
                                                 "role": "代表"} for c in contact_ids])
        db.session.execute(sa.insert(SignIn), [{"meeting_id": meeting.id, "session_id": session.id, "contact_id": c,
                                                "seq": i + 1, "method": "scan", "signed_at": now}
                                               for i, c in enumerate(contact_ids)])
        identities = db.session.execute(
            sa.insert(WechatIdentity).returning(WechatIdentity.id, sort_by_parameter_order=True),
            [{"oa_openid": f"o_bv_{i:06d}", "contact_id": c, "bound_at": now} for i, c in enumerate(contact_ids)],
        ).scalars().all()
        organizer_identity = db.session.execute(
            sa.insert(WechatIdentity).returning(WechatIdentity.id),
            [{"oa_openid": "o_bv_organizer", "contact_id": organizer_id, "bound_at": now}]).scalar_one()
        organizer = db.session.get(Contact, organizer_id)
        add_organizer(MEETING_CODE, organizer.phone, actor="bench", right=OrganizerRight.STAFF)
        warm = create_vote(meeting, actor=organizer, title="预热表决", kind="motion", results_visibility="live")
        vote = create_vote(meeting, actor=organizer, title="关于《2027年工作要点》的表决", kind="motion",
                           results_visibility="live")
        open_vote(meeting, warm, actor=organizer)
        open_vote(meeting, vote, actor=organizer)
        db.session.commit()  # the open announcements build both votes' live counters
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
        seeded = Seeded(meeting.id, vote.id, warm.id, [o.id for o in vote.options], [o.id for o in warm.options],
                        organizer_identity, identities)
        db.engine.dispose()
    return seeded


def start_gunicorn(config: dict[str, str], opts: Options, port: int) -> subprocess.Popen:
    env = {**os.environ, **config, "PYTHONPATH": str(ROOT)}
    return spawn_gunicorn(opts, port, env, "wsgi:app")


class Signer:
    """Session cookies and CSRF tokens exactly as the app issues them (same secret key)."""

    def __init__(self, config: dict[str, str]):
        from itsdangerous import URLSafeTimedSerializer

        from app.factory import create_app

        self.app = create_app(config)
        self.sessions = self.app.session_interface.get_signing_serializer(self.app)
        self.csrf = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token")
        self.cookie_name = self.app.config["SESSION_COOKIE_NAME"]

    def cookie(self, identity_id: int, raw_csrf: str | None = None) -> str:
        data = {"identity_id": identity_id}
        if raw_csrf:
            data["csrf_token"] = raw_csrf
        return f"{self.cookie_name}={self.sessions.dumps(data)}"

    def ballot(self, host: str, vote_id: int, identity_id: int, option_id: int) -> bytes:
        raw = secrets.token_hex(20)
        body = f"csrf_token={self.csrf.dumps(raw)}&option={option_id}".encode()
        head = (f"POST /m/{MEETING_CODE}/votes/{vote_id} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: huiyi-bench\r\n"
                f"Cookie: {self.cookie(identity_id, raw)}\r\n"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n")
        return head.encode() + body


def watch_stream(redis_url: str, meeting_id: int, vote_id: int, stop: threading.Event, seen: list):
    import redis

    from app.services.live.events import stream_key

    r = redis.Redis.from_url(redis_url)
    key = stream_key(meeting_id)
    # Start after the newest entry by id, never "$": "$" means "after whatever is newest when this
    # call starts", so entries added between two calls would be missed until the first one arrives.
    newest = r.xrevrange(key, count=1)
    last = newest[0][0] if newest else "0-0"
    while not stop.is_set():
        for _stream, entries in r.xread({key: last}, count=1000, block=200) or []:
            at = time.time()
            for entry_id, fields in entries:
                last = entry_id
                payload = json.loads(fields[b"data"])
                if payload.get("type") == "vote" and payload.get("vote_id") == vote_id:
                    seen.append((at, payload["ballots"], sum(payload["totals"].values())))


def poll_json(url: str, cookie: str, interval_s: float, stop: threading.Event, seen: list):
    req = urllib.request.Request(url, headers={"Cookie": cookie, "Accept": "application/json"})
    while not stop.is_set():
        started = time.time()
        with urllib.request.urlopen(req, timeout=5) as resp:
            data = json.loads(resp.read())
        seen.append((time.time(), data["ballots"], sum(data["totals"].values())))
        time.sleep(max(0.0, interval_s - (time.time() - started)))


def observe(opts: Options, seeded: Seeded, results_url: str, cookie: str, stop, out) -> None:
    stream_seen: list = []
    json_seen: list = []
    halt = threading.Event()
    threads = [threading.Thread(target=watch_stream, args=(opts.redis_url, seeded.meeting_id, seeded.vote_id, halt,
                                                           stream_seen), daemon=True),
               threading.Thread(target=poll_json, args=(results_url, cookie, opts.poll_ms / 1000, halt, json_seen),
                                daemon=True)]
    for t in threads:
        t.start()
    stop.wait()
    halt.set()
    for t in threads:
        t.join(5)
    out.put((stream_seen, json_seen))


def lags(cast_times: list[float], observed: list[tuple[float, int, int]]) -> list[float]:
    """For ballot i (by cast time), the first observation showing >= i ballots, minus its cast time."""
    observed = sorted(observed)
    out, j, best = [], 0, 0
    for i, cast_at in enumerate(sorted(cast_times), start=1):
        while best < i and j < len(observed):
            best = max(best, observed[j][1])
            shown_at = observed[j][0]
            j += 1
        if best < i:
            break
        out.append(max(0.0, shown_at - cast_at))
    return out


class CpuMeter:
    """CPU seconds spent by the server, the database's backends and Redis between start and stop, and
    by the whole machine (``machine``: if it is far above their sum, others' work shared the run)."""

    def __init__(self, server_pgid: int, db_url: str, db_name: str, redis_url: str):
        self.server_pgid, self.db_name = server_pgid, db_name
        self.engine = sa.create_engine(db_url)
        self.redis_url = redis_url

    def _sample(self) -> dict:
        import redis

        with self.engine.connect() as conn:
            backends = conn.execute(sa.text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                                            "pg_backend_pid()"), {"d": self.db_name}).scalars().all()
        info = redis.Redis.from_url(self.redis_url).info("cpu")
        return {"server": {p: cpu.process_cpu_s(p) for p in cpu.group_pids(self.server_pgid)},
                "postgres": {p: cpu.process_cpu_s(p) for p in backends},
                "redis": info["used_cpu_sys"] + info["used_cpu_user"], "machine": cpu.machine_busy_s()}

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> dict:
        after = self._sample()
        self.engine.dispose()

        def spent(kind: str) -> float:
            return sum(max(0.0, t - self.before[kind].get(p, 0.0)) for p, t in after[kind].items())

        return {"server": spent("server"), "postgres": spent("postgres"), "redis": after["redis"] - self.before["redis"],
                "machine": after["machine"] - self.before["machine"]}


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else float("nan")


def run(opts: Options) -> dict:
    if opts.redis_url:
        return _run(opts)
    from tests.backends import _claim_redis_db

    opts.redis_url, release = _claim_redis_db()
    try:
        return _run(opts)
    finally:
        release()


def _run(opts: Options) -> dict:
    load_before = os.getloadavg()
    secret = "bench-" + secrets.token_hex(8)
    db_url = create_database(opts)
    config = app_config(db_url, opts.redis_url, secret)
    seeded = seed(config, opts.n + opts.warmup)
    port = _free_port()
    host = f"127.0.0.1:{port}"
    signer = Signer(config)
    warm_ids, ids = seeded.identities[:opts.warmup], seeded.identities[opts.warmup:]
    warm_reqs = [signer.ballot(host, seeded.warmup_vote_id, ident, seeded.warmup_options[i % 3])
                 for i, ident in enumerate(warm_ids)]
    reqs = [signer.ballot(host, seeded.vote_id, ident, seeded.options[i % 3]) for i, ident in enumerate(ids)]
    proc = start_gunicorn(config, opts, port)
    try:
        fire(warm_reqs, "127.0.0.1", port, opts.concurrency)
        results_url = f"http://{host}/admin/{MEETING_CODE}/votes/{seeded.vote_id}/results.json"
        # The observers run in a process of their own: in this one the load generator's event loop
        # would hold the GIL and make them look late.
        ctx = multiprocessing.get_context("fork")
        stop, out = ctx.Event(), ctx.Queue()
        observer = ctx.Process(target=observe, args=(opts, seeded, results_url,
                                                     signer.cookie(seeded.organizer_identity), stop, out))
        observer.start()
        time.sleep(1.0)
        meter = CpuMeter(proc.pid, db_url, opts.db_name, opts.redis_url)
        meter.start()
        stats = fire(reqs, "127.0.0.1", port, opts.concurrency)
        used_cpu = meter.stop()
        time.sleep(1.5)  # let the observers see the last ballots
        stop.set()
        stream_seen, json_seen = out.get(timeout=30)
        observer.join(10)
        final_json = json.loads(urllib.request.urlopen(urllib.request.Request(
            results_url, headers={"Cookie": signer.cookie(seeded.organizer_identity)}), timeout=5).read())
    finally:
        stop_gunicorn(proc)

    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        v = {"v": seeded.vote_id}
        ballots = conn.execute(sa.text("SELECT count(*) FROM ballots WHERE vote_id = :v"), v).scalar_one()
        markers, distinct = conn.execute(sa.text(
            "SELECT count(*), count(DISTINCT contact_id) FROM vote_participations WHERE vote_id = :v"), v).one()
        choices = conn.execute(sa.text(
            "SELECT count(*) FROM ballot_choices c JOIN ballots b ON b.id = c.ballot_id WHERE b.vote_id = :v"),
            v).scalar_one()
        per_option = dict(conn.execute(sa.text(
            "SELECT c.option_id, count(*) FROM ballot_choices c JOIN ballots b ON b.id = c.ballot_id "
            "WHERE b.vote_id = :v GROUP BY c.option_id"), v).all())
        cast_times = [t.timestamp() for t in conn.execute(sa.text(
            "SELECT cast_at FROM ballots WHERE vote_id = :v ORDER BY cast_at"), v).scalars()]
    engine.dispose()
    if not opts.keep_db:
        drop_database(opts)

    acked = sum(1 for r in stats.results if r.status == 200 and OK_TEXT in r.body)
    stream_lag, json_lag = lags(cast_times, stream_seen), lags(cast_times, json_seen)
    check = {"acknowledged": acked, "ballots": ballots, "markers": markers, "distinct_voters": distinct,
             "choices": choices, "db_totals": {str(k): n for k, n in per_option.items()},
             "live_json_totals": final_json["totals"], "live_json_ballots": final_json["ballots"]}
    check_ok = (acked == ballots == markers == distinct == choices == opts.n
                and check["db_totals"] == {k: n for k, n in final_json["totals"].items() if n}
                and final_json["ballots"] == ballots)
    return {
        "n": opts.n, "concurrency": opts.concurrency, "workers": opts.workers,
        "server": f"{opts.server if opts.server == 'granian' else opts.worker_class} {opts.workers} x {opts.threads}", "poll_ms": opts.poll_ms,
        "wall_s": round(stats.wall_s, 2), "ballots_per_s": round(stats.rate, 1),
        "p50_ms": round(stats.percentile_ms(50), 1), "p99_ms": round(stats.percentile_ms(99), 1),
        "errors": len(stats.errors), "non_200": sum(1 for r in stats.results if r.status != 200),
        "stream_events": len(stream_seen), "stream_max_ballots": max([b for _t, b, _s in stream_seen] or [0]),
        "json_max_ballots": max([b for _t, b, _s in json_seen] or [0]), "stream_lag_ms": _summary(stream_lag, len(cast_times)),
        "json_polls": len(json_seen), "json_lag_ms": _summary(json_lag, len(cast_times)),
        "max_sum_mismatch": max([abs(b - s) for _t, b, s in stream_seen + json_seen] or [0]),
        "cpu_ms_per_ballot": {k: round(1000 * v / opts.n, 2) for k, v in
                              {**{k: used_cpu[k] for k in ("server", "postgres", "redis")}, "loadgen": stats.cpu_s,
                               "machine": used_cpu["machine"]}.items()},
        "machine_busy_cores": round(used_cpu["machine"] / stats.wall_s, 2) if stats.wall_s else None,
        "ballots_per_batch": round(opts.n / len(stream_seen), 1) if stream_seen else None,
        "check_ok": check_ok, "check": check,
        "command": "python -m scripts.bench.bench_votes " + " ".join(sys.argv[1:]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load": " ".join(f"{x:.2f}" for x in load_before)},
    }


def _summary(values: list[float], expected: int) -> dict:
    return {"covered": f"{len(values)}/{expected}", "p50": round(1000 * pct(values, 50), 1),
            "p95": round(1000 * pct(values, 95), 1), "p99": round(1000 * pct(values, 99), 1),
            "max": round(1000 * max(values), 1) if values else float("nan")}


def record(report: dict) -> None:
    lines = [SECTION, "", f"#### {datetime.now(UTC):%Y-%m-%d %H:%M} UTC", "",
             f"Command: `{report['command'] or 'python -m scripts.bench.bench_votes'}` "
             f"({report['machine']['cpus']} CPUs, Python {report['machine']['python']}, load average before the run "
             f"{report['machine']['load']}; server {report['server']}, PostgreSQL and Redis on the same machine).",
             "",
             f"- {report['n']} distinct attendees each POST a ballot to the H5 ballot page (session cookie, CSRF "
             f"token, named 表决) with {report['concurrency']} connections in flight: **{report['wall_s']} s**, "
             f"**{report['ballots_per_s']} ballots/s**, p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms, "
             f"{report['errors']} errors, {report['non_200']} non-200.",
             f"- Live stream (what the big screen's SSE reads): {report['stream_events']} vote events; lag from a "
             f"ballot's `cast_at` (stamped before its commit) to the first event showing it: p50 "
             f"{report['stream_lag_ms']['p50']} ms, p95 {report['stream_lag_ms']['p95']} ms, p99 "
             f"{report['stream_lag_ms']['p99']} ms, max {report['stream_lag_ms']['max']} ms.",
             f"- Organizer `results.json` polled every {report['poll_ms']} ms: lag p50 {report['json_lag_ms']['p50']} "
             f"ms, p95 {report['json_lag_ms']['p95']} ms, p99 {report['json_lag_ms']['p99']} ms, max "
             f"{report['json_lag_ms']['max']} ms (includes up to one poll interval of sampling).",
             f"- Check: {'passed' if report['check_ok'] else 'FAILED'}: ballots {report['check']['ballots']}, markers "
             f"{report['check']['markers']} ({report['check']['distinct_voters']} distinct), acknowledged "
             f"{report['check']['acknowledged']}, database totals {report['check']['db_totals']} = live JSON "
             f"{report['check']['live_json_totals']}; every observed event/poll had totals summing to its ballots "
             f"(max mismatch {report['max_sum_mismatch']}).",
             f"- Targets: 3,000 ballots within {TARGETS['ballots_in_s']:.0f} s: "
             f"{'met' if report['wall_s'] <= TARGETS['ballots_in_s'] else 'NOT met'}; live results under 1 s behind "
             f"(p99, stream): {'met' if report['stream_lag_ms']['p99'] < 1000 else 'NOT met'}.", ""]
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else "# Benchmarks\n\n"
    if START in text and END in text:  # the new run on top of the recorded ones; the prose around stays
        block = "\n".join(lines[2:]).rstrip("\n")
        head, rest = text[:text.index(START) + len(START)], text[text.index(START) + len(START):]
        DOC.write_text(head + "\n" + block + "\n" + rest, encoding="utf-8")
        return
    if SECTION in text:  # replace only our own section, up to the next "## " heading
        start = text.index(SECTION)
        nxt = text.find("\n## ", start + len(SECTION))
        text = text[:start] + "\n".join(lines) + ("\n" + text[nxt + 1:] if nxt != -1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines)
    DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for f, default in asdict(Options()).items():
        flag = "--" + f.replace("_", "-")
        if isinstance(default, bool):
            p.add_argument(flag, action="store_true")
        else:
            p.add_argument(flag, type=type(default), default=default)
    opts = Options(**vars(p.parse_args(argv)))
    report = run(opts)
    print(json.dumps(report, ensure_ascii=False, indent=2))
    if opts.record:
        record(report)
    return 0 if report["check_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
