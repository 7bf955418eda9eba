"""Jobs that wait for their time (``run_at``): kept in the database, handed to RQ only by the
reconciler once due (so a Redis flush in between loses nothing), and cancellable before."""

from __future__ import annotations

from datetime import timedelta

from app import jobs
from models import Job
from tests.jobs import sample


def test_a_job_for_later_waits_in_the_database_and_survives_a_flush(app, db, redis_client):
    at = jobs.utcnow() + timedelta(days=2)
    job_id = jobs.submit("sample", sample.add, 1, 2, actor="system", run_at=at)
    db.session.commit()
    job = db.session.get(Job, job_id)
    assert (job.state, job.enqueued_at, job.run_at) == ("queued", None, at)  # recorded, not pushed
    assert jobs.describe(job).startswith("定时执行")
    assert jobs.run_pending(app) is False
    # Long after its push would have been (past the grace), but before its time: left alone.
    assert jobs.reconcile(now=at - timedelta(minutes=1))["requeued"] == 0
    assert jobs.run_pending(app) is False
    redis_client.flushdb()
    assert jobs.reconcile(now=at)["requeued"] == 1
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    assert db.session.get(Job, job_id).state == "done"
    assert jobs.reconcile(now=at + timedelta(minutes=1))["requeued"] == 0


def test_a_job_whose_time_has_come_is_pushed_after_commit(app, db):
    job_id = jobs.submit("sample", sample.add, 1, 2, actor="system", run_at=jobs.utcnow() - timedelta(seconds=1))
    db.session.commit()
    assert db.session.get(Job, job_id).enqueued_at is not None
    assert jobs.run_pending(app) is True


def test_a_cancelled_job_never_runs(app, db):
    at = jobs.utcnow() + timedelta(hours=1)
    job_id = jobs.submit("sample", sample.add, 1, 2, actor="system", run_at=at)
    db.session.commit()
    assert jobs.cancel(job_id) is True
    db.session.commit()
    assert jobs.cancel(job_id) is False  # only a job not started can be cancelled
    assert jobs.reconcile(now=at)["requeued"] == 0
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.error_code) == ("failed", "cancelled") and jobs.describe(job) == "已取消"
