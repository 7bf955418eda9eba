"""Cluster drill 4: the network between the app hosts and the database cut for 10 s mid-burst.

    python -m scripts.drills.db_network_cut [--scans 3000 --rate 100 --fault-at 5]

Packets from both app hosts to both PostgreSQL hosts are dropped for 10 s (a route to nowhere on
each app host); the database pair itself, Redis and the proxy are untouched, so no failover
happens. The door cannot store or read a sign-in meanwhile: each scan is answered in time that its
outcome is not confirmed yet (never acknowledged, never 系统繁忙 unless certainly not stored), and
WeChat's retry or the next scan after the cut signs the person in.
"""

from __future__ import annotations

import sys
import time

from scripts.drills.cluster_harness import ClusterFault, main
from scripts.drills.harness import Context

CUT_S = 10.0
APPS, DATABASES = ["app1", "app2"], ["db1", "db2"]


def inject(cluster, ctx: Context) -> None:
    cluster.block(APPS, DATABASES)
    ctx.mark("app hosts cut off the database")
    ctx.mark("injected")
    try:
        time.sleep(CUT_S)
    finally:
        cluster.unblock(APPS, DATABASES)
    ctx.mark("network back")


FAULT = ClusterFault("db_network_cut", inject, f"the app hosts cut off the database for {CUT_S:g} s mid-burst")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
