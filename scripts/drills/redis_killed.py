"""Drill: Redis killed (SIGKILL) mid-burst, started again empty 3 s later.

    python -m scripts.drills.redis_killed [--scans 4000 --rate 400]

Without Redis the door signs in and answers from the database alone (no retry bookkeeping, no
meeting cache, no live counters); the screen counts in the database meanwhile and rebuilds its
counters from it once Redis is back.
"""

from __future__ import annotations

import sys
import time

from scripts.drills.harness import Context, Fault, main

DOWN_S = 3.0


def inject(ctx: Context) -> None:
    ctx.redis.kill()
    ctx.mark("redis killed")
    time.sleep(DOWN_S)
    ctx.redis.start()  # empty: it keeps nothing on disk, as the shared one


FAULT = Fault("redis_killed", inject, f"Redis killed with SIGKILL mid-burst, back (empty) after {DOWN_S:g} s")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=4000, rate=400))
