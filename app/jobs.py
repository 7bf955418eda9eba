"""Background jobs: recorded in the database, carried by RQ on the app's own Redis.

- A service asks for work with :func:`submit` (or :func:`enqueue_after_commit`): a ``jobs`` row is
  written in the same transaction as the request that asks for it, and only after that commit is the
  job's id handed to RQ. The row is the truth; Redis only carries ids. So a job asked for while
  Redis is down is not lost: it stays ``queued`` in the database.
- :func:`reconcile` (at worker start, every :data:`RECONCILE_INTERVAL_S` in every worker, and
  ``flask --app wsgi jobs reconcile``) hands RQ again what it lost: queued jobs it never took or
  forgot (a restart, a flush), and running jobs whose worker died (no heartbeat for
  :data:`STALE_AFTER_S`), which run again up to :data:`MAX_ATTEMPTS` times and then fail truthfully.
- A job is claimed by a conditional update (``queued`` → ``running``), so an id handed to RQ twice
  still runs once. The function runs as one unit of work and the row becomes ``done`` (with its
  result) in the same commit as the work; a :class:`DomainError` marks it ``failed`` with its code
  and Chinese message, anything else with ``job_failed``.
- Inside a job, :func:`report_progress` writes progress in its own short transaction (throttled), so
  the person waiting sees it while the job runs (``GET /jobs/<id>.json``, app/web/jobs.py).
- Production: ``rq worker --url $REDIS_URL --worker-class worker.Worker huiyi`` (queue name
  :data:`QUEUE_NAME`); ``worker.py`` builds the app from the environment like ``wsgi.py`` does and
  binds it here (:func:`bind_app`). The embedded defaults (fakeredis lives inside one process) run a
  worker in a daemon thread of the app process instead (:func:`run_worker_thread`).
"""

from __future__ import annotations

import contextvars
import importlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import redis as redis_lib
from flask import Flask, current_app, has_app_context
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq import Queue, SimpleWorker
from rq.exceptions import NoSuchJobError
from rq.job import Job as RQJob
from rq.job import JobStatus
from rq.timeouts import JobTimeoutException, TimerDeathPenalty
from sqlalchemy import Engine, or_, select, update

from app.extensions import SENTINEL_SCHEME, db, get_redis, redis_client, sentinel_master
from app.services.errors import DomainError
from app.services.timeutil import LOCAL_TZ
from app.tx import finish_with_error, on_commit, unit_of_work
from models import Job

log = logging.getLogger(__name__)
QUEUE_NAME = "huiyi"
JOB_TIMEOUT_S = 300
#: A running job touches its row this often; a worker silent for STALE_AFTER_S is taken for dead.
HEARTBEAT_S = 10
STALE_AFTER_S = 60
#: A queued job younger than this may still be on its way to RQ (the after-commit push).
QUEUED_GRACE_S = 10
#: Runs of one job (first run and re-runs after a dead worker) before it fails as ``job_lost``.
MAX_ATTEMPTS = 3
RECONCILE_INTERVAL_S = 30
#: Redis read timeout when handing a job over (see _queue_redis).
QUEUE_TIMEOUT_S = 1.0
#: Progress is written at most this often (and always when the message changes or the job ends).
PROGRESS_INTERVAL_S = 0.5

#: Kinds for callers of :func:`enqueue_after_commit`, by function name.
_KINDS = {"convert_version": "document_convert", "render_pages": "document_render", "send_reminder": "reminder"}

JOB_FAILED_MESSAGE = "任务执行失败，请稍后重试；如仍失败请联系管理员"
JOB_TIMEOUT_MESSAGE = "任务执行超时，请稍后重试"
JOB_LOST_MESSAGE = "任务执行中断（已尝试 {attempts} 次），请重新提交"

_app: Flask | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def console_actor(contact_id: int) -> str:
    """The ``actor`` of a job asked for at the console (the same name the audit log uses)."""
    return f"contact:{contact_id}"


def unit_office_actor(account_id: int) -> str:
    """The ``actor`` of a job asked for at a unit office."""
    return f"unit_account:{account_id}"


SYSTEM_ACTOR = "system"


# --- Asking for a job ----------------------------------------------------------------------------

