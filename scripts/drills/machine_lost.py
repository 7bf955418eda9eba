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

from app.config import _normalize_db_url
from scripts.cluster.cluster import REDIS_PORTS
from scripts.drills.cluster_harness import ClusterFault, main, primary, wait_for
from scripts.drills.harness import Context

FAILOVER_LIMIT_S = 60.0
APP_HOST = "app1"


def inject(cluster, ctx: Context) -> None:
    db_host = primary(cluster)
    master = cluster.redis_master()
    redis_host = next(h for h, port in REDIS_PORTS.items() if master == (cluster.ip(h), port))
    lost = [db_host, redis_host, APP_HOST]
    for host in lost:  # the links first, then SIGKILL: no FIN or RST ever leaves, as in a power loss
        cluster.cut(host)
    for host in lost:
        cluster.kill_host(host)
    ctx.mark(f"{', '.join(lost)} killed and cut off")
    ctx.mark("injected")
    survivor = next(n for n in cluster.node_states() if n != db_host)

    def promoted() -> bool:
        reported, goal = cluster.node_states()[survivor]
        return reported == goal and reported in ("wait_primary", "primary", "single")
    wait_for(promoted, FAILOVER_LIMIT_S, f"{survivor} to be promoted")
    ctx.mark(f"{survivor} promoted")
    ctx.db_url = _normalize_db_url(cluster.database_url_from(survivor))
    wait_for(lambda: cluster.redis_master() not in (None, master), FAILOVER_LIMIT_S, "Sentinel's failover")
    ctx.mark(f"Sentinel promoted {cluster.redis_master()}")
    ctx.mark("recovered")


FAULT = ClusterFault("machine_lost", inject,
                     "the machine of the PostgreSQL primary, the Redis master and app host 1 lost at once mid-burst")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
