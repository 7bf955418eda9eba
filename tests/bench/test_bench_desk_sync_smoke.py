"""The offline door's sync benchmark at a tiny size: it runs end to end and its check holds (speed is
not asserted: the machine running the tests is busy with other things)."""

from __future__ import annotations

import argparse
import os

import pytest

from scripts.bench import bench_desk_sync as bench
from tests.bench.test_bench_callback_smoke import _reachable


@pytest.mark.real_clock
@pytest.mark.pg_only(reason="the benchmark makes a PostgreSQL database of its own, whatever the suite's database")
@pytest.mark.skipif(not _reachable(), reason="the benchmark needs PostgreSQL on 127.0.0.1")
def test_tiny_sync_keeps_every_scan_and_one_signin_each():
    args = argparse.Namespace(scans=300, desks=3, people=60, batch=50, redis="embedded", keep_db=False, json=False,
                              db_name=f"huiyi_bench_desk_smoke_{os.getpid()}")
    report = bench.run(args)
    checks = report["checks"]
    assert checks["ok"] and checks["scans_kept"] == checks["scans_sent"] == 300
    assert checks["live_signins"] == checks["people_expected"] > 0
    assert report["requests"] == 6  # 100 scans a desk, 50 a request