def queue(app: Flask | None = None) -> Queue:
    return Queue(QUEUE_NAME, connection=_queue_redis(app or current_app), default_timeout=JOB_TIMEOUT_S)


def _queue_redis(app: Flask):
    """The client that hands jobs to RQ: the app's Redis, with a read timeout of QUEUE_TIMEOUT_S.
    A push runs after the request's commit, before its answer goes out (a WeChat callback's too), so a
    hung Redis may cost it a second, not the app client's five; the job waits for the reconciler."""
    if app.config.get("REDIS_IS_EMBEDDED") or not app.config.get("REDIS_URL"):
        return get_redis(app)
    url = app.config["REDIS_URL"]
    clients = app.extensions.setdefault("huiyi_jobs_redis", {})
    if url not in clients:
        options = {"socket_timeout": QUEUE_TIMEOUT_S, "socket_connect_timeout": 0.5, "retry": Retry(NoBackoff(), 0)}
        if url.startswith(SENTINEL_SCHEME + "://"):
            clients[url] = sentinel_master(url, **options)
        else:
            clients[url] = redis_lib.Redis.from_url(url, **options)
    return clients[url]


def _path(func: Callable[..., Any]) -> str:
    return f"{func.__module__}:{func.__qualname__}"


def submit(kind: str, func: Callable[..., Any], *args: Any, actor: str, meeting_id: int | None = None,
           unit_id: int | None = None, run_at: datetime | None = None) -> int:
    """Record ``func(*args)`` as a job in the current transaction and hand it to RQ after the commit
    (never if it rolls back); returns the job id.

    Arguments must be plain JSON values (ids, strings): the job loads what it needs itself. When
    Redis cannot take it, the job stays ``queued`` and :func:`reconcile` hands it over later.

    ``run_at`` (aware): not before then. A job whose time is still to come at the commit is only
    recorded; :func:`reconcile` hands it over once its time has come (so it lives in the database,
    and a Redis flush between now and then loses nothing).
    """
    json.dumps(args)  # fail here, in the caller, not later in a worker
    job = Job(kind=kind[:32], func=_path(func), args=list(args), state="queued", actor=actor[:96],
              meeting_id=meeting_id, unit_id=unit_id, progress_done=0, attempts=0, run_at=run_at)
    db.session.add(job)
    db.session.flush()
    job_id = job.id
    app = current_app._get_current_object()

    def push_if_due() -> None:
        if run_at is None or run_at <= utcnow():
            push(job_id, app=app)

    on_commit(push_if_due)
    return job_id


CANCELLED = "cancelled"
CANCELLED_MESSAGE = "已取消"


def cancel(job_id: int, *, now: datetime | None = None) -> bool:
    """Cancel a job that has not started, in the current transaction: it ends ``failed`` with the
    code ``cancelled`` (an id RQ still holds then finds nothing to claim). False if it already runs
    or ended."""
    result = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="failed", finished_at=now or utcnow(), error_code=CANCELLED, error_message=CANCELLED_MESSAGE)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def enqueue_after_commit(func: Callable[..., Any], *args: Any) -> int:
    """:func:`submit` for callers that name no kind or actor (kind from the function's name)."""
    return submit(_KINDS.get(func.__name__, func.__name__), func, *args, actor=SYSTEM_ACTOR)


def queue_reachable(app: Flask | None = None) -> bool:
    """Whether RQ's Redis answers now (to tell a person truthfully whether their job is on its way)."""
    try:
        return bool(queue(app).connection.ping())
    except Exception:
        return False


def _rq_id(job_id: int, attempts: int) -> str:
    # One RQ id per run: a re-run after a dead worker never collides with the dead run's RQ record.
    return f"huiyi-job-{job_id}-{attempts}"


def push(job_id: int, *, app: Flask | None = None) -> bool:
    """Hand a queued job to RQ now; False (logged) when Redis cannot take it."""
    app = app or current_app._get_current_object()
    try:
        attempts = _side_scalar(select(Job.attempts).where(Job.id == job_id))
        if attempts is None:
            return False
        q = queue(app)
        rq_id = _rq_id(job_id, attempts)
        try:  # a finished or failed RQ record of this id (the DB says queued): start it afresh
            RQJob.fetch(rq_id, connection=q.connection).delete()
        except NoSuchJobError:
            pass
        q.enqueue(run_tracked, job_id, job_id=rq_id, job_timeout=JOB_TIMEOUT_S, result_ttl=600, failure_ttl=86400)
    except Exception as exc:  # Redis down or hung: the row stays queued for the reconciler
        log.warning("job %s recorded but not queued (%s); the reconciler will queue it", job_id, exc)
        return False
    _side_write(update(Job).where(Job.id == job_id, Job.state == "queued").values(enqueued_at=utcnow()))
    return True


