"""Background jobs on RQ, on the app's own Redis.

- Services queue work with :func:`enqueue_after_commit`: the job is queued only once the
  transaction that asked for it has committed, so a job never looks for rows that were rolled back.
- Every job runs through :func:`run_job`: inside an app context, as one unit of work (commit once,
  roll back on error).
- Production: ``rq worker --url $REDIS_URL --worker-class worker.Worker huiyi`` (queue name
  :data:`QUEUE_NAME`), as many as needed; ``worker.py`` builds the app from the environment like
  ``wsgi.py`` does and binds it here (:func:`bind_app`).
- The embedded defaults (fakeredis lives inside one process) cannot use a separate worker
  process: :func:`run_worker_thread` runs a worker in a daemon thread of the app process.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from rq import Queue, SimpleWorker
from rq.timeouts import TimerDeathPenalty

from app.extensions import get_redis
from app.tx import on_commit, unit_of_work

log = logging.getLogger(__name__)
QUEUE_NAME = "huiyi"
JOB_TIMEOUT_S = 300

_app: Flask | None = None


def queue(app: Flask | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=get_redis(app or current_app), default_timeout=JOB_TIMEOUT_S)


def _path(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def enqueue(func: Callable[..., Any], *args: Any, app: Flask | None = None) -> str:
    """Queue ``func(*args)`` now; returns the job id. Prefer :func:`enqueue_after_commit`."""
    job = queue(app).enqueue(run_job, _path(func), *args, job_timeout=JOB_TIMEOUT_S)
    return job.id


def enqueue_after_commit(func: Callable[..., Any], *args: Any) -> None:
    """Queue ``func(*args)`` after the current transaction commits (never if it rolls back).

    Arguments must be plain values (ids, strings): the job loads what it needs itself.
    """
    app = current_app._get_current_object()
    on_commit(lambda: enqueue(func, *args, app=app))


def bind_app(app: Flask) -> None:
    """The app that jobs run in, for a worker that runs outside any app context."""
    global _app
    _app = app


def _job_app() -> Flask:
    if _app is None:
        raise RuntimeError("no app bound for jobs: start the worker with --worker-class worker.Worker")
    return _app


def run_job(func_path: str, *args: Any) -> Any:
    """Run ``module:function`` inside an app context as one unit of work."""
    module_name, _, name = func_path.partition(":")
    func = importlib.import_module(module_name)
    for part in name.split("."):
        func = getattr(func, part)
    if has_app_context():  # run in-thread by run_pending (tests, CLI): that context's session
        with unit_of_work():
            return func(*args)
    with _job_app().app_context():
        with unit_of_work():
            return func(*args)


class ThreadWorker(SimpleWorker):
    """A SimpleWorker that can live outside the main thread: no signal handlers, timer timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # signals can only be set from the main thread
        pass


def make_worker(app: Flask) -> ThreadWorker:
    redis = get_redis(app)
    return ThreadWorker([Queue(QUEUE_NAME, connection=redis)], connection=redis)


def run_worker_thread(app: Flask) -> threading.Thread:
    """Start an RQ worker in a daemon thread of this process (the embedded Redis stand-in's way)."""
    bind_app(app)
    worker = make_worker(app)

    def _loop() -> None:
        while True:
            try:
                worker.work(burst=False, logging_level="WARNING")
            except Exception:  # keep serving: a crashed loop would silently stop every reminder
                log.exception("job worker loop crashed; restarting")

    thread = threading.Thread(target=_loop, name="huiyi-jobs", daemon=True)
    thread.start()
    return thread


def run_pending(app: Flask) -> bool:
    """Run every queued job now, in this thread (tests, CLI); True if any job ran."""
    bind_app(app)
    return make_worker(app).work(burst=True, logging_level="WARNING")
