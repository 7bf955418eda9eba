"""催签: one delivery per missing person, sent by a job on the RQ queue, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app import jobs
from app.services.live import reminders
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from app.wechat import WeChatUnavailable
from app.wechat import templates as wechat_templates
from models import Reminder, ReminderDelivery
from tests.live.conftest import login, templates


def test_remind_from_console_sends_once_per_person(app, db, client, live, wired, sim):
    session = get_session(live.meeting)
    sign_in(live.meeting, session, live.people[0], method="scan", check_window=False)
    db.session.commit()
    identity_id = _organizer_identity(db, live)
    login(client, identity_id)
    res = client.post(f"/admin/{live.meeting.code}/remind")
    assert res.status_code == 200 and res.get_json()["recipients"] == 5  # 6 expected, 1 arrived

    assert jobs.run_pending(app) is True
    assert jobs.run_pending(app) is False  # nothing left in the queue
    reminder = db.session.scalar(select(Reminder))
    # Running the send again (a retried job) finds nothing pending and sends nothing.
    reminders.send_reminder(reminder.id)
    db.session.commit()
    counts = reminders.summary(reminder.id)
    assert counts == {"pending": 0, "sent": 3, "delivered": 0, "failed": 0, "skipped": 2}
    for person in live.people[1:-2]:
        inbox = templates(sim, wired[person.id])
        assert len(inbox) == 1
        assert inbox[0]["shown"]["thing1"] == "全区经济工作会议"  # what the phone displays
        assert inbox[0]["url"].endswith(f"/m/{live.meeting.code}")
    assert templates(sim, wired[live.people[0].id]) == []  # already signed in: not reminded
    listed = client.get(f"/admin/{live.meeting.code}/reminders.json").get_json()["reminders"]
    assert listed[0]["sent"] == 3 and listed[0]["skipped"] == 2 and listed[0]["status"] == "done"
    # An immediate second tap is refused rather than messaging everyone again.
    again = client.post(f"/admin/{live.meeting.code}/remind", headers={"Accept": "application/json"})
    assert again.status_code == 429 and again.get_json()["error"]["code"] == "too_soon"


def test_failing_openid_is_recorded(app, db, live, wired, sim):
    bad = live.people[2]
    sim.state.fail_template_for(wired[bad.id], 43004)
    session = get_session(live.meeting)
    reminder = reminders.create_reminder(live.meeting, session, actor=live.organizer)
    db.session.commit()
    jobs.run_pending(app)
    delivery = db.session.scalar(select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id,
                                                                ReminderDelivery.contact_id == bad.id))
    assert (delivery.status, delivery.errcode, delivery.attempts) == ("failed", 43004, 1)
    assert reminders.summary(reminder.id) == {"pending": 0, "sent": 3, "delivered": 0, "failed": 1, "skipped": 2}


def test_transient_errors_are_retried(app, db, live, wired, sim, monkeypatch):
    monkeypatch.setattr(reminders, "RETRY_PAUSE_S", 0)
    from app.wechat import oa_api

    api = oa_api()
    real = api.send_template
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise WeChatUnavailable(-1, "system busy")
        return real(*args, **kwargs)

    monkeypatch.setattr(api, "send_template", flaky)
    session = get_session(live.meeting)
    reminder = reminders.create_reminder(live.meeting, session, actor=live.organizer)
    db.session.commit()
    jobs.run_pending(app)
    first = db.session.scalar(select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id,
                                                             ReminderDelivery.status == "sent")
                              .order_by(ReminderDelivery.id))
    assert first.attempts == 3
    assert reminders.summary(reminder.id)["sent"] == 4


def test_nobody_missing(db, live):
    session = get_session(live.meeting)
    for p in live.people:
        sign_in(live.meeting, session, p, method="scan", check_window=False)
    with pytest.raises(reminders.ReminderError) as err:
        reminders.create_reminder(live.meeting, session, actor=live.organizer)
    assert err.value.code == "nobody_missing"


def test_job_rolls_back_nothing_when_not_committed(app, db, live):
    """A reminder whose transaction rolls back queues no job."""
    session = get_session(live.meeting)
    reminders.create_reminder(live.meeting, session, actor=live.organizer)
    db.session.rollback()
    assert jobs.queue(app).count == 0


def _organizer_identity(db, live):
    from models import WechatIdentity

    return db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.oa_openid == live.organizer_openid))


def test_the_reminder_fills_only_fields_wechat_shows_today(app, db, live, wired, sim):
    """Since 2023 WeChat drops ``first`` and ``remark`` and shows category keywords within their
    type's limits (app.wechat.templates, research notes §7): the phone shows all that was sent."""
    reminders.create_reminder(live.meeting, get_session(live.meeting), actor=live.organizer)
    db.session.commit()
    jobs.run_pending(app)
    message = templates(sim, wired[live.people[0].id])[0]
    sent = {field: item["value"] for field, item in message["data"].items()}
    assert wechat_templates.problems(sent) == []
    assert message["shown"] == sent  # nothing dropped, nothing cut
    assert set(sent) == {"thing1", "time2", "thing3", "thing4"}


def test_the_reminder_says_the_date_and_never_about_to_start_after_the_start(live):
    meeting = live.meeting
    session = get_session(meeting)
    session.starts_at = datetime(2026, 12, 3, 1, 30, tzinfo=UTC)  # 09:30 in Beijing
    before = reminders._template_data(meeting, session, session.starts_at - timedelta(minutes=20))
    assert before["time2"] == "2026年12月3日 09:30"
    assert before["thing4"] == "会议将于09:30开始，请到场签到"
    after = reminders._template_data(meeting, session, session.starts_at + timedelta(minutes=5))
    assert after["thing4"] == "会议已开始，请尽快到场签到" and "即将" not in "".join(after.values())
    meeting.title = "中国共产党某某省某某市第十五次代表大会第三次全体会议"  # 27 characters
    cut = reminders._template_data(meeting, session, session.starts_at)
    assert cut["thing1"] == meeting.title[:19] + "…" and wechat_templates.problems(cut) == []


def test_the_check_refuses_what_wechat_would_not_show():
    legacy = {"first": "张三，您好！会议即将开始", "keyword1": "全区经济工作会议", "keyword2": "09:30",
              "remark": "请尽快到场"}
    assert len(wechat_templates.problems(legacy)) == 4
    assert wechat_templates.problems({"time2": "09:30", "thing1": "会" * 21}) == [
        "thing1: 21 characters, WeChat shows 20"]
    assert wechat_templates.problems({"time2": "12月3日"})  # a date without a time is not a time
