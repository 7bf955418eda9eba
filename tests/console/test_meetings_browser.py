"""The meeting pages in real Chromium with CSRF on, at a phone's width (390 px) and an office PC's
(1366 px): the list, creating a meeting, its settings and publishing it, sessions and the agenda
editor's JavaScript. Screenshots go to test-artifacts/console-meetings-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.meetings.meetings import get_meeting
from app.services.meetings.sessions import add_session, set_agenda
from models import MeetingState
from tests.browser import ARTIFACTS
from tests.console.conftest import build_console
from tests.console.test_invitees_browser import DESKTOP, PHONE, fits_width, logged_in


@pytest.fixture
def data(committed_db):
    from tests.factories import Factory, clock

    f = Factory(committed_db)
    console = build_console(f)
    meeting = console.meeting
    meeting.venue = "区委一号会议室"
    add_session(meeting, actor="test", title="下午分组审议", starts_at=meeting.starts_at + timedelta(hours=4),
                ends_at=meeting.starts_at + timedelta(hours=6))
    set_agenda(meeting, [{"time": "09:00", "title": "传达上级会议精神", "speaker": "王书记", "place": ""},
                         {"time": "09:40", "title": "审议年度工作报告", "speaker": "李区长", "place": "主会场"}],
               actor="test")
    upcoming = f.meeting("NEXT1", title="全区安全生产工作部署会", starts_at=clock() + timedelta(days=3), publish=False)
    upcoming.unit_id = console.unit.id
    past = f.meeting("PAST1", title="三季度经济形势分析会", starts_at=clock() - timedelta(days=20))
    past.unit_id = console.unit.id
    past.state = MeetingState.CLOSED
    committed_db.session.commit()
    return console


@pytest.mark.browser
@pytest.mark.parametrize("size", ["390", "1366"])
def test_meeting_pages_read_well_and_work(app, live_server, browser, data, committed_db, size):
    viewport = PHONE if size == "390" else DESKTOP
    context, page = logged_in(browser, app, data, "owner", viewport, live_server)
    page.on("dialog", lambda dialog: dialog.accept())

    page.goto(f"{live_server}/admin")
    text = page.inner_text("main")
    assert "区委常委扩大会议" in text and "全区安全生产工作部署会" in text and "三季度经济形势分析会" in text
    assert page.locator(".mtg-actions a", has_text="复制").count() == 1  # on the past meeting only
    assert fits_width(page), f"meeting list scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-list-{size}.png"), full_page=True)

    page.click("text=新建会议")
    page.fill("input[name=title]", "全区优化营商环境推进会")
    page.fill("input[name=starts_date]", "2027-03-02")
    page.fill("input[name=starts_time]", "14:30")
    page.fill("input[name=ends_time]", "16:30")
    page.fill("input[name=venue]", "区政务服务中心四楼")
    assert fits_width(page), f"new-meeting form scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-new-{size}.png"), full_page=True)
    page.click("button[type=submit].primary")
    assert "已创建会议（草稿）" in page.inner_text(".flash")
    code = page.url.rstrip("/").split("/")[-2]
    assert fits_width(page), f"settings page scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-settings-{size}.png"), full_page=True)

    page.check("input[name=presence][value=scan]")
    page.click("button:has-text('保存设置')")
    assert "已同时开启大屏动态二维码" in page.inner_text(".flash")
    page.click("button:has-text('发布会议')")
    assert "会议已发布" in page.inner_text(".flash")
    committed_db.session.expire_all()
    created = get_meeting(code)
    assert created.state == "published" and created.rotating_qr and created.unit_id == data.unit.id

    page.goto(f"{live_server}/admin/{data.meeting.code}/sessions")
    assert "第 2 场 · 下午分组审议" in page.inner_text(".sessions-list")
    assert fits_width(page), f"sessions page scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-sessions-{size}.png"), full_page=True)
    # The agenda editor: add a row, fill it, move it to the top, drop the second stored one, save.
    rows = page.locator("#agenda-rows .agenda-row")
    before = rows.count()
    page.click("#agenda-add")
    assert rows.count() == before + 1
    last = rows.nth(before)
    last.locator("input[name=time]").fill("0830")
    last.locator("input[name=title]").fill("签到入场")
    for _ in range(before):
        rows.nth(before - _).locator("button[data-move='-1']").click()
    rows.nth(2).locator("button[data-remove]").click()
    page.click("button:has-text('保存议程')")
    assert "议程已保存（2 项）" in page.inner_text(".flash")
    committed_db.session.expire_all()
    assert [a["title"] for a in get_meeting(data.meeting.code).agenda] == ["签到入场", "传达上级会议精神"]
    assert get_meeting(data.meeting.code).agenda[0]["time"] == "08:30"
    if size == "390":
        page.locator("details.more summary").first.click()
        page.screenshot(path=str(ARTIFACTS / "console-meetings-session-edit-390.png"), full_page=True)
    page.goto(f"{live_server}/admin/PAST1/copy")
    assert fits_width(page), f"copy form scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-copy-{size}.png"), full_page=True)
    context.close()

    # The viewer reads the settings; someone with no meeting gets a helpful empty list.
    context, page = logged_in(browser, app, data, "viewer", viewport, live_server)
    page.goto(f"{live_server}/admin/{data.meeting.code}/settings")
    assert page.locator("fieldset.plain[disabled]").count() == 1 and "只能查看设置" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-settings-viewer-{size}.png"), full_page=True)
    context.close()
    context, page = logged_in(browser, app, data, "stranger", viewport, live_server)
    page.goto(f"{live_server}/admin")
    assert "您目前没有可以管理的会议" in page.inner_text("main")
    page.screenshot(path=str(ARTIFACTS / f"console-meetings-empty-{size}.png"), full_page=True)
    context.close()
