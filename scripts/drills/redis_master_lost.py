"""Cluster drill 2: the Redis master killed (SIGKILL) mid-burst.

    python -m scripts.drills.redis_master_lost [--scans 3000 --rate 100 --fault-at 5]

The three Sentinels agree the master is down after 1 s and promote the replica; the app finds the
new master through them on its next connection (``REDIS_SENTINELS``). Meanwhile the door answers
from the database alone (Redis only speeds it up), and the live counters, whose last writes the
replica may have missed, are rebuilt from the database (their order-number check finds the gap).
"""

from __future__ import annotations

import sys

from scripts.cluster.cluster import REDIS_PORTS
from scripts.drills.cluster_harness import ClusterFault, main, wait_for
from scripts.drills.harness import Context

FAILOVER_LIMIT_S = 60.0


def inject(cluster, ctx: Context) -> None:
    before = cluster.redis_master()
    host = next(h for h, port in REDIS_PORTS.items() if before == (cluster.ip(h), port))
    cluster.kill_process(host, "redis")
    ctx.mark(f"Redis master on {host} killed")
    ctx.mark("injected")
    wait_for(lambda: cluster.redis_master() not in (None, before), FAILOVER_LIMIT_S, "Sentinel's failover")
    ctx.mark(f"Sentinel promoted {cluster.redis_master()}")


FAULT = ClusterFault("redis_master_lost", inject, "the Redis master killed (SIGKILL) mid-burst; Sentinel fails over")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
