"""Drill: Redis flushed (FLUSHALL) twice mid-burst, 1 s apart.

    python -m scripts.drills.redis_flushed [--scans 4000 --rate 400]

Everything Redis held is gone at once: retry claims and kept replies, the Lua scripts, the meeting
cache's version, the live counters and streams. Retries are answered from the database; the
counters are rebuilt from it.
"""

from __future__ import annotations

import sys
import time

from scripts.drills.harness import Context, Fault, main


def inject(ctx: Context) -> None:
    ctx.redis.command("FLUSHALL")
    ctx.mark("flushed")
    time.sleep(1.0)
    ctx.redis.command("FLUSHALL")
    ctx.redis.command("SCRIPT", "FLUSH")
    ctx.mark("flushed again, scripts too")


FAULT = Fault("redis_flushed", inject, "Redis FLUSHALL twice mid-burst, 1 s apart (the second with SCRIPT FLUSH)")

if __name__ == "__main__":
    sys.exit(main(FAULT, scans=4000, rate=400))
