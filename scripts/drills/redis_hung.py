"""Drill: Redis hung (SIGSTOP) for 8 s mid-burst, then let go (SIGCONT).

    python -m scripts.drills.redis_hung [--scans 4000 --rate 400]

A stopped Redis accepts connections (the kernel does) and answers nothing: every call waits for its
socket timeout. The door's calls give up after 0.5 s and then skip Redis for a second at a time
(app.extensions.door_calls), so every scan is still answered well inside WeChat's 5 s, from the
database. Commands sent before the stop run when Redis wakes: all of them are idempotent.
"""

from __future__ import annotations

import signal
import sys
import time

from scripts.drills.harness import Context, Fault, main

HUNG_S = 8.0


def inject(ctx: Context) -> None:
    ctx.redis.signal(signal.SIGSTOP)
    time.sleep(HUNG_S)
    ctx.redis.signal(signal.SIGCONT)


FAULT = Fault("redis_hung", inject, f"Redis stopped with SIGSTOP for {HUNG_S:g} s mid-burst")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=4000, rate=400, fault_at=1.0))
