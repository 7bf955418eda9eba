"""Scheduled reminders (issue 17): per session, at their time, once per person, never stale.

The clock is the session's own: the session is moved to a fixed local time some days ahead (so the
hour the tests run never matters), the reconciler is told the time, and the firing runs with the
process clock moved there (time_machine)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import select

from app import jobs
from app.services.live import reminders, schedules
from app.services.meetings.organizers import add_organizer
from app.services.meetings.sessions import update_session
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from app.services.timeutil import LOCAL_TZ, local
from app.wechat import templates as wechat_templates
from models import AuditLog, Job, OrganizerRight, Reminder, ReminderDelivery
from tests.live.conftest import login, templates


def move_to(live, days: int, at: time = time(9, 30)):
    """The meeting's session starts ``days`` from today (China time) at ``at`` and lasts 3 hours."""
    day = datetime.now(LOCAL_TZ).date() + timedelta(days=days)
    starts = datetime.combine(day, at, tzinfo=LOCAL_TZ).astimezone(UTC)
    session = get_session(live.meeting)
    # A start in the past: the sign-in window follows it (the same lead and tail).
    update_session(live.meeting, session.position, actor="test", starts_at=starts, ends_at=starts + timedelta(hours=3))
    return session


def fire_at(app, when: datetime) -> dict:
    """The reconciler's round at ``when``, and the worker running what it handed over, then."""
    with time_machine.travel(when + timedelta(seconds=30), tick=True):
        counts = jobs.reconcile(now=when + timedelta(seconds=30))
        jobs.run_pending(app)
    return counts


def test_each_schedule_fires_once_per_person_at_its_time_even_after_a_redis_flush(
        app, db, live, wired, sim, redis_client):
    session = move_to(live, 3)
    rows = schedules.set_schedule(live.meeting, session, list(schedules.KINDS), actor=live.organizer)
    db.session.commit()
    day_before, hour_before, at_start = (rows[k].scheduled_for for k in schedules.KINDS)
    assert local(day_before) == datetime.combine(local(session.starts_at).date() - timedelta(days=1), time(18, 0),
                                                 tzinfo=LOCAL_TZ)
    assert hour_before == session.starts_at - timedelta(hours=1) and at_start == session.starts_at
    assert jobs.run_pending(app) is False  # recorded, not handed to RQ
    # Before the time: nothing handed over, nothing sent.
    assert jobs.reconcile(now=day_before - timedelta(minutes=1))["requeued"] == 0
    assert jobs.run_pending(app) is False
    redis_client.flushdb()  # Redis loses everything between scheduling and firing

    assert fire_at(app, day_before)["requeued"] == 1
    for openid in wired.values():
        [message] = templates(sim, openid)
        shown = message["shown"]
        assert shown["thing4"] == "会议将于明天09:30开始，请准时参加"
        starts = local(session.starts_at)
        assert shown["time2"] == f"{starts.year}年{starts.month}月{starts.day}日 09:30"
        assert wechat_templates.problems({f: v["value"] for f, v in message["data"].items()}) == []
    reminder = db.session.get(Reminder, rows["day_before"].id)
    db.session.refresh(reminder)
    assert reminder.status == "done"
    assert reminders.summary(reminder.id) == {"pending": 0, "sent": 4, "delivered": 0, "failed": 0, "skipped": 2}

    # Again: the reconciler, a retried job, the function itself: nobody gets a second message.
    assert fire_at(app, day_before + timedelta(minutes=1))["requeued"] == 0
    job = db.session.scalar(select(Job).where(Job.kind == "reminder", Job.args == [reminder.id]))
    db.session.execute(Job.__table__.update().where(Job.id == job.id).values(state="queued"))
    db.session.commit()
    fire_at(app, day_before + timedelta(minutes=2))
    with time_machine.travel(day_before + timedelta(minutes=3), tick=True):
        schedules.fire(reminder.id)
    db.session.commit()
    assert all(len(templates(sim, openid)) == 1 for openid in wired.values())

    # An hour before: everyone expected again (another reminder), same day now.
    fire_at(app, hour_before)
    for openid in wired.values():
        assert templates(sim, openid)[-1]["shown"]["thing4"] == "会议将于09:30开始，请准时到场"
        assert len(templates(sim, openid)) == 2


