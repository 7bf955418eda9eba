"""/admin/attendance over HTTP: who counts which meetings, filters and refusals, sorting, paging,
exports (small ones at once, read back; large ones as a job), the top bar's link."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import select

from app.services.attendance import export as ex
from models import AuditLog, Job
from tests.attendance.conftest import NOW

QUERY = {"from": "2026-11-01", "to": "2026-11-30"}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    from app.web import console_attendance

    monkeypatch.setattr(console_attendance, "_now", lambda: NOW)


def login(client, factory, contact):
    from app.web.auth import SESSION_KEY

    identity = factory.identity(contact)
    factory.db.session.commit()
    with client.session_transaction() as s:
        s.clear()
        s[SESSION_KEY] = identity.id


def table(html: str) -> str:
    return html[html.index('<table class="list att-table"'):]


def test_needs_a_console_login(client, att):
    response = client.get("/admin/attendance")
    assert response.status_code == 302 and "/admin/login" in response.location


def test_an_organizer_sees_their_meetings_numbers(client, factory, att):
    login(client, factory, att.organizer)
    page = client.get("/admin/attendance", query_string=QUERY)
    assert page.status_code == 200
    text = page.text
    assert 'id="att-meetings">3<' in text and 'id="att-rate">70.0%<' in text
    for name in ("张一", "张二", "张三", "李一", "李二"):
        assert name in text
    assert "会议MT6" not in client.get("/admin/attendance", query_string={**QUERY, "view": "meetings"}).text
    assert 'href="/admin/attendance"' in text  # the top bar links the page


def test_a_system_admin_sees_every_meeting_and_a_stranger_none(client, factory, att):
    login(client, factory, att.admin)
    assert 'id="att-meetings">4<' in client.get("/admin/attendance", query_string=QUERY).text
    login(client, factory, att.people["b2"])
    page = client.get("/admin/attendance", query_string=QUERY)
    assert page.status_code == 200 and 'id="att-meetings">0<' in page.text and "张一" not in page.text
    named = client.get("/admin/attendance", query_string={"meetings": "MT1"})
    assert named.status_code == 404 and "无权查看" in named.text


def test_views_sort_and_page(client, factory, att, monkeypatch):
    from app.web import console_attendance

    login(client, factory, att.organizer)
    units = table(client.get("/admin/attendance", query_string={**QUERY, "view": "units"}).text)
    assert units.index("区财政局") < units.index("区发展和改革局")  # worst rate first
    by_rate = client.get("/admin/attendance", query_string={**QUERY, "sort": "rate", "dir": "desc"}).text
    order = [table(by_rate).index(n) for n in ("张二", "张一", "李一", "李二")]
    assert order == sorted(order) and 'aria-sort="descending"' in by_rate
    meetings = client.get("/admin/attendance", query_string={**QUERY, "view": "meetings", "sort": "start",
                                                             "dir": "desc"}).text
    assert meetings.index("会议MT3") < meetings.index("会议MT1")
    monkeypatch.setattr(console_attendance, "PER_PAGE", 2)
    second = table(client.get("/admin/attendance", query_string={**QUERY, "page": 2}).text)
    assert "第 2 / 3 页" in second and "张三" in second and "张一" not in second


@pytest.mark.parametrize(("query", "message"), [
    ({"from": "2026-11-31", "to": "2026-12-01"}, "无法识别日期"),
    ({"from": "2026-12-01", "to": "2026-11-01"}, "晚于结束日期"),
    ({"from": "2026-11-01", "to": "2026-11-30", "unit": "NOPE"}, "找不到单位代码"),
    ({"from": "2000-01-01", "to": "2026-11-30"}, "最长 5 年"),
])
def test_bad_filters_answer_in_chinese_not_500(client, factory, att, query, message):
    login(client, factory, att.organizer)
    response = client.get("/admin/attendance", query_string=query)
    assert response.status_code == 400 and message in response.text
    export = client.get("/admin/attendance/export", query_string={**query, "format": "xlsx"})
    assert export.status_code == 400 and message in export.text


def test_export_xlsx_at_once_equals_the_page(client, factory, att, db):
    login(client, factory, att.organizer)
    response = client.get("/admin/attendance/export", query_string={**QUERY, "format": "xlsx", "sort": "absent",
                                                                    "dir": "desc"})
    assert response.status_code == 200
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(response.data))
    rows = [list(r) for r in wb["按人员"].iter_rows(min_row=ex.HEADER_ROW + 1, values_only=True) if isinstance(r[0], int)]
    assert [r[1] for r in rows][:3] == ["张一", "李一", "李二"] and len(rows) == 5
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "attendance.export"))
    assert entry.actor == f"contact:{att.organizer.id}"
    bad = client.get("/admin/attendance/export", query_string={**QUERY, "format": "docx"})
    assert bad.status_code == 400 and "xlsx 或 pdf" in bad.text


def test_export_pdf_at_once(client, factory, att):
    login(client, factory, att.organizer)
    response = client.get("/admin/attendance/export", query_string={**QUERY, "format": "pdf"})
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.mimetype == "application/pdf"


def test_a_large_export_runs_as_a_job(client, factory, att, db, monkeypatch):
    monkeypatch.setitem(ex.INLINE_MAX_PEOPLE, "xlsx", 2)
    login(client, factory, att.organizer)
    response = client.get("/admin/attendance/export", query_string={**QUERY, "format": "xlsx"})
    assert response.status_code == 302 and "job=" in response.location
    job = db.session.scalar(select(Job).where(Job.kind == "attendance_export"))
    assert job.actor == f"contact:{att.organizer.id}" and job.state == "queued"
    page = client.get(response.location)
    assert page.status_code == 200 and 'id="export-job"' in page.text
    # The job, run here, writes the same file the page would have answered.
    result = ex.export_job(*job.args)
    assert result["filename"].endswith(".xlsx") and len(result["sha"]) == 64
