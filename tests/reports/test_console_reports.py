"""The 报表 page and its downloads: the per-kind rights (numbers for every right, people lists for
staff and owners), names for people (RFC 5987), the downloader in the audit log, and a large
export run as a job with its progress and download."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from app import jobs
from app.services.reports import export as ex
from app.services.reports.registry import all_kinds
from models import AuditLog, Job
from tests.reports.conftest import TITLE, login
from tests.reports.helpers import pdf_text, xlsx_sheets

LEVEL = {"stranger": 0, "outsider": 0, "viewer": 1, "staff": 2, "owner": 3}


@pytest.mark.parametrize("who", list(LEVEL))
def test_every_kind_by_every_right(client, db, scene, who):
    login(client, scene, who)
    code = scene.meeting.code
    page = client.get(f"/admin/{code}/reports")
    assert page.status_code == (200 if LEVEL[who] else 403)
    for kind in all_kinds():
        need = 1 if kind.action == "view" else 2
        status = client.get(f"/admin/{code}/reports/{kind.key}.xlsx").status_code
        assert status == (200 if LEVEL[who] >= need else 403), (who, kind.key, status)
        if LEVEL[who]:
            link = f"/admin/{code}/reports/{kind.key}.pdf"
            assert (link in page.text) == (LEVEL[who] >= need), (who, kind.key)


def test_viewer_is_told_why_a_list_is_not_offered(client, scene):
    login(client, scene, "viewer")
    text = client.get(f"/admin/{scene.meeting.code}/reports").text
    assert "需会务人员或负责人权限" in text and "报表" in text


def test_download_is_named_for_people_and_audited(client, db, scene):
    login(client, scene, "staff")
    answer = client.get(f"/admin/{scene.meeting.code}/reports/signin_sheet.xlsx")
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(TITLE)}-{quote('签到表')}-" in disposition and ".xlsx" in disposition
    rows = xlsx_sheets(answer.data)["签到表"]["rows"]
    assert [r[2] for r in rows][:3] == ["张发一", "李发二", "王发三"]
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "report.export"))
    assert entry.actor == f"contact:{scene.staff.id}" and entry.target == "report:signin_sheet"
    log = client.get(f"/admin/{scene.meeting.code}/log").text
    assert "导出报表" in log and "会务李" in log and f"文件：{TITLE}-签到表-" in log
    pdf = client.get(f"/admin/{scene.meeting.code}/reports/unit_attendance.pdf?s=1")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "区财政局" in pdf_text(pdf.data)


@pytest.mark.parametrize(("url", "status", "code"), [
    ("/admin/RPT1/reports/nonsense.xlsx", 404, "report_unknown"),
    ("/admin/RPT1/reports/signin_sheet.xlsx?s=7", 404, "session_invalid"),
    ("/admin/RPT1/reports/signin_sheet.docx", 404, None),
])
def test_bad_requests_answer_in_chinese_not_500(client, scene, url, status, code):
    login(client, scene, "owner")
    answer = client.get(url, headers={"Accept": "application/json"})
    assert answer.status_code == status
    if code:
        assert answer.get_json()["error"]["code"] == code


def test_a_large_export_runs_as_a_job_with_progress_and_download(app, client, db, scene, monkeypatch):
    monkeypatch.setattr(ex, "INLINE_MAX_PEOPLE", 3)
    login(client, scene, "owner")
    answer = client.get(f"/admin/{scene.meeting.code}/reports/signin_sheet.pdf")
    assert answer.status_code == 302 and "job=" in answer.location
    job = db.session.scalar(select(Job).where(Job.kind == "report_export"))
    assert (job.actor, job.meeting_id, job.state) == (f"contact:{scene.owner.id}", scene.meeting.id, "queued")
    page = client.get(answer.location)
    assert 'id="export-job"' in page.text and "job-progress" in page.text
    jobs.run_pending(app)
    db.session.expire_all()
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done", status
    download = client.get(status["download_url"])
    assert download.status_code == 200 and "张发一" in pdf_text(download.data)
    assert "filename*=UTF-8''" in download.headers["Content-Disposition"]
    actions = db.session.execute(select(AuditLog.action, AuditLog.actor)
                                 .where(AuditLog.action.in_(["report.export", "job.download"]))).all()
    assert sorted(actions) == [("job.download", f"contact:{scene.owner.id}"),
                               ("report.export", f"contact:{scene.owner.id}")]
    # Someone else cannot follow the job.
    login(client, scene, "staff")
    assert client.get(f"/jobs/{job.id}.json").status_code == 404