def test_at_start_goes_only_to_those_not_signed_in_and_never_says_about_to_start(app, db, live, wired, sim):
    session = move_to(live, 2, time(14, 0))
    rows = schedules.set_schedule(live.meeting, session, ["at_start"], actor=live.organizer)
    db.session.commit()
    arrived = live.people[0]
    sign_in(live.meeting, session, arrived, method="scan", check_window=False)
    db.session.commit()
    fire_at(app, rows["at_start"].scheduled_for)
    assert templates(sim, wired[arrived.id]) == []
    for person in live.people[1:-2]:
        [message] = templates(sim, wired[person.id])
        assert message["shown"]["thing4"] == "会议已开始，请尽快到场签到"
        assert "即将" not in "".join(message["shown"].values())
    assert db.session.scalar(select(ReminderDelivery).where(
        ReminderDelivery.reminder_id == rows["at_start"].id, ReminderDelivery.contact_id == arrived.id)) is None
    listed = {row["kind"]: row for row in schedules.schedule_rows(session)}
    assert listed["at_start"]["state"] == "已发送 3 人（跳过 2 人（已签到或未绑定微信））"


def test_a_schedule_whose_time_passed_is_skipped_with_its_reason(app, db, live, wired, sim):
    session = move_to(live, -2)
    rows = schedules.set_schedule(live.meeting, session, ["day_before"], actor=live.organizer)
    assert rows["day_before"].status == "skipped" and "设置时已过发送时间" in rows["day_before"].skip_reason
    # Set in time, but it fires two days late (the queue was down): skipped, not sent late.
    rows = schedules.set_schedule(live.meeting, session, ["hour_before", "at_start"], actor=live.organizer,
                                  now=session.starts_at - timedelta(days=3))
    db.session.commit()
    assert rows["hour_before"].status == "scheduled"
    jobs.run_pending(app)  # their time has come: pushed at the commit, run now
    db.session.expire_all()
    for kind in ("hour_before", "at_start"):
        row = db.session.get(Reminder, rows[kind].id)
        assert row.status == "skipped" and row.skip_reason.startswith("到时未能发送（迟了")
    assert all(templates(sim, openid) == [] for openid in wired.values())
    states = {row["kind"]: row["state"] for row in schedules.schedule_rows(session)}
    assert states["day_before"].startswith("已跳过：设置时已过发送时间")
    assert states["at_start"].startswith("已跳过：到时未能发送")


def test_moving_the_session_re_times_its_pending_schedules(app, db, live, wired, sim):
    session = move_to(live, 3)
    rows = schedules.set_schedule(live.meeting, session, ["hour_before"], actor=live.organizer)
    db.session.commit()
    old_at = rows["hour_before"].scheduled_for
    old_job = reminders.job_of(rows["hour_before"])
    update_session(live.meeting, session.position, actor="contact:1", starts_at=session.starts_at + timedelta(days=1),
                   ends_at=session.ends_at + timedelta(days=1))
    db.session.commit()
    db.session.expire_all()
    row = db.session.get(Reminder, rows["hour_before"].id)
    assert row.scheduled_for == old_at + timedelta(days=1) and row.status == "scheduled"
    assert (db.session.get(Job, old_job.id).state, db.session.get(Job, old_job.id).error_code) == ("failed",
                                                                                                   "cancelled")
    new_job = reminders.job_of(row)
    assert new_job.id != old_job.id and new_job.run_at == row.scheduled_for
    assert fire_at(app, old_at)["requeued"] == 0  # nothing at the old time
    assert all(templates(sim, openid) == [] for openid in wired.values())
    assert fire_at(app, row.scheduled_for)["requeued"] == 1
    assert all(len(templates(sim, openid)) == 1 for openid in wired.values())


def test_unticking_cancels_and_the_texts_say_the_day(db, live):
    session = move_to(live, 3)
    schedules.set_schedule(live.meeting, session, ["day_before", "at_start"], actor=live.organizer)
    rows = schedules.set_schedule(live.meeting, session, ["at_start"], actor=live.organizer)
    assert "day_before" not in rows or rows["day_before"].status == "cancelled"
    assert [r["ticked"] for r in schedules.schedule_rows(session)] == [False, False, True]
    with pytest.raises(schedules.ScheduleError):
        schedules.set_schedule(live.meeting, session, ["weekly"], actor=live.organizer)
    data = reminders._template_data(live.meeting, session, schedules.due_at("day_before", session), kind="day_before")
    assert data["thing4"] == "会议将于明天09:30开始，请准时参加" and "年" in data["time2"]
    late = reminders._template_data(live.meeting, session, session.starts_at - timedelta(seconds=1), kind="at_start")
    assert late["thing4"] == "会议已开始，请尽快到场签到"


