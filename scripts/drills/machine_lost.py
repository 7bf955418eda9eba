"""Cluster drill 5: a whole machine lost mid-burst -- the PostgreSQL primary, the Redis master (and
the Sentinel beside it) and app host 1 at once, as when the first machine of docs/operations.md's
two-host layout loses power.

    python -m scripts.drills.machine_lost [--scans 3000 --rate 100 --fault-at 5]

The three "hosts" lose their links and then every process gets SIGKILL: no FIN or RST ever comes
back, so every connection the surviving app host holds to the lost PostgreSQL and Redis
just goes silent. The single-fault drills lose one of them at a time; this one checks that the
surviving app host still answers every scan within WeChat's 5 s while both failovers run together.
"""

from __future__ import annotations

import sys

from scripts.drills.cluster_harness import (
    ClusterFault,
    main,
    primary,
    redis_master_host,
    wait_promoted,
    wait_redis_failover,
)
from scripts.drills.harness import Context

APP_HOST = "app1"


def inject(cluster, ctx: Context) -> None:
    db_host = primary(cluster)
    redis_host, master = redis_master_host(cluster)
    lost = [db_host, redis_host, APP_HOST]
    for host in lost:  # the links first, then SIGKILL: no FIN or RST ever leaves, as in a power loss
        cluster.cut(host)
    for host in lost:
        cluster.kill_host(host)
    ctx.mark(f"{', '.join(lost)} killed and cut off")
    ctx.mark("injected")
    wait_promoted(cluster, ctx, db_host)
    wait_redis_failover(cluster, ctx, master)


FAULT = ClusterFault("machine_lost", inject,
                     "the machine of the PostgreSQL primary, the Redis master and app host 1 lost at once mid-burst")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
