"""Document conversion through recorded jobs: an upload made while Redis is down converts once the
reconciler hands its job over, and the console says where it really is meanwhile."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.services.documents import materials as documents
from models import DocumentVersion, Job
from tests.documents.conftest import make_pdf
from tests.jobs.test_jobs import later
from tests.live.conftest import login


@pytest.fixture
def organizer(factory, db):
    from app.services.meetings.organizers import add_organizer

    meeting = factory.meeting("DOCJOB", title="全区经济工作会议")
    contact = factory.contact(name="孙会务")
    add_organizer(meeting.code, contact.phone, actor="test")
    identity = factory.identity(contact)
    db.session.commit()
    return meeting, contact, identity


def test_upload_while_redis_is_down_converts_after_reconcile(app, db, client, organizer, redis_down, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", True)
    meeting, contact, identity = organizer
    login(client, identity.id)
    with redis_down():
        answer = client.post(f"/admin/{meeting.code}/documents", headers={"Accept": "application/json"},
                             data={"file": (io.BytesIO(make_pdf(6)), "六页材料.pdf")})
        assert answer.status_code == 201, answer.get_json()
        version_id = answer.get_json()["version_id"]
        page = client.get(f"/admin/{meeting.code}/documents").get_data(as_text=True)
        assert "已记录，等待任务队列恢复后转换" in page
    job = db.session.scalars(select(Job)).one()
    assert (job.kind, job.state, job.enqueued_at, job.actor, job.meeting_id) == (
        "document_convert", "queued", None, f"contact:{contact.id}", meeting.id)
    assert jobs.run_pending(app) is False  # Redis is back but never got it: it would stay pending forever

    assert jobs.reconcile(now=later())["requeued"] == 1
    while jobs.run_pending(app):  # the conversion, then its page chunks
        pass
    db.session.expire_all()
    version = db.session.get(DocumentVersion, version_id)
    assert (version.status, version.page_count, version.pages_ready) == ("ready", 6, 6)
    status = client.get(f"/admin/{meeting.code}/documents/status.json").get_json()
    assert status["documents"][0]["versions"][0]["status"] == "ready"
    assert status["documents"][0]["versions"][0]["job_note"] is None


def test_a_conversion_lost_with_its_worker_is_shown_and_retried(app, db, client, organizer, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", True)
    meeting, contact, identity = organizer
    version = documents.upload(meeting, contact, data=make_pdf(1), file_name="一页.pdf")
    db.session.commit()
    job = db.session.scalars(select(Job)).one()
    # The worker took it and died: running, with a heartbeat long gone.
    stale = jobs.utcnow() - timedelta(seconds=jobs.STALE_AFTER_S * 2)
    job.state, job.attempts, job.started_at, job.heartbeat_at = "running", 1, stale, stale
    db.session.commit()
    login(client, identity.id)
    assert "正在转换…" in client.get(f"/admin/{meeting.code}/documents").get_data(as_text=True)
    assert jobs.reconcile()["rerun"] == 1
    jobs.run_pending(app)
    db.session.expire_all()
    assert db.session.get(DocumentVersion, version.id).status == "ready"
    assert db.session.get(Job, job.id).attempts == 2