# --- Writes beside the unit of work --------------------------------------------------------------

def _side_write(stmt, *, in_job: bool = False) -> None:
    """Run ``stmt`` in its own short transaction, so others see it at once (progress, enqueued_at).

    Under the tests' rolled-back outer transaction the session is bound to one connection, which
    nothing else can see anyway: the write then goes through the session, and is committed (a
    savepoint there) unless it is a running job's progress, which must not commit the job's work."""
    stmt = stmt.execution_options(synchronize_session=False)
    bind = db.session.get_bind()
    if isinstance(bind, Engine):
        with bind.begin() as conn:
            _short_lock_wait(conn)
            conn.execute(stmt)
        return
    db.session.execute(stmt)
    if not in_job:
        db.session.commit()


def _short_lock_wait(conn) -> None:
    """A side write waits for a row lock 2 s at most: should a job have written its own row in its
    unit of work (it must not), its progress fails with a warning instead of waiting on itself."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL lock_timeout = '2s'")


def _side_scalar(stmt) -> Any:
    bind = db.session.get_bind()
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return conn.execute(stmt).scalar()
    return db.session.execute(stmt).scalar()


# --- Running a job -------------------------------------------------------------------------------

@dataclass
class _Running:
    job_id: int
    attempt: int
    last_write: float = 0.0
    last_message: str = ""
    done: int = 0
    total: int | None = None


_current: contextvars.ContextVar[_Running | None] = contextvars.ContextVar("huiyi_job", default=None)


def current_job_id() -> int | None:
    running = _current.get()
    return running.job_id if running else None


def report_progress(done: int, total: int | None = None, message: str = "") -> None:
    """Inside a running job: ``done`` of ``total`` (Chinese ``message``), seen by the person waiting.

    Throttled to one write per :data:`PROGRESS_INTERVAL_S` (a change of message, or reaching the
    total, is written at once), so a 100,000-row loop may call it on every row. Outside a job (a
    test or CLI calling the function directly) it does nothing.
    """
    running = _current.get()
    if running is None:
        return
    running.done, running.total = done, total if total is not None else running.total
    now = time.monotonic()
    changed = bool(message) and message != running.last_message
    final = running.total is not None and done >= running.total
    if not (changed or final) and now - running.last_write < PROGRESS_INTERVAL_S:
        return
    running.last_write = now
    values: dict[str, Any] = {"progress_done": int(done), "heartbeat_at": utcnow()}
    if total is not None:
        values["progress_total"] = int(total)
    if message:
        running.last_message = message
        values["progress_message"] = message[:200]
    try:
        _side_write(update(Job).where(Job.id == running.job_id, Job.state == "running").values(**values),
                    in_job=True)
    except Exception:  # progress is a courtesy: never fail the job for it
        log.warning("job %s: progress not written", running.job_id, exc_info=True)


class _Heartbeat:
    """Touches the running job's row every HEARTBEAT_S from a thread of its own, so a job that runs
    long without reporting progress (a LibreOffice conversion) is not taken for dead."""

    def __init__(self, engine: Engine, job_id: int):
        self.engine, self.job_id = engine, job_id
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"job-{job_id}-heartbeat", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stopped.wait(HEARTBEAT_S):
            try:
                with self.engine.begin() as conn:
                    _short_lock_wait(conn)
                    conn.execute(update(Job).where(Job.id == self.job_id, Job.state == "running")
                                 .values(heartbeat_at=utcnow()))
            except Exception:
                log.warning("job %s: heartbeat not written", self.job_id, exc_info=True)

    def stop(self) -> None:
        self.stopped.set()


def _resolve(func_path: str) -> Callable[..., Any]:
    module_name, _, name = func_path.partition(":")
    func: Any = importlib.import_module(module_name)
    for part in name.split("."):
        func = getattr(func, part)
    return func


def _jsonable(result: Any) -> dict[str, Any] | None:
    if result is None:
        return None
    if not isinstance(result, dict):
        result = {"value": result}
    try:
        json.dumps(result)
    except (TypeError, ValueError):
        log.warning("job result is not JSON; dropped: %r", result)
        return None
    return result


def run_tracked(job_id: int) -> Any:
    """RQ's entry for every job: claim the row, run its function as one unit of work, record the end."""
    if has_app_context():  # run in-thread by run_pending (tests, CLI): that context's session
        return _run_tracked(job_id)
    with _job_app().app_context():
        try:
            return _run_tracked(job_id)
        finally:
            db.session.remove()


