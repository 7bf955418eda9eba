"""The error pages in Chromium, under the real Content-Security-Policy, on a phone and an office PC:
they fit the screen, 返回上一页 goes back (its script runs under the nonce), and with no page to go back
to it is a plain link to the door's home. Screenshots go to test-artifacts/."""

from __future__ import annotations

import pytest
from werkzeug.exceptions import abort

from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width
from tests.console.conftest import build_console


@pytest.fixture
def meeting_code(committed_db):
    from tests.factories import Factory

    return build_console(Factory(committed_db), "ERRB1").meeting.code


def _aborting(status: int):
    def view(**_kwargs):
        abort(status)
    return view


@pytest.mark.browser
def test_error_pages_on_a_phone_and_a_pc(app, browser, live_server, meeting_code, monkeypatch):
    monkeypatch.setitem(app.view_functions, "console_meetings.settings", _aborting(401))
    monkeypatch.setitem(app.view_functions, "units_office.history", _aborting(413))
    pages = {  # name: (path, status, heading, the main button)
        "attendee-404": ("/m/NOSUCH/nothing", 404, "找不到该页面", "我的会议"),
        "console-401": (f"/admin/{meeting_code}/settings", 401, "需要登录", "扫码登录"),
        "units-413": ("/units/history", 413, "上传的内容太大", "通讯录管理首页"),
        "screen-403": (f"/screen/{meeting_code}?k=stale", 403, "没有访问权限", "打开会务后台"),
    }
    for size_name, viewport in (("390x844", PHONE), ("1366x768", DESKTOP)):
        context = browser.new_context(viewport=viewport, locale="zh-CN")
        page = context.new_page()
        violations = []
        page.on("console", lambda msg, v=violations: v.append(msg.text) if "Content Security Policy" in msg.text else None)
        for name, (path, status, heading, button) in pages.items():
            response = page.goto(live_server + path)
            assert response.status == status, name
            assert page.inner_text("h1") == heading
            assert page.inner_text(".actions a.primary") == button
            assert page.is_visible("text=返回上一页")
            assert fits_width(page), f"{name} scrolls sideways at {size_name}"
            page.screenshot(path=str(ARTIFACTS / f"error-{name}-{size_name}.png"), full_page=True)
        assert violations == []
        context.close()


@pytest.mark.browser
def test_back_goes_back_and_without_history_goes_home(browser, live_server, committed_db):
    context = browser.new_context(viewport=PHONE, locale="zh-CN")
    page = context.new_page()
    page.goto(live_server + "/units/login")
    page.goto(live_server + "/units/no-such-page")
    assert page.inner_text("h1") == "找不到该页面"
    page.click("text=返回上一页")
    page.wait_for_url(live_server + "/units/login")

    # Opened straight on the error page (a link in a message): nothing to go back to. The new tab's
    # about:blank is replaced, not left behind in its history, as a real browser's first page is.
    fresh = context.new_page()
    with fresh.expect_navigation():
        fresh.evaluate("url => window.location.replace(url)", live_server + "/units/no-such-page")
    assert fresh.evaluate("window.history.length") == 1 and fresh.inner_text("h1") == "找不到该页面"
    fresh.click("text=返回上一页")
    fresh.wait_for_url(live_server + "/units/login?next=/units/")  # the office's home, which asks for a login
    context.close()
