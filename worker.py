"""The job worker's entry point, beside ``wsgi.py``:

    rq worker --url "$REDIS_URL" --worker-class worker.Worker huiyi
    rq worker -c worker --worker-class worker.Worker huiyi     # Redis through Sentinel (REDIS_SENTINELS)

The worker builds the app from the environment once, as ``wsgi.py`` does, and every job runs in it
(:func:`app.jobs.run_tracked`). Every worker reconciles the database's jobs with Redis at start and
every ``app.jobs.RECONCILE_INTERVAL_S`` (:class:`app.jobs.ReconcilingWorker`), so what Redis lost while
it was down, flushed or restarted, or what a killed worker held, runs again. The app is built here,
at the outermost layer, so that nothing inside ``app`` has to import the app factory.
"""

from __future__ import annotations

import os

import rq

from app import jobs
from app.config import refuse_public_defaults
from app.extensions import sentinel_client_options
from app.factory import create_app

# Job workers share the machine with the web workers that answer WeChat. Imports, conversions
# (LibreOffice inherits this) and exports can wait a moment; a scan cannot: at a lower priority
# the scheduler gives the door the CPU first whenever both want it (docs/benchmarks.md, mixed load).
JOB_WORKER_NICE = int(os.environ.get("HUIYI_JOB_NICE", "10"))

# ``rq worker -c worker`` reads its Redis settings from this module: with REDIS_SENTINELS set (as
# the app reads it, app.config) rq finds the master through the Sentinels and follows a failover.
if os.environ.get("REDIS_SENTINELS", "").strip():
    SENTINEL = {
        "INSTANCES": [(h.strip().rpartition(":")[0], int(h.strip().rpartition(":")[2] or 26379))
                      for h in os.environ["REDIS_SENTINELS"].split(",") if h.strip()],
        "MASTER_NAME": os.environ.get("REDIS_SENTINEL_MASTER", "").strip() or "huiyi",
        "SENTINEL_KWARGS": sentinel_client_options(),  # a lost Sentinel costs one short timeout
    }


def _production_app():
    refuse_public_defaults()
    if JOB_WORKER_NICE > 0:
        os.nice(JOB_WORKER_NICE)
    return create_app()


class Worker(jobs.ReconcilingWorker, rq.Worker):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        jobs.bind_app(_production_app())


class SimpleWorker(jobs.ReconcilingWorker, rq.SimpleWorker):
    """The same, running each job in the worker's own process (no fork)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        jobs.bind_app(_production_app())
