"""请假 from the attendee's side to the organizer's approval, in real Chromium with CSRF on: the
organizer writes and sends a notice at the office PC; the person opens the link WeChat delivered on
their phone, asks for leave; the organizer approves; the person sees it and has left 应到.
Screenshots: test-artifacts/notice-*.png."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.services.live.headcount import people_of
from models import Leave, NoticeRecipient
from tests.browser import ARTIFACTS, DESKTOP, PHONE, WECHAT_UA, fits_width
from tests.notices.conftest import build, inbox


def _console(browser, app, live_server, identity_id: int):
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context, context.new_page()


@pytest.mark.browser
def test_leave_asked_on_the_phone_is_approved_at_the_console(app, live_server, browser, committed_db, wechat,
                                                             job_worker):
    from tests.factories import Factory

    sim, _sim_base = wechat
    nm = build(Factory(committed_db), sim, size=6, following=6, code="LEAVE1")
    console, page = _console(browser, app, live_server, nm.organizer_identity)
    page.goto(f"{live_server}/admin/{nm.meeting.code}/notices")
    page.click("text=写通知")
    page.click("text=按单位")  # the audience can be picked by unit, role, 代表团 or person
    page.screenshot(path=str(ARTIFACTS / "notice-compose-1366.png"), full_page=True)
    body = page.input_value("textarea[name=body]")
    page.fill("textarea[name=body]", body.replace("（如：本人身份证件、会议材料、笔记本）", "本人身份证件"))
    page.click("form.notice-form button[type=submit]")
    assert "按当前选择将发给 6 人" in page.inner_text("main")
    page.click("text=发送通知")
    assert "已提交发送，共 6 人" in page.inner_text(".flash")

    person = nm.people[2]
    openid = nm.openids[person.id]
    deadline = time.monotonic() + 20
    while not inbox(sim, openid) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    link = inbox(sim, openid)[0]["url"]
    assert link.startswith(f"{live_server}/n/")

    phone = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                user_agent=WECHAT_UA, locale="zh-CN")
    mobile = phone.new_page()
    mobile.goto(link)
    assert "请携带：本人身份证件" in mobile.inner_text("article")
    assert fits_width(mobile)
    mobile.screenshot(path=str(ARTIFACTS / "notice-person-390.png"), full_page=True)
    mobile.click("summary")
    mobile.fill("textarea[name=reason]", "参加市委党校专题培训，已向分管领导报备")
    mobile.click("text=提交请假申请")
    assert "请假申请已提交" in mobile.inner_text(".done")
    mobile.screenshot(path=str(ARTIFACTS / "notice-person-leave-390.png"), full_page=True)

    # The sending job's progress box reloads the page once the job is done: let that happen first, so
    # it cannot cut our own reload short.
    page.locator("[data-reload-on-done]").wait_for(state="detached", timeout=20000)
    page.reload()
    leaves = page.inner_text("#leaves")
    assert person.name in leaves and "参加市委党校专题培训" in leaves
    page.screenshot(path=str(ARTIFACTS / "notice-console-1366.png"), full_page=True)
    # The same page in WeChat's browser on the organizer's phone.
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: nm.organizer_identity})
    organizer_phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, user_agent=WECHAT_UA,
                                          locale="zh-CN")
    organizer_phone.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    small = organizer_phone.new_page()
    small.goto(page.url)
    assert fits_width(small), "the notice page scrolls sideways on a phone"
    small.screenshot(path=str(ARTIFACTS / "notice-console-390.png"), full_page=True)
    organizer_phone.close()
    page.click("#leaves button.primary")
    assert f"已批准 {person.name} 请假" in page.inner_text(".flash")

    committed_db.session.expire_all()
    leave = committed_db.session.scalar(select(Leave).where(Leave.contact_id == person.id))
    assert leave is not None and leave.approver == "会务张"
    assert person.id not in {row[0] for row in people_of(nm.meeting)[0]}
    mobile.reload()
    assert "会务组已批准您请假" in mobile.inner_text("#answer")
    recipient = committed_db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == person.id))
    assert recipient.leave_state == "approved" and recipient.read_at is not None
    phone.close()
    console.close()
