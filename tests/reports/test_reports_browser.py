"""In real Chromium, CSRF and the Content-Security-Policy on: an organizer opens the meeting's 报表
page, sees its charts (Chart.js from our own origin) carry the reports' numbers, downloads the 签到表
(xlsx, and as a PDF through a background job with the shared progress bar) and the one-page summary,
and the files read back right. Screenshots go to test-artifacts/reports-*.png."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.reports import export as ex
from tests.browser import ARTIFACTS, DESKTOP, PHONE, WECHAT_UA, fits_width, wait_js
from tests.reports.conftest import TITLE
from tests.reports.helpers import pdf_pages, xlsx_sheets


@pytest.fixture
def data(committed_db):
    from tests.factories import Factory
    from tests.reports.conftest import add_outcomes, build_scene

    f = Factory(committed_db)
    return add_outcomes(f, build_scene(f))


def _context(browser, app, live_server, scene, who="owner", phone=False):
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: scene.logins[who]})
    extra = {"user_agent": WECHAT_UA, "is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="zh-CN", accept_downloads=True,
                                  **extra)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context


@pytest.mark.browser
def test_organizer_downloads_the_sheet_and_the_summary(app, live_server, job_worker, browser, data, tmp_path,
                                                       monkeypatch):
    context = _context(browser, app, live_server, data)
    page = context.new_page()
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    page.on("console", lambda m: failures.append(f"{m.text} {m.location}")
            if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)

    page.goto(f"{live_server}/admin/{data.meeting.code}")
    page.click("nav.meetingbar a:has-text('报表')")
    page.wait_for_url(f"**/admin/{data.meeting.code}/reports")
    wait_js(page, "document.documentElement.getAttribute('data-charts-ready') === '4'")
    charts = page.evaluate("""() => Object.fromEntries(Object.entries(window.huiyiReportCharts).map(
        ([k, c]) => [k, {labels: c.data.labels, data: c.data.datasets[0].data}]))""")
    # The charts carry the reports' numbers.
    assert charts["units"] == {"labels": ["区发展和改革局", "区财政局", "临时人员"], "data": [100, 50, 100]}
    assert charts["arrivals"]["data"][-1] == 5
    assert charts["vote0"] == {"labels": ["赞成", "反对", "弃权"], "data": [3, 1, 0]}
    page.screenshot(path=str(ARTIFACTS / "reports-console-page.png"), full_page=True)

    row = page.locator("tr[data-report=signin_sheet]")
    with page.expect_download() as info:
        row.locator("a:has-text('Excel')").click()
    download = info.value
    assert download.suggested_filename.startswith(f"{TITLE}-签到表-") and download.suggested_filename.endswith(".xlsx")
    saved = Path(tmp_path / "sheet.xlsx")
    download.save_as(saved)
    names = [r[2] for r in xlsx_sheets(saved.read_bytes())["签到表"]["rows"]]
    assert names == ["张发一", "李发二", "王发三", "赵财一", "钱财二", "孙财三", "周财四", "刘来宾"]

    with page.expect_download() as info:
        page.locator("tr[data-report=summary] a:has-text('PDF')").click()
    summary = tmp_path / "summary.pdf"
    info.value.save_as(summary)
    assert info.value.suggested_filename.startswith(f"{TITLE}-会议签到情况汇总-")
    pages = pdf_pages(summary.read_bytes())
    assert len(pages) == 1 and "应到" in pages[0] and "71.4%" in pages[0] and "通过" in pages[0]

    # A large meeting's export runs as a job: the page shows its progress, then offers the file.
    monkeypatch.setattr(ex, "INLINE_MAX_PEOPLE", 3)
    row.locator("a:has-text('PDF')").click()
    page.wait_for_url("**/reports?job=*")
    link = page.locator("#export-job .job-progress-download")
    link.wait_for(state="visible", timeout=30000)
    with page.expect_download() as info:
        link.click()
    sheet_pdf = tmp_path / "sheet.pdf"
    info.value.save_as(sheet_pdf)
    assert info.value.suggested_filename.endswith(".pdf") and "签到表" in info.value.suggested_filename
    assert "张发一" in "".join(pdf_pages(sheet_pdf.read_bytes()))
    page.screenshot(path=str(ARTIFACTS / "reports-console-job.png"), full_page=True)
    assert failures == []
    context.close()


@pytest.mark.browser
def test_a_viewer_sees_the_numbers_and_is_told_about_the_lists(app, live_server, browser, data):
    """On a phone, in WeChat's browser: the page fits the width."""
    context = _context(browser, app, live_server, data, who="viewer", phone=True)
    page = context.new_page()
    page.goto(f"{live_server}/admin/{data.meeting.code}/reports")
    wait_js(page, "document.documentElement.getAttribute('data-charts-ready') === '4'")
    assert page.locator("tr[data-report=summary] a:has-text('PDF')").count() == 1
    assert page.locator("tr[data-report=signin_sheet] a").count() == 0
    assert "需会务人员或负责人权限" in page.locator("tr[data-report=signin_sheet]").inner_text()
    assert fits_width(page), "the 报表 page scrolls sideways on a phone"
    page.screenshot(path=str(ARTIFACTS / "reports-console-phone-viewer.png"), full_page=True)
    context.close()
