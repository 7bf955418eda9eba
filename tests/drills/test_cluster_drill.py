"""Cluster drill 1 at a small size (issue 20): the local cluster (scripts/cluster/cluster.py: a
pg_auto_failover pair with a synchronous standby, Redis with Sentinel, two gunicorn hosts behind
HAProxy, each host in its own network namespace when the machine allows it) under a burst of signed
scans and ballots through the proxy, while the PostgreSQL primary's host is killed (SIGKILL to all its
processes) and cut off the network.

Asserted with no slack, as the other drills: no acknowledged sign-in lost (RPO 0), nobody told
系统繁忙 but signed in, nobody answered ``success`` unsigned, every delivery answered, one sign-in per
person numbered 1..N, the screen equal to the database within 2 s; every try answered within WeChat's
5 s but for a few in flight at the kill (see the test). The recovery time
is asserted with room for a loaded 2-core CI machine (the failover itself is tuned for ~10 s); the
measured figures at full size are in docs/drills.md.

The cluster's system packages are installed on first use (``scripts/setup_system.sh --cluster``);
without them the test skips, and fails under CI=true.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from scripts.cluster.cluster import DEFAULT_DIR, missing_binaries
from scripts.drills import cluster_harness, primary_lost
from scripts.drills.harness import Options

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.pg_only(reason="the drill runs its own PostgreSQL pair, whatever the suite's database: the "
                               "SQLite pass would only repeat it"),
]


@pytest.fixture(scope="module", autouse=True)
def _packages():
    if missing_binaries():
        subprocess.run(["bash", str(ROOT / "scripts" / "setup_system.sh"), "--cluster"], check=False)
    missing = missing_binaries()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the cluster drill needs {', '.join(missing)} (scripts/setup_system.sh --cluster)")
        pytest.skip(f"the cluster drill needs {', '.join(missing)} (scripts/setup_system.sh --cluster)")


def test_primary_lost():
    # 50 scans/s for 24 s; the primary lost 3 s in: the burst outlasts the failover with room.
    opts = Options(scans=1200, rate=50, fault_at=3.0, warmup=60)
    # (In the cluster's own directory, /tmp/huiyi-cluster: the postgres user cannot enter pytest's.)
    result = cluster_harness.run(primary_lost.FAULT, opts, app_workers=1, ballots=300)
    m = result.measurements
    # Every check holds with no slack but one: a scan in flight at the very moment of the kill may
    # get its answer after WeChat's 5 s (its statement waits on a connection whose packets vanish);
    # WeChat's retry is then answered (deliveries_unanswered), and only a few such tries are allowed.
    late = "tries not answered within 5 s"
    assert not [v for v in result.violations if late not in v], f"{result.violations}\n{m}"
    assert m["tries_over_5s"] <= max(3, opts.scans // 100), m
    assert m["acknowledged_lost"] == 0 and m["busy_but_signed_in"] == 0 and m["success_without_signin"] == 0
    assert m["scans"] == opts.scans and m["deliveries_unanswered"] == 0
    assert m["headcount"]["screen"] == m["headcount"]["database"] == m["signed_in_db"] + opts.warmup
    assert m["marks"]["injected"] < m["marks"]["recovered"] < m["marks"]["burst answered"]
    # The standby took over, and sign-ins were acknowledged again well within the burst.
    assert m["cluster"]["postgres_after"]["db2"][0] in ("wait_primary", "primary")
    assert m["rto_first_ack_s"] is not None and m["rto_first_ack_s"] < 30
    # The ballots cast through the H5 page in the same burst: none acknowledged and lost, every
    # 系统繁忙 true (the voter's next tap is not told 您已投票), one ballot per voter; most voters
    # acknowledged within their three taps (one who tapped three times during a slow failover may not be).
    assert m["ballots_acknowledged_lost"] == 0 and m["ballots_busy_but_stored"] == 0
    assert m["ballots_in_db"] == m["voters_in_db"] >= m["ballots_acknowledged"] >= 240
    assert not DEFAULT_DIR.exists(), "the cluster's data was left behind"
