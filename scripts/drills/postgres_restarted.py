"""Drill: PostgreSQL restarted (pg_ctl restart -m fast) mid-burst.

    python -m scripts.drills.postgres_restarted [--scans 4000 --rate 400] [--mode immediate]

Every connection is cut and the server refuses new ones for a moment. A round that lost its
connection is tried again while the scan's deadline allows (the sign-in is idempotent); a scan whose
outcome cannot be read in time is told it is not confirmed yet, never that it failed, and never
``success`` with nothing.
"""

from __future__ import annotations

import sys

from scripts.drills.harness import Context, Fault, main

MODE = "fast"


def inject(ctx: Context) -> None:
    ctx.postgres.restart(MODE)


FAULT = Fault("postgres_restarted", inject, f"PostgreSQL restarted (pg_ctl restart -m {MODE}) mid-burst")

if __name__ == "__main__":
    if "--mode" in sys.argv:
        i = sys.argv.index("--mode")
        MODE = sys.argv[i + 1]
        del sys.argv[i:i + 2]
        FAULT = Fault("postgres_restarted", inject, f"PostgreSQL restarted (pg_ctl restart -m {MODE}) mid-burst")
    sys.exit(main(FAULT, scans=4000, rate=400))
