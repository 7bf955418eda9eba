"""The sign-in burst benchmark at a tiny size: it runs end to end and its correctness check holds.

Speed is not asserted here (the machine running the tests is busy with other things); what is
asserted is what the benchmark promises to check: every acknowledged sign-in is in the database
exactly once and the order numbers run 1..N.
"""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from scripts.bench import bench_callback as bench

ADMIN_URL = os.environ.get("TEST_DATABASE_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
#: The benchmark flushes its Redis database. By default that is this run's own, claimed for it in
#: tests/backends.py, never one another test run (or a benchmark someone is running) uses.
REDIS_URL = os.environ.get("TEST_BENCH_REDIS_URL", "")


def _reachable() -> bool:
    try:
        engine = sa.create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.mark.real_clock
@pytest.mark.pg_only(reason="the benchmark runs gunicorn workers on a PostgreSQL database of its own, "
                            "whatever the suite's database: the SQLite pass would only repeat it")
@pytest.mark.skipif(not _reachable(), reason="the benchmark needs PostgreSQL on 127.0.0.1")
def test_tiny_burst_signs_everyone_in_once(app):
    redis_url = REDIS_URL or app.config["REDIS_URL"]
    if not redis_url:
        pytest.skip("the benchmark needs a real Redis; this run fell back to the in-process stand-in")
    opts = bench.Options(n=200, concurrency=10, warmup=20, floor_n=100, workers=2, worker_class="gthread",
                         threads=4, pg_admin_url=ADMIN_URL, db_name=f"huiyi_bench_smoke_{os.getpid()}",
                         redis_url=redis_url, quiet=True)
    report = bench.run(opts, argv=["--n", "200"])

    assert report.errors == 0
    assert report.check["acknowledged"] == 220  # warm-up and burst: every attendee was told 签到成功
    assert report.check == {**report.check, "rows": 220, "distinct_contacts": 220, "min_seq": 1, "max_seq": 220,
                            "acknowledged_missing": 0, "doubled": 0, "seq_1_to_n": True, "ok": True}
    assert report.check_ok
    assert report.signins_per_s > 0 and report.floor_per_s > 0 and report.p99_ms >= report.p50_ms


def test_check_catches_a_missing_and_a_doubled_sign_in(monkeypatch):
    """The check itself: it must fail when an acknowledged person is missing or numbers have a gap."""
    seeded = bench.Seeded(meeting_id=1, session_id=1, scene="m:X:1", openids=["a", "b", "c"],
                          contact_ids={"a": 1, "b": 2, "c": 3})

    class FakeConn:
        def __init__(self, rows):
            self.rows = rows

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def execute(self, stmt, params=None):
            sql = str(stmt)
            if "xmin" in sql:  # transactions that wrote the rows: one here
                return _Result([(1,)])
            if "count(DISTINCT" in sql:
                return _Result([(len(self.rows), len({c for c, _ in self.rows}),
                                 min(s for _, s in self.rows), max(s for _, s in self.rows))])
            if "GROUP BY" in sql:
                counts: dict[int, int] = {}
                for c, _ in self.rows:
                    counts[c] = counts.get(c, 0) + 1
                return _Result(list(counts.items()))
            return _Result([(s,) for _, s in sorted(self.rows, key=lambda r: r[1])])

    class _Result(list):
        def one(self):
            return self[0]

        def all(self):
            return list(self)

        def scalar(self):
            return self[0][0]

    class FakeEngine:
        def __init__(self, rows):
            self.rows = rows

        def connect(self):
            return FakeConn(self.rows)

        def dispose(self):
            pass

    def with_rows(rows):
        monkeypatch.setattr(bench.sa, "create_engine", lambda *_a, **_k: FakeEngine(rows))
        return bench.check("postgresql://unused", seeded, ["a", "b"])

    assert with_rows([(1, 1), (2, 2)])["ok"] is True
    assert with_rows([(1, 1)])["ok"] is False  # b was told 签到成功 but is not in the database
    assert with_rows([(1, 1), (2, 3)])["ok"] is False  # a gap in the order numbers
    assert with_rows([(1, 1), (2, 2), (2, 3)])["ok"] is False  # b twice
