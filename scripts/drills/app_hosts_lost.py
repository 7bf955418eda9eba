"""Cluster drill 3: one app host killed, then the other while the first comes back.

    python -m scripts.drills.app_hosts_lost [--scans 3000 --rate 100 --fault-at 5]

app1's host dies (SIGKILL to all its processes): HAProxy's /readyz checks take it out within about
a second and send everything to app2 (a request that app1 dropped is sent again to app2:
``retry-on conn-failure empty-response``; a scan is idempotent). 3 s later app1 is started again,
and while it is still starting app2's host dies: until app1 is ready nobody answers (HAProxy says
503 and WeChat tries again 5 s later). app2 then comes back too.
"""

from __future__ import annotations

import sys
import time

from scripts.drills.cluster_harness import ClusterFault, main, wait_for
from scripts.drills.harness import Context

DOWN_S = 3.0
READY_LIMIT_S = 120.0


def inject(cluster, ctx: Context) -> None:
    cluster.kill_host("app1")
    ctx.mark("app1 killed")
    ctx.mark("injected")
    time.sleep(DOWN_S)
    cluster.start_app("app1")
    ctx.mark("app1 starting")
    cluster.kill_host("app2")
    ctx.mark("app2 killed")
    wait_for(lambda: cluster.app_ready("app1"), READY_LIMIT_S, "app1 to be ready")
    ctx.mark("app1 ready")
    cluster.start_app("app2")
    wait_for(lambda: cluster.app_ready("app2"), READY_LIMIT_S, "app2 to be ready")
    ctx.mark("app2 ready")


FAULT = ClusterFault("app_hosts_lost", inject,
                     f"app host 1 killed, started again {DOWN_S:g} s later while app host 2 is killed, then 2 back")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=3000, rate=100, fault_at=5.0))