def test_console_saves_and_lists_the_schedule_and_a_viewer_is_refused(app, db, client, factory, live):
    from models import WechatIdentity

    session = move_to(live, 3)
    db.session.commit()
    organizer = db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.oa_openid == live.organizer_openid))
    login(client, organizer)
    page = client.get(f"/admin/{live.meeting.code}").get_data(as_text=True)
    assert "定时提醒" in page and "前一天 18:00" in page
    res = client.post(f"/admin/{live.meeting.code}/schedule?s={session.position}",
                      data={"kinds": ["day_before", "at_start"]})
    assert res.status_code == 302
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "已保存定时提醒" in page and page.count("待发送") == 2
    day = local(schedules.due_at("day_before", session))
    assert f"{day.month}月{day.day}日 18:00" in page
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "reminder.schedule")) is not None

    viewer = factory.contact(live.units[0], name="观察员")
    add_organizer(live.meeting.code, viewer.phone, actor="test", right=OrganizerRight.VIEWER)
    identity = factory.identity(viewer, oa_openid="o_viewer")
    db.session.commit()
    login(client, identity.id)
    assert "定时提醒" not in client.get(f"/admin/{live.meeting.code}").get_data(as_text=True)
    refused = client.post(f"/admin/{live.meeting.code}/schedule", data={"kinds": ["hour_before"]})
    assert refused.status_code == 403
    with pytest.raises(Exception) as err:
        schedules.set_schedule(live.meeting, session, ["hour_before"], actor=viewer)
    assert getattr(err.value, "code", None) == "right_missing"


def test_a_meeting_no_longer_published_is_not_reminded(app, db, live, wired, sim):
    session = move_to(live, 3)
    rows = schedules.set_schedule(live.meeting, session, ["hour_before"], actor=live.organizer)
    live.meeting.state = "closed"
    db.session.commit()
    fire_at(app, rows["hour_before"].scheduled_for)
    db.session.expire_all()
    assert db.session.get(Reminder, rows["hour_before"].id).skip_reason == "会议未发布或已结束，未发送"
    assert all(templates(sim, openid) == [] for openid in wired.values())


def test_a_session_with_only_unsent_schedules_can_be_removed(app, db, live):
    from app.services.meetings.sessions import add_session, remove_session

    first = move_to(live, 3)
    second = add_session(live.meeting, actor="test", starts_at=first.starts_at + timedelta(hours=4),
                         ends_at=first.starts_at + timedelta(hours=6))
    rows = schedules.set_schedule(live.meeting, second, ["day_before", "at_start"], actor=live.organizer)
    db.session.commit()
    job_ids = [reminders.job_of(rows[k]).id for k in ("day_before", "at_start")]
    remove_session(live.meeting, second.position, actor="test")
    db.session.commit()
    db.session.expire_all()
    assert [db.session.get(Job, i).error_code for i in job_ids] == ["cancelled", "cancelled"]
    assert jobs.reconcile(now=first.starts_at + timedelta(days=1))["requeued"] == 0


def test_a_reminder_tapped_right_after_a_scheduled_one_fired_waits_its_minute(app, db, live, wired, sim):
    """The at-start reminder was written days before, but it went out just now: a 催签 tapped in the
    same minute would message the same people twice."""
    session = move_to(live, 2, time(14, 0))
    rows = schedules.set_schedule(live.meeting, session, ["at_start"], actor=live.organizer)
    db.session.commit()
    fire_at(app, rows["at_start"].scheduled_for)
    db.session.refresh(rows["at_start"])
    fired = rows["at_start"].finished_at
    assert fired is not None
    with pytest.raises(reminders.ReminderError) as refused:
        reminders.reminder_recipients(live.meeting, session, now=fired + timedelta(seconds=20))
    assert refused.value.code == "too_soon" and 35 <= refused.value.params["seconds"] <= 40
    assert reminders.reminder_recipients(live.meeting, session, now=fired + timedelta(seconds=61))
