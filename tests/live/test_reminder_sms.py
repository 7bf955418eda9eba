"""催签 by SMS where WeChat cannot reach the person, when the meeting sends SMS (its setting)."""

from __future__ import annotations

from sqlalchemy import select

from app import jobs
from app.services.live import reminders
from app.services.notify import deliveries
from app.services.signin.rules import get_session
from models import ReminderDelivery


def _remind(app, db, live):
    reminder = reminders.create_reminder(live.meeting, get_session(live.meeting), actor=live.organizer)
    db.session.commit()
    jobs.run_pending(app)
    return {d.contact_id: d for d in db.session.scalars(
        select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id))}, reminder


def test_those_wechat_cannot_reach_get_an_sms_once(app, db, live, wired, sim, sms_sim):
    live.meeting.sms_fallback = True
    refused = live.people[1]
    sim.state.fail_template_for(wired[refused.id], 43004)  # unfollowed since binding
    db.session.commit()
    rows, reminder = _remind(app, db, live)
    for person in live.people[-2:]:  # never bound a WeChat
        assert (rows[person.id].channel, rows[person.id].status) == ("sms", "sent")
        [text] = sms_sim.state.inbox(person.phone)
        assert text.text.startswith("【会易】会议提醒：全区经济工作会议，") and "即将" not in text.text
    assert (rows[refused.id].channel, rows[refused.id].status) == ("sms", "sent")
    assert rows[refused.id].error.startswith("微信：")
    assert sms_sim.state.inbox(live.people[0].phone) == []  # reached on WeChat
    # The job again (a retry) texts nobody twice.
    reminders.send_reminder(reminder.id)
    db.session.commit()
    assert all(len(sms_sim.state.inbox(p.phone)) <= 1 for p in live.people)
    # The provider's receipts mark them delivered.
    sms_sim.push_receipts()
    db.session.commit()
    db.session.expire_all()
    assert {d.status for d in db.session.scalars(select(ReminderDelivery).where(ReminderDelivery.channel == "sms"))} \
        == {"delivered"}
    listed = reminders.recent_reminders(get_session(live.meeting))[0]
    assert "改发短信 3" in listed["text"]


def test_without_the_meetings_consent_no_sms_is_sent(app, db, live, wired, sim, sms_sim):
    rows, _ = _remind(app, db, live)
    assert {rows[p.id].status for p in live.people[-2:]} == {"skipped"}
    assert all(sms_sim.state.inbox(p.phone) == [] for p in live.people)


def test_an_sms_claimed_by_a_dead_run_is_not_sent_again(app, db, live, wired, sim, sms_sim):
    live.meeting.sms_fallback = True
    reminders.create_reminder(live.meeting, get_session(live.meeting), actor=live.organizer)
    db.session.commit()
    stuck = db.session.scalar(select(ReminderDelivery).where(ReminderDelivery.contact_id == live.people[-1].id))
    stuck.status, stuck.channel = "sending", "sms"  # the run died between the claim and the send
    db.session.commit()
    jobs.run_pending(app)
    db.session.refresh(stuck)
    assert stuck.status == "failed" and "未再发送" in stuck.error
    assert sms_sim.state.inbox(live.people[-1].phone) == []
    assert deliveries.apply_sms_receipts([]) == 0
