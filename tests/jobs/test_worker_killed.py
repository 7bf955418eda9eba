"""A real rq worker (worker.Worker, forking a work horse per job) killed with SIGKILL mid-job: the
job is not lost, it runs again after the reconciler finds its heartbeat stale."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import jobs
from models import AuditLog, Job
from tests.conftest import backends
from tests.jobs import sample

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.real_clock
def test_job_of_a_killed_worker_runs_again(app, committed_db, tmp_path):
    db = committed_db
    marker = tmp_path / "first-run"
    job_id = jobs.submit("sample", sample.slow_once, str(marker), actor="system")
    db.session.commit()

    env = {**os.environ, "DATABASE_URL": backends().database_url, "REDIS_URL": app.config["REDIS_URL"],
           "STORAGE_DIR": app.config["STORAGE_DIR"], "SECRET_KEY": "k" * 48, "WECHAT_TOKEN": "token-for-the-drill",
           "DOOR_SIGNING_KEY": "ZHJpbGwtZG9vci1rZXktMzItYnl0ZXMtbG9uZy14eHg="}
    rq = Path(sys.executable).with_name("rq")
    worker = subprocess.Popen([str(rq), "worker", "--url", env["REDIS_URL"], "--worker-class", "worker.Worker",
                               jobs.QUEUE_NAME], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        row = None
        while time.monotonic() < deadline:
            db.session.expire_all()
            row = db.session.get(Job, job_id)
            if row.state == "running" and row.progress_message == "第一次运行":
                break
            assert worker.poll() is None, worker.stderr.read().decode()[-2000:]
            time.sleep(0.2)
        assert row is not None and row.state == "running", "the worker never started the job"
        assert (row.attempts, row.progress_done, row.progress_total) == (1, 1, 2)  # progress seen live
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the worker and its work horse, as an OOM kill would
        worker.wait(10)

    db.session.expire_all()
    assert db.session.get(Job, job_id).state == "running"  # the database still thinks so...
    assert jobs.reconcile()["rerun"] == 0  # ...and its heartbeat is fresh: not yet taken for dead
    later = jobs.utcnow() + timedelta(seconds=jobs.STALE_AFTER_S + 1)
    assert jobs.reconcile(now=later) == {"rerun": 1, "lost": 0, "requeued": 1}
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    assert (job.state, job.attempts, job.result) == ("done", 2, {"runs": "again"})
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "sample.slow_once.first")).all() == []