def _claim(job_id: int) -> tuple[str, list[Any], int] | None:
    now = utcnow()
    row = db.session.execute(
        update(Job).where(Job.id == job_id, Job.state == "queued")
        .values(state="running", started_at=now, heartbeat_at=now, attempts=Job.attempts + 1, finished_at=None,
                error_code=None, error_message=None)
        .returning(Job.func, Job.args, Job.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    db.session.commit()
    return tuple(row) if row is not None else None  # type: ignore[return-value]


def _finish(running: _Running, **values: Any) -> bool:
    """End the run in the current transaction; False if the row is no longer this run's (the
    reconciler took it for dead and someone else runs it now)."""
    values.setdefault("finished_at", utcnow())
    result = db.session.execute(
        update(Job).where(Job.id == running.job_id, Job.state == "running", Job.attempts == running.attempt)
        .values(**values).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _run_tracked(job_id: int) -> Any:
    claimed = _claim(job_id)
    if claimed is None:
        log.info("job %s is not queued (already run, running or gone): skipped", job_id)
        return None
    func_path, args, attempt = claimed
    running = _Running(job_id, attempt)
    token = _current.set(running)
    bind = db.session.get_bind()
    heartbeat = _Heartbeat(bind, job_id) if isinstance(bind, Engine) else None
    try:
        try:
            result = _resolve(func_path)(*args)
            total = running.total
            done_values: dict[str, Any] = {"state": "done", "result": _jsonable(result)}
            if total is not None:
                done_values["progress_done"] = total
            if not _finish(running, **done_values):
                log.warning("job %s run %s was taken over; its work is dropped", job_id, attempt)
                db.session.rollback()
                return None
            db.session.commit()
            return result
        except DomainError as exc:
            finish_with_error(exc)
            code, message = exc.code, exc.message
        except JobTimeoutException:
            db.session.rollback()
            code, message = "job_timeout", JOB_TIMEOUT_MESSAGE
        except Exception:
            log.exception("job %s (%s) failed", job_id, func_path)
            db.session.rollback()
            code, message = "job_failed", JOB_FAILED_MESSAGE
        _finish(running, state="failed", error_code=code[:64], error_message=message[:500])
        db.session.commit()
        return None
    finally:
        if heartbeat is not None:
            heartbeat.stop()
        _current.reset(token)


def run_job(func_path: str, *args: Any) -> Any:
    """Run ``module:function`` inside an app context as one unit of work, with no row (ids RQ still
    holds from before jobs were recorded; new work goes through :func:`submit`)."""
    if has_app_context():
        with unit_of_work():
            return _resolve(func_path)(*args)
    with _job_app().app_context():
        with unit_of_work():
            return _resolve(func_path)(*args)


# --- Reconciling the database with Redis ---------------------------------------------------------

def _in_redis(q: Queue, rq_id: str) -> bool:
    """Whether RQ still holds this run, waiting or working."""
    try:
        status = RQJob.fetch(rq_id, connection=q.connection).get_status(refresh=False)
    except NoSuchJobError:
        return False
    return status in {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def reconcile(app: Flask | None = None, *, now: datetime | None = None) -> dict[str, int]:
    """Hand RQ again what the database says must run; returns counts.

    - ``rerun``: running, but its worker went silent (no heartbeat for STALE_AFTER_S): queued again;
    - ``lost``: the same after MAX_ATTEMPTS runs, or running far past the job timeout: failed;
    - ``requeued``: queued, but RQ does not hold it (never taken while Redis was down, or lost in a
      restart or flush), or a scheduled job whose ``run_at`` has come (by ``now``): handed over.
      One whose time is still to come is left alone.

    Raises redis errors when Redis is unreachable (nothing can be handed over then; nothing is lost).
    """
    if app is not None and not has_app_context():
        with app.app_context():
            try:
                return reconcile(now=now)
            finally:
                db.session.remove()
    now = now or utcnow()
    app = current_app._get_current_object()
    counts = {"rerun": 0, "lost": 0, "requeued": 0}
    stale = now - timedelta(seconds=STALE_AFTER_S)
    overdue = now - timedelta(seconds=JOB_TIMEOUT_S + STALE_AFTER_S)

    # Conditional updates, so two reconcilers (two workers) never both act on one job.
    lost_timeout = db.session.execute(
        update(Job).where(Job.state == "running", Job.started_at < overdue)
        .values(state="failed", finished_at=now, error_code="job_timeout", error_message=JOB_TIMEOUT_MESSAGE)
        .execution_options(synchronize_session=False)
    ).rowcount
    dead = db.session.execute(
        select(Job.id, Job.attempts).where(Job.state == "running", Job.heartbeat_at < stale)
    ).all()
    for job_id, attempts in dead:
        if attempts >= MAX_ATTEMPTS:
            n = db.session.execute(
                update(Job).where(Job.id == job_id, Job.state == "running", Job.attempts == attempts)
                .values(state="failed", finished_at=now, error_code="job_lost",
                        error_message=JOB_LOST_MESSAGE.format(attempts=attempts))
                .execution_options(synchronize_session=False)).rowcount
            counts["lost"] += n
        else:
            n = db.session.execute(
                update(Job).where(Job.id == job_id, Job.state == "running", Job.attempts == attempts)
                .values(state="queued", enqueued_at=None, heartbeat_at=None)
                .execution_options(synchronize_session=False)).rowcount
            counts["rerun"] += n
        if n:
            log.warning("job %s: its worker died during run %s; %s", job_id, attempts,
                        "failed" if attempts >= MAX_ATTEMPTS else "queued again")
    counts["lost"] += lost_timeout
    db.session.commit()

    q = queue(app)
    q.connection.ping()  # say so when Redis is unreachable, rather than count nothing handed over
    grace = now - timedelta(seconds=QUEUED_GRACE_S)
    waiting = db.session.execute(  # a job whose time (run_at) is still to come waits here, not in RQ
        select(Job.id, Job.attempts, Job.enqueued_at, Job.created_at)
        .where(Job.state == "queued", or_(Job.run_at.is_(None), Job.run_at <= now)).order_by(Job.id)
    ).all()
    for job_id, attempts, enqueued_at, created_at in waiting:
        if enqueued_at is None and created_at > grace:
            continue  # its own after-commit push may still be on the way
        if enqueued_at is not None and _in_redis(q, _rq_id(job_id, attempts)):
            continue
        if push(job_id, app=app):
            counts["requeued"] += 1
    return counts


def reconcile_quietly(app: Flask) -> dict[str, int] | None:
    """:func:`reconcile` for a worker's loop: an unreachable Redis or database is logged, not raised."""
    try:
        counts = reconcile(app)
    except Exception as exc:
        log.warning("job reconcile skipped: %s", exc)
        return None
    if any(counts.values()):
        log.warning("job reconcile: %s", counts)
    return counts


# --- Reading jobs (status pages, CLI) ------------------------------------------------------------

def get_job(job_id: int) -> Job | None:
    return db.session.get(Job, job_id)


def job_for(job_id: int, actors: set[str]) -> Job | None:
    """The job if one of ``actors`` asked for it; None otherwise (the caller answers 404 either way,
    so nobody learns which ids exist)."""
    job = db.session.get(Job, job_id)
    if job is None or job.actor not in actors:
        return None
    return job


def list_jobs(state: str | None = None, limit: int = 100) -> list[Job]:
    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if state:
        stmt = stmt.where(Job.state == state)
    return list(db.session.scalars(stmt))


def latest_job(kind: str, args: list[Any], *, meeting_id: int | None = None) -> Job | None:
    """The newest job of ``kind`` with exactly these arguments (e.g. a reminder's sending); give the
    ``meeting_id`` it was submitted with to look among that meeting's jobs only (indexed)."""
    stmt = select(Job).where(Job.kind == kind, Job.args == args)
    if meeting_id is not None:
        stmt = stmt.where(Job.meeting_id == meeting_id)
    return db.session.scalars(stmt.order_by(Job.id.desc()).limit(1)).first()


STATE_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}


def describe(job: Job) -> str:
    """The job's true state for a person, in Chinese (the console shows this beside its object)."""
    if job.state == "queued":
        if job.run_at is not None and job.enqueued_at is None and job.run_at > utcnow():
            return f"定时执行（{job.run_at.astimezone(LOCAL_TZ):%m-%d %H:%M}）"
        if job.enqueued_at is None:
            return "已记录，等待任务队列恢复后执行"
        return "排队中"
    if job.state == "running":
        if job.progress_total:
            return f"进行中（{job.progress_done}/{job.progress_total}）"
        return "进行中"
    if job.state == "failed" and job.error_code == CANCELLED:
        return CANCELLED_MESSAGE
    if job.state == "failed":
        return f"失败：{job.error_message or JOB_FAILED_MESSAGE}"
    return "已完成"


# --- Workers -------------------------------------------------------------------------------------

def bind_app(app: Flask) -> None:
    """The app that jobs run in, for a worker that runs outside any app context."""
    global _app, _fork_hook
    _app = app
    if not _fork_hook:
        os.register_at_fork(after_in_child=_fresh_pools_after_fork)
        _fork_hook = True


_fork_hook = False


def _fresh_pools_after_fork() -> None:
    """rq's Worker forks a work horse per job, and the parent now uses the database too (it
    reconciles): the child must not share the parent's pooled connections (two processes on one
    socket corrupt both), so it drops them without closing them and opens its own."""
    if _app is None:
        return
    with _app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def _job_app() -> Flask:
    if _app is None:
        raise RuntimeError("no app bound for jobs: start the worker with --worker-class worker.Worker")
    return _app


class ReconcilingWorker:
    """Worker mixin: reconcile at start and every RECONCILE_INTERVAL_S, in RQ's maintenance slot
    (the worker wakes from its wait for jobs at least that often)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("maintenance_interval", RECONCILE_INTERVAL_S)
        super().__init__(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        return min(super().dequeue_timeout, RECONCILE_INTERVAL_S)  # type: ignore[misc]

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[misc]
        reconcile_quietly(_job_app())


class ThreadWorker(ReconcilingWorker, SimpleWorker):
    """A SimpleWorker that can live outside the main thread: no signal handlers, timer timeouts."""

    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:  # signals can only be set from the main thread
        pass


class _BurstWorker(SimpleWorker):
    death_penalty_class = TimerDeathPenalty

    def _install_signal_handlers(self) -> None:
        pass


def _worker_redis(app: Flask):
    """A Redis client of the worker's own: rq raises its connection's read timeout above its wait
    for jobs, which must not happen to the app's client (its short timeouts keep the door answering
    when Redis hangs). The embedded stand-in has no sockets and must be the shared one."""
    if app.config.get("REDIS_IS_EMBEDDED"):
        return get_redis(app)
    return redis_client(app.config["REDIS_URL"])


def make_worker(app: Flask) -> ThreadWorker:
    redis = _worker_redis(app)
    return ThreadWorker([Queue(QUEUE_NAME, connection=redis)], connection=redis)


def run_worker_thread(app: Flask) -> threading.Thread:
    """Start an RQ worker in a daemon thread of this process (the embedded Redis stand-in's way); it
    reconciles at start and periodically, as ``worker.Worker`` does."""
    bind_app(app)
    worker = make_worker(app)

    def _loop() -> None:
        while True:
            try:
                worker.work(burst=False, logging_level="WARNING")
            except Exception:  # keep serving: a crashed loop would silently stop every reminder
                log.exception("job worker loop crashed; restarting")
            time.sleep(1)  # e.g. Redis unreachable: do not spin

    thread = threading.Thread(target=_loop, name="huiyi-jobs", daemon=True)
    thread.start()
    return thread


def run_pending(app: Flask) -> bool:
    """Run every queued job now, in this thread (tests, CLI); True if any job ran."""
    bind_app(app)
    redis = _worker_redis(app)
    return _BurstWorker([Queue(QUEUE_NAME, connection=redis)], connection=redis).work(
        burst=True, logging_level="WARNING")
