"""Jobs recorded in the database (app/jobs.py): nothing asked for is lost with Redis or a worker."""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app import jobs
from models import AuditLog, Job
from tests.jobs import sample


def later(seconds: float = jobs.QUEUED_GRACE_S + 1):
    return jobs.utcnow() + timedelta(seconds=seconds)


def runs_of(db, action: str) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == action))


def test_submit_records_the_job_and_runs_it_after_commit(app, db):
    job_id = jobs.submit("sample", sample.add, 2, 3, actor="contact:7", meeting_id=None)
    job = db.session.get(Job, job_id)
    assert (job.state, job.kind, job.func, job.args, job.actor) == ("queued", "sample", "tests.jobs.sample:add",
                                                                    [2, 3], "contact:7")
    assert jobs.run_pending(app) is False  # nothing reaches RQ before the commit
    db.session.commit()
    assert db.session.get(Job, job_id).enqueued_at is not None
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.result, job.attempts) == ("done", {"sum": 5}, 1)
    assert job.started_at is not None and job.finished_at is not None


def test_rolled_back_request_queues_nothing(app, db):
    jobs.submit("sample", sample.add, 1, 1, actor="system")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0
    assert jobs.run_pending(app) is False


def test_job_asked_while_redis_is_down_is_kept_and_reconciled(app, db, redis_down):
    with redis_down():
        job_id = jobs.submit("sample", sample.add, 20, 22, actor="contact:1")
        db.session.commit()  # the push after commit fails: Redis is unreachable
        job = db.session.get(Job, job_id)
        assert (job.state, job.enqueued_at) == ("queued", None)
        assert jobs.describe(job) == "已记录，等待任务队列恢复后执行"
        with pytest.raises(Exception):  # noqa: B017 - any redis error: nothing can be handed over yet
            jobs.reconcile(now=later())
    assert jobs.run_pending(app) is False  # Redis back, but it never got the job
    assert jobs.reconcile(now=later()) == {"rerun": 0, "lost": 0, "requeued": 1}
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    assert (db.session.get(Job, job_id).state, db.session.get(Job, job_id).result) == ("done", {"sum": 42})


def test_reconcile_leaves_a_fresh_push_alone_and_requeues_after_a_flush(app, db, redis_client):
    job_id = jobs.submit("sample", sample.add, 1, 2, actor="system")
    db.session.commit()
    assert jobs.reconcile(now=later())["requeued"] == 0  # RQ holds it: no second copy
    redis_client.flushdb()  # Redis restarted empty / flushed
    assert jobs.reconcile(now=later())["requeued"] == 1
    assert jobs.run_pending(app) is True
    assert runs_of(db, "sample.add") == 1
    assert db.session.get(Job, job_id).state == "done"


def test_a_job_handed_over_twice_runs_once(app, db, redis_client):
    job_id = jobs.submit("sample", sample.add, 1, 2, actor="system")
    db.session.commit()
    assert jobs.push(job_id) is True  # e.g. two reconcilers at once
    jobs.run_pending(app)
    assert runs_of(db, "sample.add") == 1


def _running(db, *, attempts: int, heartbeat_age_s: float) -> int:
    now = jobs.utcnow()
    job = Job(kind="sample", func="tests.jobs.sample:add", args=[4, 5], state="running", actor="system",
              attempts=attempts, progress_done=0, created_at=now - timedelta(seconds=heartbeat_age_s + 5),
              started_at=now - timedelta(seconds=heartbeat_age_s + 5),
              heartbeat_at=now - timedelta(seconds=heartbeat_age_s), enqueued_at=now)
    db.session.add(job)
    db.session.commit()
    return job.id


def test_a_job_whose_worker_died_runs_again(app, db):
    job_id = _running(db, attempts=1, heartbeat_age_s=jobs.STALE_AFTER_S + 30)  # killed: no heartbeat
    alive_id = _running(db, attempts=1, heartbeat_age_s=2)  # another job, still being worked on
    assert jobs.reconcile() == {"rerun": 1, "lost": 0, "requeued": 1}
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.result, job.attempts) == ("done", {"sum": 9}, 2)
    assert db.session.get(Job, alive_id).state == "running"


def test_a_job_that_keeps_dying_fails_truthfully(app, db):
    job_id = _running(db, attempts=jobs.MAX_ATTEMPTS, heartbeat_age_s=jobs.STALE_AFTER_S + 30)
    assert jobs.reconcile()["lost"] == 1
    job = db.session.get(Job, job_id)
    assert (job.state, job.error_code) == ("failed", "job_lost")
    assert job.error_message == f"任务执行中断（已尝试 {jobs.MAX_ATTEMPTS} 次），请重新提交"
    assert jobs.run_pending(app) is False


def test_domain_error_fails_the_job_with_its_code_and_drops_its_writes(app, db):
    job_id = jobs.submit("sample", sample.refuse, "文件为空", actor="system")
    db.session.commit()
    jobs.run_pending(app)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.error_code, job.error_message) == ("failed", "sample_refused", "样例任务被拒绝：文件为空")
    assert runs_of(db, "sample.refuse") == 0


def test_unexpected_error_fails_the_job_with_a_generic_message(app, db):
    job_id = jobs.submit("sample", sample.crash, actor="system")
    db.session.commit()
    jobs.run_pending(app)
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.error_code, job.error_message) == ("failed", "job_failed", jobs.JOB_FAILED_MESSAGE)
    assert runs_of(db, "sample.crash") == 0


def test_report_progress_outside_a_job_does_nothing(db):
    jobs.report_progress(1, 2, "无任务")  # no error, nothing written


def test_jobs_survive_a_redis_that_restarts_empty(app, db, own_redis):
    """A real redis-server killed (no persistence) and started again: what it held is gone; the
    database still has it, and the reconciler hands it over again."""
    first = jobs.submit("sample", sample.add, 1, 1, actor="system")
    second = jobs.submit("sample", sample.add, 2, 2, actor="system")
    db.session.commit()
    assert jobs.queue(app).count == 2
    own_redis.kill()
    assert jobs.queue_reachable() is False
    third = jobs.submit("sample", sample.add, 3, 3, actor="system")  # asked for while Redis is down
    db.session.commit()
    own_redis.start()  # empty
    assert jobs.queue(app).count == 0 and jobs.run_pending(app) is False
    assert jobs.reconcile(now=later()) == {"rerun": 0, "lost": 0, "requeued": 3}
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    assert [db.session.get(Job, i).result for i in (first, second, third)] == [{"sum": 2}, {"sum": 4}, {"sum": 6}]


def test_a_hung_redis_delays_the_request_by_a_second_at_most(app, db, own_redis):
    """A push runs after the commit, before the answer goes out: a hung Redis (SIGSTOP) must not hold
    the request for the app client's five seconds; the job waits for the reconciler instead."""
    os.kill(own_redis.proc.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        job_id = jobs.submit("sample", sample.add, 1, 1, actor="system")
        db.session.commit()
        reachable = jobs.queue_reachable()
        elapsed = time.monotonic() - started
    finally:
        os.kill(own_redis.proc.pid, signal.SIGCONT)
    assert reachable is False
    assert elapsed < 2 * jobs.QUEUE_TIMEOUT_S + 0.5, elapsed
    assert db.session.get(Job, job_id).enqueued_at is None
    assert jobs.reconcile(now=later())["requeued"] == 1
    assert jobs.run_pending(app) is True
