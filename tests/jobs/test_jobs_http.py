"""The status and download routes of a job (app/web/jobs.py): only the person who asked sees them."""

from __future__ import annotations

import threading
import time
from urllib.parse import quote

from sqlalchemy import select

from app import jobs
from app.services import storage
from app.web.auth import SESSION_KEY
from app.web.units_office import SESSION_KEY as UNIT_SESSION_KEY
from models import AuditLog, Job, UnitAccount, WechatIdentity
from tests.jobs import sample


def login(client, identity: WechatIdentity) -> None:
    with client.session_transaction() as s:
        s.clear()
        s[SESSION_KEY] = identity.id


def done_job(db, actor: str, filename: str = "签到统计表（全体）.xlsx") -> Job:
    sha = storage.put("序号,姓名\n1,张三\n".encode())
    job = Job(kind="report_export", func="tests.jobs.sample:add", args=[], state="done", actor=actor,
              progress_done=1, progress_total=1, attempts=1,
              result={"sha": sha, "filename": filename, "content_type": "text/csv; charset=utf-8"})
    db.session.add(job)
    db.session.commit()
    return job


def test_status_is_for_the_actor_only(client, db, factory):
    me, other = factory.identity(factory.contact()), factory.identity(factory.contact())
    job = done_job(db, jobs.console_actor(me.contact_id))
    db.session.commit()

    assert client.get(f"/jobs/{job.id}.json").status_code == 404  # not logged in
    login(client, other)
    answer = client.get(f"/jobs/{job.id}.json")
    assert answer.status_code == 404 and answer.json["error"]["code"] == "job_not_found"
    assert client.get(f"/jobs/{job.id}/download").status_code == 404
    assert client.get("/jobs/999999.json").status_code == 404  # the same answer as for a stranger

    login(client, me)
    answer = client.get(f"/jobs/{job.id}.json")
    assert answer.status_code == 200
    assert answer.json == {"id": job.id, "kind": "report_export", "state": "done", "done": 1, "total": 1,
                           "message": "已完成", "error_code": None, "error_message": None,
                           "download_url": f"/jobs/{job.id}/download"}
    assert answer.headers["Cache-Control"] == "no-store"


def test_download_has_the_chinese_name_and_is_audited(client, db, factory):
    me = factory.identity(factory.contact())
    job = done_job(db, jobs.console_actor(me.contact_id))
    login(client, me)
    answer = client.get(f"/jobs/{job.id}/download")
    assert answer.status_code == 200
    assert answer.data == "序号,姓名\n1,张三\n".encode()
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('签到统计表（全体）.xlsx')}" in disposition
    entry = db.session.scalars(select(AuditLog).where(AuditLog.action == "job.download")).one()
    assert (entry.actor, entry.target, entry.data["filename"]) == (job.actor, f"job:{job.id}", "签到统计表（全体）.xlsx")


def test_unit_office_login_sees_its_own_jobs(client, db, factory):
    unit = factory.unit()
    account = UnitAccount(unit_id=unit.id, username="bgs_office", password_hash="x", active=True)
    stranger = UnitAccount(unit_id=unit.id, username="bgs_other", password_hash="x", active=True)
    db.session.add_all([account, stranger])
    db.session.flush()
    job = done_job(db, jobs.unit_office_actor(account.id), filename="通讯录导入报告.csv")
    with client.session_transaction() as s:
        s[UNIT_SESSION_KEY] = stranger.id
    assert client.get(f"/jobs/{job.id}.json").status_code == 404
    with client.session_transaction() as s:
        s[UNIT_SESSION_KEY] = account.id
    assert client.get(f"/jobs/{job.id}.json").json["download_url"] == f"/jobs/{job.id}/download"
    assert client.get(f"/jobs/{job.id}/download").status_code == 200


def test_failed_job_shows_its_error_and_no_download(client, db, factory):
    me = factory.identity(factory.contact())
    job_id = jobs.submit("sample", sample.refuse, "第 3 行缺少姓名", actor=jobs.console_actor(me.contact_id))
    db.session.commit()
    jobs.run_pending(client.application)
    login(client, me)
    answer = client.get(f"/jobs/{job_id}.json").json
    assert (answer["state"], answer["error_code"], answer["download_url"]) == ("failed", "sample_refused", None)
    assert answer["error_message"] == "样例任务被拒绝：第 3 行缺少姓名"
    assert client.get(f"/jobs/{job_id}/download").status_code == 404


def test_progress_is_seen_while_the_job_runs(app, committed_db):
    """A real worker's job in its own thread and transaction; the status route sees each step."""
    from tests.factories import Factory

    db = committed_db
    factory = Factory(db)
    contact = factory.contact(name="进度测试")
    identity = factory.identity(contact)
    job_id = jobs.submit("sample", sample.stepwise, 3, actor=jobs.console_actor(contact.id))
    db.session.commit()

    sample.GATE.clear()
    sample.STARTED.clear()
    jobs.bind_app(app)
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        assert sample.STARTED.wait(20)
        client = app.test_client()
        login(client, identity)
        seen = client.get(f"/jobs/{job_id}.json").json
        assert (seen["state"], seen["done"], seen["total"], seen["message"]) == ("running", 1, 3, "第一步：读取文件")
    finally:
        sample.GATE.set()
        worker.join(30)
    deadline = time.monotonic() + 10
    while client.get(f"/jobs/{job_id}.json").json["state"] != "done" and time.monotonic() < deadline:
        time.sleep(0.05)
    seen = client.get(f"/jobs/{job_id}.json").json
    assert (seen["state"], seen["done"], seen["total"], seen["message"]) == ("done", 3, 3, "第二步：写入")


def test_odd_job_ids_are_not_found_not_errors(client):
    for path in ("/jobs/99999999999999999999.json", "/jobs/abc.json", "/jobs/-1.json", "/jobs/0/download",
                 "/jobs/1.json%00", "/jobs/9007199254740993/download"):
        assert client.get(path).status_code in (400, 404), path


def test_macro_takes_a_job_or_its_id(app, db):
    from flask import render_template_string

    job = Job(kind="report_export", func="tests.jobs.sample:add", args=[], state="queued", actor="system",
              progress_done=0, attempts=0)
    db.session.add(job)
    db.session.flush()
    template = '{% from "_job_progress.html" import job_progress %}{{ job_progress(x, "导出") }}'
    with app.test_request_context():
        by_id = render_template_string(template, x=job.id)
        by_job = render_template_string(template, x=job)
    assert by_id == by_job and f'data-job-status="/jobs/{job.id}.json"' in by_id and "导出" in by_id
