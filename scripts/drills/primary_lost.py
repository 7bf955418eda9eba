"""Cluster drill 1: the PostgreSQL primary's host lost mid-burst -- every process on it SIGKILLed
(postgres and its pg_autoctl keeper, as a power loss) and its network cut.

    python -m scripts.drills.primary_lost [--scans 3000 --rate 100 --fault-at 5]

The standby was synchronous, so every commit acknowledged before the fault is on it. The
pg_auto_failover monitor notices the lost primary within about 2 s and promotes the standby once the
old primary's demotion timeout has passed (scripts/cluster/cluster.py); the app's pool drops the dead
connections (TCP keepalives, tcp_user_timeout) and libpq's multi-host URL finds the new primary
(``target_session_attrs=read-write``). Scans meeting the failover are tried again while WeChat's
5 s allow, else answered truthfully (not confirmed yet, or 系统繁忙 when certainly not stored).
"""

from __future__ import annotations

import sys

from scripts.drills.cluster_harness import ClusterFault, main, primary, wait_promoted
from scripts.drills.harness import Context


def inject(cluster, ctx: Context) -> None:
    lost = primary(cluster)
    cluster.kill_host(lost)
    cluster.cut(lost)
    ctx.mark(f"{lost} killed and cut off")
    ctx.mark("injected")
    wait_promoted(cluster, ctx, lost)


FAULT = ClusterFault("primary_lost", inject,
                     "the PostgreSQL primary's host lost (SIGKILL to all its processes, network cut) mid-burst")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
