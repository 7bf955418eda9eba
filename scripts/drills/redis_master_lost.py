"""Cluster drill 2: the Redis master killed (SIGKILL) mid-burst.

    python -m scripts.drills.redis_master_lost [--scans 3000 --rate 100 --fault-at 5]

The three Sentinels agree the master is down after 1 s and promote the replica; the app finds the
new master through them on its next connection (``REDIS_SENTINELS``). Meanwhile the door answers
from the database alone (Redis only speeds it up), and the live counters, whose last writes the
replica may have missed, are rebuilt from the database (their order-number check finds the gap).
"""

from __future__ import annotations

import sys

from scripts.drills.cluster_harness import ClusterFault, main, redis_master_host, wait_redis_failover
from scripts.drills.harness import Context


def inject(cluster, ctx: Context) -> None:
    host, before = redis_master_host(cluster)
    cluster.kill_process(host, "redis")
    ctx.mark(f"Redis master on {host} killed")
    ctx.mark("injected")
    wait_redis_failover(cluster, ctx, before)


FAULT = ClusterFault("redis_master_lost", inject, "the Redis master killed (SIGKILL) mid-burst; Sentinel fails over")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
