"""The console's live page lists each reminder's true state and who did not get it (console.js)."""

from __future__ import annotations

import time

import pytest

from app import jobs
from app.services.live import reminders
from app.web.auth import SESSION_KEY
from models import Reminder, ReminderDelivery, WechatIdentity
from tests.factories import Factory
from tests.live.conftest import build_meeting


def _until(locator, wanted: str, timeout_s: float = 15) -> str:
    deadline, seen = time.monotonic() + timeout_s, ""
    while time.monotonic() < deadline:
        seen = locator.inner_text()
        if wanted in seen:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"never showed {wanted!r}; last: {seen!r}")


@pytest.mark.browser
def test_live_page_shows_reminders_true_state(app, live_server, browser, committed_db):
    db = committed_db
    live = build_meeting(Factory(db), "RMDBR")
    session = live.meeting.sessions[0]
    sent = Reminder(meeting_id=live.meeting.id, session_id=session.id, created_by_contact_id=live.organizer.id,
                    status="done", created_at=jobs.utcnow())
    db.session.add(sent)
    db.session.flush()
    db.session.add_all([
        ReminderDelivery(reminder_id=sent.id, contact_id=live.people[0].id, status="failed", attempts=1,
                         msgid=11, wechat_status="failed:user block", error=reminders.REPORT_REASONS["failed:user block"]),
        ReminderDelivery(reminder_id=sent.id, contact_id=live.people[1].id, status="delivered", attempts=1, msgid=12),
    ])
    db.session.commit()
    identity_id = db.session.query(WechatIdentity.id).filter_by(oa_openid=live.organizer_openid).scalar()
    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})
    context = browser.new_context(locale="zh-CN")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/admin/{live.meeting.code}")
    shown = _until(page.locator("#reminders"), "未送达")
    assert "已发出 1（微信确认送达 1），失败 1" in shown
    assert f"未送达：{live.people[0].name}（对方已拒收公众号消息）" in shown
    assert errors == []
    context.close()
