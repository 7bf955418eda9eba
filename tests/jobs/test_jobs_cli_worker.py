"""The jobs CLI, and workers that reconcile at start and periodically."""

from __future__ import annotations

import json
from datetime import timedelta

from app import jobs
from models import Job
from tests.jobs import sample


def _lost_job(db, **kw) -> int:
    """A queued job Redis never took (asked for a minute ago while Redis was down)."""
    job = Job(kind="sample", func="tests.jobs.sample:add", args=[1, 1], state="queued", actor="contact:3",
              progress_done=0, attempts=0, created_at=jobs.utcnow() - timedelta(minutes=1), **kw)
    db.session.add(job)
    db.session.commit()
    return job.id


def test_cli_reconcile_and_list(app, db, runner, redis_down):
    job_id = _lost_job(db)
    done = Job(kind="report_export", func="tests.jobs.sample:add", args=[], state="failed", actor="system",
               progress_done=0, attempts=1, error_code="job_failed", error_message=jobs.JOB_FAILED_MESSAGE)
    db.session.add(done)
    db.session.commit()

    listed = runner.invoke(args=["jobs", "list", "--state", "queued", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)["jobs"]
    assert [(r["id"], r["state"], r["enqueued_at"]) for r in rows] == [(job_id, "queued", None)]
    human = runner.invoke(args=["jobs", "list"])
    assert "排队中" in human.output and "失败" in human.output and jobs.JOB_FAILED_MESSAGE in human.output
    assert runner.invoke(args=["jobs", "list", "--state", "lost"]).exit_code == 2  # not a state

    with redis_down():
        refused = runner.invoke(args=["jobs", "reconcile", "--json"])
        assert refused.exit_code == 1
        assert json.loads(refused.stdout.splitlines()[0])["error"]["code"] == "queue_unavailable"
    result = runner.invoke(args=["jobs", "reconcile", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"rerun": 0, "lost": 0, "requeued": 1}
    assert jobs.run_pending(app) is True
    assert db.session.get(Job, job_id).state == "done"


def test_worker_reconciles_when_it_starts(app, db):
    job_id = _lost_job(db)
    jobs.bind_app(app)
    # The embedded demo's worker thread and ``worker.Worker`` share this behaviour (ReconcilingWorker).
    assert jobs.make_worker(app).work(burst=True, logging_level="WARNING") is True
    db.session.expire_all()
    assert (db.session.get(Job, job_id).state, db.session.get(Job, job_id).result) == ("done", {"sum": 2})


def test_workers_wake_to_reconcile_periodically(app):
    import worker

    w = jobs.make_worker(app)
    assert w.maintenance_interval == jobs.RECONCILE_INTERVAL_S
    assert w.dequeue_timeout <= jobs.RECONCILE_INTERVAL_S  # the wait for jobs ends in time to reconcile
    assert issubclass(worker.Worker, jobs.ReconcilingWorker) and issubclass(worker.SimpleWorker,
                                                                             jobs.ReconcilingWorker)


def test_enqueue_after_commit_still_works_for_old_callers(app, db):
    job_id = jobs.enqueue_after_commit(sample.add, 5, 6)
    db.session.commit()
    jobs.run_pending(app)
    job = db.session.get(Job, job_id)
    assert (job.kind, job.actor, job.state, job.result) == ("add", "system", "done", {"sum": 11})
