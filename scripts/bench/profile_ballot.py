"""Profile casting a ballot through the H5 page in-process, one request at a time (no server).

    .venv/bin/python -m scripts.bench.profile_ballot            # per-request wall and CPU ms
    .venv/bin/python -m scripts.bench.profile_ballot --profile  # plus cProfile's top 25 (tottime)
    .venv/bin/python -m scripts.bench.profile_ballot --sql      # plus the last ballot's SQL
    .venv/bin/python -m scripts.bench.profile_ballot --threads 25  # 25 at once: batches form

Seeds its own scratch database (``huiyi_profile_votes``) the way ``bench_votes`` does and claims a
free Redis database like test runs: 100 warm-up ballots on a second vote, then 500 measured, each a
distinct attendee POSTing to ``/m/<code>/votes/<id>`` through ``app.test_client()`` with a signed
session cookie and a real CSRF token (CSRF stays on). CPU time (process_time) is the number to
compare on a shared machine: wall time includes everyone else's load.

Ballots are cast through the group commit (``app.services.votes.ballots``) as in production; one at a
time every batch holds one ballot. ``--threads N`` casts with N threads at once (a client each), as a
server's request threads would, so batches form and the CPU per ballot shows what they save; it
also prints the batches' count and sizes.
"""

from __future__ import annotations

import cProfile
import pstats
import secrets
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from scripts.bench import bench_votes as bv
from scripts.bench.bench_callback import create_database, drop_database

WARM, MEASURED = 100, 500


def main() -> None:
    from tests.backends import _claim_redis_db

    redis_url, release = _claim_redis_db()
    opts = bv.Options(n=MEASURED, warmup=WARM, db_name="huiyi_profile_votes")
    try:
        _run(opts, redis_url, profile="--profile" in sys.argv)
    finally:
        release()
        drop_database(opts)


def _run(opts: bv.Options, redis_url: str, *, profile: bool) -> None:
    config = bv.app_config(create_database(opts), redis_url, "profile-" + secrets.token_hex(8))
    seeded = bv.seed(config, WARM + MEASURED)
    signer = bv.Signer(config)
    from app.factory import create_app

    app = create_app(config)
    clients = threading.local()

    def cast(vote_id: int, identity_id: int, option_id: int) -> str:
        if not hasattr(clients, "client"):
            clients.client = app.test_client()
        client = clients.client
        raw = secrets.token_hex(20)
        name, value = signer.cookie(identity_id, raw).split("=", 1)
        client.set_cookie(name, value)
        resp = client.post(f"/m/{bv.MEETING_CODE}/votes/{vote_id}",
                           data={"csrf_token": signer.csrf.dumps(raw), "option": str(option_id)})
        return resp.get_data(as_text=True)

    ids = seeded.identities
    for i, ident in enumerate(ids[:WARM]):
        body = cast(seeded.warmup_vote_id, ident, seeded.warmup_options[i % 3])
        assert "投票成功" in body, body[:500]
    statements: list[str] = []
    with app.app_context():
        from app.extensions import db

        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting on the database
    wall, cpu = time.perf_counter(), time.process_time()
    committer = app.extensions.get("group_commit:ballots")
    before = (committer.stats.rounds, committer.stats.items) if committer else (0, 0)
    threads = _option("--threads", 1)

    def one(i: int) -> None:
        body = cast(seeded.vote_id, ids[WARM + i], seeded.options[i % 3])
        assert "投票成功" in body, body[:500]

    if profile:
        profiler.enable()  # this thread only: with --threads, the batch thread is not in the profile
    if threads == 1:
        for i in range(MEASURED):
            one(i)
    else:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(one, range(MEASURED)))
    profiler.disable()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"ballot per request: {wall / MEASURED * 1000:.2f} ms wall, {cpu / MEASURED * 1000:.2f} ms CPU"
          f"{' (profiled)' if profile else ''}; {len(statements) / MEASURED:.1f} SQL statements; {threads} thread(s)")
    committer = app.extensions.get("group_commit:ballots")
    if committer is not None:
        rounds, items = committer.stats.rounds - before[0], committer.stats.items - before[1]
        print(f"batches: {rounds} for {items} ballots ({items / max(rounds, 1):.1f} per batch, largest so far "
              f"{committer.stats.largest})")
    if "--sql" in sys.argv:
        print("\n---\n".join(statements[-len(statements) // MEASURED:]))
    if profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(r"app/", 30)
    with app.app_context():
        from app.extensions import db

        db.engine.dispose()


def _option(flag: str, default: int) -> int:
    return int(sys.argv[sys.argv.index(flag) + 1]) if flag in sys.argv else default


if __name__ == "__main__":
    main()
