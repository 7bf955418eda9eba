"""Drill: a gunicorn worker killed (SIGKILL) mid-burst, then the other one once the first's
replacement is serving (loading the app takes a worker 2-3 s on a quiet 2-core machine, over 10 s on
a busy one: with a short burst the second kill may come after it).

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


def inject(ctx: Context) -> None:
    before = ctx.door.workers()
    for n, pid in enumerate(before):
        os.kill(pid, signal.SIGKILL)
        ctx.mark(f"worker {pid} killed")
        # Both workers dead or loading the app at once would leave nobody to answer, which is not
        # what this drill is about: the next kill waits until the replacement serves.
        _replacement_serving(ctx, before, n + 1)
        ctx.mark(f"replacement {n + 1} serving")


def _replacement_serving(ctx: Context, before: list[int], count: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the master starts a new worker; it loads the app, then serves
        new = [p for p in ctx.door.workers() if p not in before]
        if len(new) >= count and all(_serving(p) for p in new):
            return
        time.sleep(0.05)
    raise RuntimeError("gunicorn did not start a new worker that serves")


def _serving(pid: int) -> bool:
    """Whether gunicorn worker ``pid`` has loaded the app and accepts requests: its serving loop
    touches its heartbeat file (gunicorn's WorkerTmp, an unlinked ``wgunicorn-*`` file) every second,
    setting its mtime to a monotonic clock reading, far below any wall-clock time it was created with."""
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if "wgunicorn-" in os.readlink(f"/proc/{pid}/fd/{fd}"):
                return os.stat(f"/proc/{pid}/fd/{fd}").st_mtime < 1e9
        except OSError:  # closed meanwhile
            continue
    return False


FAULT = Fault("worker_sigkill", inject,
              "each gunicorn worker killed with SIGKILL mid-burst, the second once the first's replacement serves")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=4000, rate=400))
