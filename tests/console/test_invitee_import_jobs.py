"""Issue 21.10 at the console: the invitee spreadsheet is read by a job, never by the request, and a
large confirmation is applied by a job; the example row of the template is skipped."""

from __future__ import annotations

import io

from sqlalchemy import select

from app import jobs
from app.services.meetings import invitees as svc
from models import Job
from tests.console.conftest import login_as
from tests.console.test_invitees_http import invitee_of, xlsx

HEADER = ["单位", "姓名", "手机", "身份", "分组", "座位", "备注"]


def upload(client, code: str, rows) -> str:
    res = client.post(f"/admin/{code}/invitees/import", data={"file": (io.BytesIO(xlsx(rows)), "名单.xlsx")},
                      content_type="multipart/form-data")
    assert res.status_code == 302 and "/invitees/import/job/" in res.headers["Location"]
    return res.headers["Location"]


def test_the_request_stores_the_file_and_a_job_checks_it(app, client, db, factory, console, monkeypatch):
    new = factory.contact(console.unit, name="表格新人", phone="13955550001")
    db.session.commit()
    calls = []
    real = svc.read_directory
    monkeypatch.setattr(svc, "read_directory", lambda *a, **k: calls.append(1) or real(*a, **k))
    login_as(client, console, "owner")
    job_url = upload(client, console.meeting.code, [HEADER, ["区委办公室", "表格新人", "13955550001", "", "", "", ""],
                                                    ["区委办公室", "张三", "13800138000", "代表", "第一代表团", "A-01", ""]])
    assert calls == []  # answered before anything was parsed
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.kind, job.state, job.actor, job.meeting_id) == ("invitee_import", "queued",
                                                                jobs.console_actor(console.owner.id), console.meeting.id)
    assert client.get(f"/jobs/{job.id}.json").get_json()["state"] == "queued"

    assert jobs.run_pending(app) is True and calls == [1]
    report_url = client.get(job_url).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert "检查结果（尚未导入）" in report and "第 3 行：模板中的示例行（张三 / 13800138000），已跳过" in report
    assert client.post(report_url).status_code == 302  # small: applied in the request
    assert invitee_of(db, console.meeting, new) is not None


def test_a_large_confirmation_is_applied_by_a_job(app, client, db, factory, console, monkeypatch):
    new = factory.contact(console.unit, name="表格新人", phone="13955550001")
    db.session.commit()
    monkeypatch.setattr(svc, "INLINE_APPLY_ROWS", 3)  # the list's four people make it "large"
    login_as(client, console, "owner")
    job_url = upload(client, console.meeting.code, [HEADER, ["区委办公室", "表格新人", "13955550001", "", "", "", ""]])
    jobs.run_pending(app)
    report_url = client.get(job_url).headers["Location"]
    applying = client.post(report_url)
    assert applying.status_code == 302 and "/invitees/import/job/" in applying.headers["Location"]
    assert invitee_of(db, console.meeting, new) is None  # nothing written in the request
    assert "正在导入名单" in client.get(applying.headers["Location"]).get_data(as_text=True)
    assert jobs.run_pending(app) is True
    done = client.get(applying.headers["Location"])
    assert done.status_code == 302 and done.headers["Location"].endswith("/invitees")
    assert "名单已导入：新增 1 人" in client.get(done.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert invitee_of(db, console.meeting, new) is not None


def test_a_file_that_cannot_be_read_fails_its_job_with_the_reason(app, client, db, console):
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/invitees/import",
                      data={"file": (io.BytesIO(b"%PDF-1.4 nope"), "名单.xlsx")}, content_type="multipart/form-data")
    jobs.run_pending(app)
    job = db.session.scalar(select(Job).order_by(Job.id.desc()))
    assert (job.state, job.error_code) == ("failed", "not_a_spreadsheet")
    back = client.get(res.headers["Location"])
    assert "检查未完成：文件内容不是表格" in client.get(back.headers["Location"]).get_data(as_text=True)


def test_another_persons_job_is_not_found(app, client, db, console):
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/invitees/import",
                      data={"file": (io.BytesIO(xlsx([HEADER])), "名单.xlsx")}, content_type="multipart/form-data")
    job_id = int(res.headers["Location"].rsplit("/", 1)[1])
    db.session.execute(Job.__table__.update().where(Job.id == job_id).values(actor="contact:999999"))
    db.session.commit()
    assert client.get(res.headers["Location"]).status_code == 404
    assert client.get(f"/jobs/{job_id}.json").status_code == 404
