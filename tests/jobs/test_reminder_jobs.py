"""催签 through recorded jobs: Redis down neither fakes success nor blocks the next reminder, and
WeChat's own delivery reports (TEMPLATESENDJOBFINISH) mark each person's delivery."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import jobs
from app.services.live import reminders
from app.services.signin.rules import get_session
from app.wechat import oa_api
from models import Reminder, ReminderDelivery, WechatIdentity
from tests.jobs.test_jobs import later
from tests.live.conftest import build_meeting, login, templates


@pytest.fixture
def live(factory):
    return build_meeting(factory)


def organizer_login(client, db, live):
    login(client, db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.oa_openid == live.organizer_openid)))


def test_reminder_with_redis_down_is_not_reported_sent_and_does_not_block_the_next(
        app, db, client, live, wired, sim, redis_down):
    organizer_login(client, db, live)
    code = live.meeting.code
    with redis_down():
        first = client.post(f"/admin/{code}/remind")
        assert first.status_code == 200
        told = first.get_json()["message"]
        assert "尚未发出" in told and "队列恢复后将自动发送" in told and "正在向" not in told
        listed = client.get(f"/admin/{code}/reminders.json").get_json()["reminders"][0]
        assert listed["job_state"] == "queued" and "尚未发出" in listed["text"] and listed["sent"] == 0
    assert all(templates(sim, openid) == [] for openid in wired.values())

    # Redis is back within the minute: the reminder that never went out does not block a new one...
    second = client.post(f"/admin/{code}/remind", headers={"Accept": "application/json"})
    assert second.status_code == 200, second.get_json()
    assert "正在向 6 位未到人员发送" in second.get_json()["message"]
    # ...and is not sent on top of it when the reconciler finally hands it to a worker.
    assert jobs.reconcile(now=later())["requeued"] == 1
    assert jobs.run_pending(app) is True
    assert all(len(templates(sim, openid)) == 1 for openid in wired.values())
    old, new = db.session.scalars(select(Reminder).order_by(Reminder.id)).all()
    assert old.status == "superseded" and reminders.summary(old.id)["sent"] == 0
    assert reminders.summary(new.id)["sent"] == 4
    listed = client.get(f"/admin/{code}/reminders.json").get_json()["reminders"]
    assert listed[1]["text"] == "未发出，已由之后的催签取代"
    assert listed[0]["text"].startswith("已发出 4（微信确认送达 0），失败 0")
    # One that did go out still blocks a double tap.
    third = client.post(f"/admin/{code}/remind", headers={"Accept": "application/json"})
    assert third.status_code == 429 and third.get_json()["error"]["code"] == "too_soon"


def test_reminder_queued_while_redis_is_down_is_sent_after_reconcile(app, db, live, wired, sim, redis_down):
    session = get_session(live.meeting)
    with redis_down():
        reminder = reminders.create_reminder(live.meeting, session, actor=live.organizer)
        db.session.commit()
        assert "尚未发出" in reminders.submitted_message(reminder)
    assert jobs.run_pending(app) is False
    jobs.reconcile(now=later())
    jobs.run_pending(app)
    assert reminders.summary(reminder.id)["sent"] == 4
    assert all(len(templates(sim, openid)) == 1 for openid in wired.values())


def _sent_reminder(app, db, live) -> Reminder:
    reminder = reminders.create_reminder(live.meeting, get_session(live.meeting), actor=live.organizer)
    db.session.commit()
    jobs.run_pending(app)
    db.session.expire_all()
    return reminder


def _delivery(db, reminder, contact) -> ReminderDelivery:
    return db.session.scalar(select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id,
                                                            ReminderDelivery.contact_id == contact.id))


def test_template_send_job_finish_marks_each_persons_delivery(app, db, client, live, wired, sim):
    reminder = _sent_reminder(app, db, live)
    blocked, broken, fine = live.people[0], live.people[1], live.people[2]
    for person in (blocked, broken, fine):
        delivery = _delivery(db, reminder, person)
        assert delivery.status == "sent"
        assert delivery.msgid == templates(sim, wired[person.id])[0]["msgid"]  # WeChat's msgid is kept
    # WeChat's reports, through the signed callback, as WeChat posts them.
    for person, status in ((blocked, "failed:user block"), (broken, "failed: system failed"), (fine, "success")):
        reply = sim.phone.template_job_finish(wired[person.id], _delivery(db, reminder, person).msgid, status)
        assert reply.delivered and reply.shown is None  # nothing is said back to the phone
    db.session.expire_all()
    assert (_delivery(db, reminder, blocked).status, _delivery(db, reminder, blocked).error,
            _delivery(db, reminder, blocked).wechat_status) == ("failed", "对方已拒收公众号消息", "failed:user block")
    assert (_delivery(db, reminder, broken).status, _delivery(db, reminder, broken).error) == ("failed",
                                                                                             "微信系统原因未送达")
    assert _delivery(db, reminder, fine).status == "delivered" and _delivery(db, reminder, fine).delivered_at
    assert reminders.summary(reminder.id) == {"pending": 0, "sent": 1, "delivered": 1, "failed": 2, "skipped": 2}
    organizer_login(client, db, live)
    listed = client.get(f"/admin/{live.meeting.code}/reminders.json").get_json()["reminders"][0]
    assert listed["text"].startswith("已发出 2（微信确认送达 1），失败 2")
    assert listed["failed_people"] == [{"name": blocked.name, "reason": "对方已拒收公众号消息"},
                                       {"name": broken.name, "reason": "微信系统原因未送达"}]


def test_report_for_an_unknown_msgid_changes_nothing(app, db, live, wired, sim):
    reminder = _sent_reminder(app, db, live)
    sim.phone.template_job_finish(wired[live.people[0].id], 987654321, "failed:user block")
    sim.phone.template_job_finish(wired[live.people[0].id], "not-a-number", "failed:user block")
    db.session.expire_all()
    assert reminders.summary(reminder.id)["failed"] == 0


def test_report_arriving_before_the_send_is_committed_still_counts(app, db, live, wired, sim, monkeypatch):
    api = oa_api()
    real = api.send_template
    blocked_openid = wired[live.people[0].id]

    def send_then_report_at_once(openid, *args, **kwargs):
        msgid = real(openid, *args, **kwargs)
        if openid == blocked_openid:  # WeChat's report overtakes our commit of the send
            assert reminders.record_delivery_report(openid, str(msgid), "failed:user block") is None
        return msgid

    monkeypatch.setattr(api, "send_template", send_then_report_at_once)
    reminder = _sent_reminder(app, db, live)
    delivery = _delivery(db, reminder, live.people[0])
    assert (delivery.status, delivery.wechat_status) == ("failed", "failed:user block")
    assert db.session.scalar(select(func.count()).select_from(ReminderDelivery).where(
        ReminderDelivery.reminder_id == reminder.id, ReminderDelivery.status == "sent")) == 3


def test_reminder_that_reached_nobody_does_not_block_the_next(app, db, live, wired, sim):
    for openid in wired.values():
        sim.state.fail_template_for(openid, 43004)  # WeChat refuses every send
    session = get_session(live.meeting)
    first = _sent_reminder(app, db, live)
    assert reminders.summary(first.id)["failed"] == 4
    sim.state.template_failures.clear()
    second = reminders.create_reminder(live.meeting, session, actor=live.organizer)  # no too_soon
    db.session.commit()
    jobs.run_pending(app)
    assert reminders.summary(second.id)["sent"] == 4
    with pytest.raises(reminders.ReminderError) as refused:  # this one did go out
        reminders.create_reminder(live.meeting, session, actor=live.organizer)
    assert refused.value.code == "too_soon"
