"""Drill: a gunicorn worker killed (SIGKILL) mid-burst, then the other one once the first's
replacement has had ``SETTLE_S`` to start.

    python -m scripts.drills.worker_sigkill [--scans 4000 --rate 400]

The requests a killed worker held die with it: their connections drop, and WeChat sends each again
5 s later. Their claims on the messages are leases (wechat_handlers.dedupe): a retry that finds the
lease run out and no answer kept takes the message over and answers it for real, from the sign-in
already in the database if the killed worker had committed it. The screen's numbers repair the
events the killed worker never published (app.services.live.headcount).
"""

from __future__ import annotations

import os
import signal
import sys
import time

from scripts.drills.harness import Context, Fault, main

#: After a worker's replacement appears, the time it has to load the app before the next kill (both
#: workers dead or loading at once would leave nobody to answer, which is not this drill's fault).
SETTLE_S = 3.0


def inject(ctx: Context) -> None:
    before = ctx.door.workers()
    for n, pid in enumerate(before):
        os.kill(pid, signal.SIGKILL)
        ctx.mark(f"worker {pid} killed")
        _replaced(ctx, before, n + 1)
        ctx.mark(f"replacement {n + 1} started")
        if n + 1 < len(before):
            time.sleep(SETTLE_S)


def _replaced(ctx: Context, before: list[int], count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the master starts a new worker
        if len([p for p in ctx.door.workers() if p not in before]) >= count:
            return
        time.sleep(0.05)
    raise RuntimeError("gunicorn did not start a new worker")


FAULT = Fault("worker_sigkill", inject,
              f"each gunicorn worker killed with SIGKILL mid-burst, the second {SETTLE_S:g} s after the first's "
              "replacement started")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=4000, rate=400))
