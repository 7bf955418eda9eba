"""In real Chromium, CSRF and the Content-Security-Policy on: a unit office sees its roster's WeChat
binding and its people's attendance (never another unit's), and its upcoming meeting's list; an
organizer's 考勤统计 page sorts and offers the exports. At an office PC's width (1366 px) and a
phone's (390 px); screenshots go to test-artifacts/attendance-*.png."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width, wait_js

PASSWORD = "correct horse battery"
SPAN = "from=2026-11-01&to=2026-11-30"


@pytest.fixture
def data(committed_db):
    from app.services.contacts.units import add_unit_account
    from tests.attendance.conftest import build
    from tests.factories import Factory

    f = Factory(committed_db)
    att = build(f, committed_db)
    add_unit_account(att.fgj, "fgj_office", PASSWORD, actor="test")
    f.identity(att.people["a1"])
    f.identity(att.people["b1"])
    coming = f.meeting("COMING", title="全区安全生产工作部署会")  # open for sign-in now, starting soon
    for key in ("a1", "a2", "b2"):
        f.invitee(coming, att.people[key])
    att.extra["organizer_identity"] = f.identity(att.organizer)
    committed_db.session.commit()
    return att


@pytest.mark.browser
@pytest.mark.parametrize("size", ["1366", "390"])
def test_unit_office_sees_binding_and_attendance(app, live_server, browser, data, size):
    viewport = DESKTOP if size == "1366" else PHONE
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    page.goto(f"{live_server}/units/people")
    page.wait_for_url("**/units/login**")
    page.fill("#username", "fgj_office")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url("**/units/people")

    # The roster with who has bound WeChat.
    assert page.inner_text("#roster-total") == "3" and page.inner_text("#roster-unbound") == "2"
    rows = {r.locator("td").first.inner_text(): r.locator("td.binding").inner_text()
            for r in page.locator("#roster tbody tr").all()}
    assert set(rows) == {"张一", "张二", "张三"} and rows["张一"].startswith("已绑定") and rows["张二"] == "未绑定"
    assert "李一" not in page.inner_text("main")
    assert fits_width(page), f"roster scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"attendance-units-people-{size}.png"), full_page=True)
    page.select_option("select[name=show]", "unbound")
    page.click("form.filters button")
    wait_js(page, "location.search.includes('show=unbound')")
    assert [t for t in page.locator("#roster tbody tr td:first-child").all_inner_texts()] == ["张二", "张三"]

    # Its people's attendance across meetings.
    page.click("nav.unit-tabs >> text=考勤统计")
    page.wait_for_url("**/units/attendance")
    page.fill("input[name=from]", "2026-11-01")
    page.fill("input[name=to]", "2026-11-30")
    page.click("form.filters button")
    wait_js(page, "location.search.includes('from=2026-11-01')")
    table = page.locator("table.att-table")
    names = table.locator("tbody td.name").all_inner_texts()
    assert names == ["张一", "张二", "张三"]
    first = table.locator("tbody tr").first.locator("td").all_inner_texts()
    # 张一 over MT1, MT2, MT3, MT5 (over by now: nobody came) and MT6: 应邀 5, 出席 3, 迟到 1, 缺席 2, 60.0%.
    assert first[1] == "张一" and first[3:9] == ["5", "5", "3", "1", "0", "2"] and first[9].endswith("60.0%")
    assert "李一" not in page.inner_text("main") and "区财政局" not in page.inner_text("main")
    # Sorting by the rate, worst first, by its header's link.
    table.locator("th a", has_text="出勤率").click()
    wait_js(page, "location.search.includes('sort=rate')")
    assert page.locator("table.att-table tbody td.name").all_inner_texts() == ["张一", "张二", "张三"]  # 60, 66.7, —
    assert fits_width(page), f"attendance scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"attendance-units-attendance-{size}.png"), full_page=True)

    # The upcoming meeting its people are invited to: who is bound.
    page.click("nav.unit-tabs >> text=近期会议")
    page.wait_for_url("**/units/meetings")
    assert "全区安全生产工作部署会" in page.inner_text("#upcoming")
    page.click("#upcoming >> text=查看名单")
    page.wait_for_url("**/units/meetings/COMING")
    assert page.inner_text("#m-invited") == "2" and page.inner_text("#m-bound") == "1"
    assert "李二" not in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / f"attendance-units-meeting-{size}.png"), full_page=True)
    assert not errors, errors
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", ["1366", "390"])
def test_console_attendance_page(app, live_server, browser, data, size):
    from app.web.auth import SESSION_KEY

    viewport = DESKTOP if size == "1366" else PHONE
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {SESSION_KEY: data.extra["organizer_identity"].id})
    context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport is PHONE,
                                  has_touch=viewport is PHONE)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/admin")
    page.click("header >> text=考勤统计")
    page.wait_for_url("**/admin/attendance**")
    page.goto(f"{live_server}/admin/attendance?{SPAN}")
    assert page.inner_text("#att-meetings") == "4"  # MT1-MT3 and MT5: this organizer's, held and over
    assert page.locator("table.att-table tbody tr").count() == 5
    page.click(".att-views >> text=按单位")
    wait_js(page, "location.search.includes('view=units')")
    assert page.locator("table.att-table tbody td.name").all_inner_texts() == ["区财政局", "区发展和改革局"]
    assert fits_width(page), f"console attendance scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"attendance-console-{size}.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=导出 Excel")
    assert download.value.suggested_filename.startswith("考勤统计-2026-11-01至2026-11-30")
    context.close()


@pytest.mark.browser
def test_a_large_export_shows_progress_then_downloads(app, live_server, browser, data, monkeypatch):
    """Past the inline limit the export runs as a job: the page shows its bar (the shared script,
    under the CSP) and then offers the file."""
    from app import jobs
    from app.services.attendance import export as ex
    from app.web.auth import SESSION_KEY

    monkeypatch.setitem(ex.INLINE_MAX_PEOPLE, "xlsx", 2)
    cookie = app.session_interface.get_signing_serializer(app).dumps(
        {SESSION_KEY: data.extra["organizer_identity"].id})
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", accept_downloads=True)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/admin/attendance?{SPAN}")
    page.click("text=导出 Excel")
    page.wait_for_url("**/admin/attendance?*job=*")
    assert page.locator("#export-job .job-progress").count() == 1
    assert jobs.run_pending(app)  # a worker takes the job
    wait_js(page, "!document.querySelector('#export-job .job-progress-download').hidden", timeout=15000)
    page.screenshot(path=str(ARTIFACTS / "attendance-console-job-1366.png"), full_page=True)
    with page.expect_download() as download:
        page.click("#export-job .job-progress-download")
    assert download.value.suggested_filename.startswith("考勤统计-2026-11-01至2026-11-30")
    context.close()
