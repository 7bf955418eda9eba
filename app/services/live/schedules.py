"""Scheduled reminders: per session, at chosen times, sent like 催签 but by the clock.

Kinds (an organizer ticks any of them per session, :func:`set_schedule`):

- ``day_before``: the day before the session's start, at 18:00 China time, to everyone expected;
- ``hour_before``: 60 minutes before the start, to everyone expected;
- ``at_start``: at the start, to those expected and not signed in yet.

Each is a :class:`Reminder` row (``kind``, ``scheduled_for``, status ``scheduled``; one pending per
session and kind, a database fact) with a job recorded for ``scheduled_for`` (``jobs.submit(run_at=)``):
the reconciler hands it to RQ when its time has come, so the schedule lives in the database and a
Redis flush loses nothing. Recipients are decided when it fires; its deliveries are unique per
person (never twice, even if the job runs twice), and they are sent by 催签's own round
(:func:`reminders.send_pending`).

It never says "about to start" late: a schedule whose time had passed when it was set, or that
fires more than :data:`LATE_AFTER` after its time (the queue was down, the meeting moved), is
``skipped`` with the reason, not sent. Moving a session's start re-times its pending schedules
(:func:`retime`, called by ``sessions.update_session``).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.live import reminders
from app.services.meetings.organizers import require_right
from app.services.timeutil import LOCAL_TZ, local
from models import Contact, Meeting, MeetingSession, MeetingState, Reminder, ReminderDelivery

KINDS = ("day_before", "hour_before", "at_start")
LABELS = {"day_before": "前一天 18:00", "hour_before": "开始前 1 小时", "at_start": "开始时未签到者"}
DAY_BEFORE_AT = time(18, 0)
#: A schedule firing later than this after its time is skipped (a late "tomorrow" is wrong).
LATE_AFTER = timedelta(minutes=15)
SCHEDULED, SKIPPED, CANCELLED = "scheduled", "skipped", "cancelled"
#: Statuses of a schedule that sent nothing (no record of messages: a session may still be removed).
UNSENT = (SCHEDULED, SKIPPED, CANCELLED)


class ScheduleError(DomainError):
    messages = {"kind_invalid": "未知的提醒时间：{kind}"}


def due_at(kind: str, session: MeetingSession) -> datetime:
    """When a reminder of ``kind`` for ``session`` goes out (aware UTC)."""
    if kind == "day_before":
        day = local(session.starts_at).date() - timedelta(days=1)
        return datetime.combine(day, DAY_BEFORE_AT, tzinfo=LOCAL_TZ).astimezone(UTC)
    if kind == "hour_before":
        return session.starts_at - timedelta(hours=1)
    if kind == "at_start":
        return session.starts_at
    raise ScheduleError("kind_invalid", kind=kind)


def _latest(session: MeetingSession) -> dict[str, Reminder]:
    """Per kind, the newest schedule of the session that was not cancelled."""
    rows = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.kind.is_not(None),
                               Reminder.status != CANCELLED).order_by(Reminder.id)
    ).all()
    return {r.kind: r for r in rows}


def _submit(reminder: Reminder, actor: str) -> int:
    """The schedule's job, for its time (``actor``: who the job is recorded for)."""
    return jobs.submit(reminders.JOB_KIND, fire, reminder.id, actor=actor, meeting_id=reminder.meeting_id,
                       run_at=reminder.scheduled_for)


def _skip(reminder: Reminder, reason: str, now: datetime) -> None:
    reminder.status, reminder.skip_reason, reminder.finished_at = SKIPPED, reason[:200], now


def _passed(when: datetime) -> str:
    return f"设置时已过发送时间（{local(when):%m月%d日 %H:%M}），未发送"


def set_schedule(meeting: Meeting, session: MeetingSession, kinds, actor: Contact,
                 now: datetime | None = None) -> dict[str, Reminder]:
    """Make the session's scheduled reminders the ``kinds`` ticked: a new kind is scheduled (or
    skipped at once, with the reason, when its time passed more than LATE_AFTER ago); an unticked
    pending one is cancelled with its job. One already sent stays (it cannot be unsent).

    :raise OrganizerError: ``not_organizer``, ``right_missing`` (403; the right is 催签's, ``remind``);
        :raise ScheduleError: ``kind_invalid``.
    """
    require_right(meeting, actor, "remind")
    now = now or datetime.now(UTC)
    wanted = set(kinds)
    unknown = sorted(wanted - set(KINDS))
    if unknown:
        raise ScheduleError("kind_invalid", kind=str(unknown[0])[:20])
    # One organizer's save at a time per session (the pending-per-kind index would refuse the second).
    db.session.scalar(select(MeetingSession.id).where(MeetingSession.id == session.id).with_for_update())
    current = _latest(session)
    added, cancelled = [], []
    for kind in KINDS:
        row = current.get(kind)
        active = row is not None and row.status != SKIPPED
        if kind in wanted and not active:
            row = Reminder(meeting_id=meeting.id, session_id=session.id, created_by_contact_id=actor.id,
                           kind=kind, scheduled_for=due_at(kind, session), status=SCHEDULED, created_at=now)
            db.session.add(row)
            db.session.flush()
            if row.scheduled_for < now - LATE_AFTER:
                _skip(row, _passed(row.scheduled_for), now)
            else:
                _submit(row, jobs.console_actor(actor.id))
            current[kind] = row
            added.append(kind)
        elif kind not in wanted and row is not None and row.status == SCHEDULED:
            _cancel(row, now)
            cancelled.append(kind)
    db.session.flush()
    if added or cancelled:
        audit.record(f"contact:{actor.id}", "reminder.schedule", meeting_id=meeting.id, target=f"session:{session.id}",
                     session_id=session.id, added=added, cancelled=cancelled,
                     skipped=[k for k in added if current[k].status == SKIPPED])
    return current


def _cancel(row: Reminder, now: datetime) -> None:
    job = reminders.job_of(row)
    if job is not None:
        jobs.cancel(job.id, now=now)
    row.status, row.finished_at = CANCELLED, now


def cancel_all(session: MeetingSession, now: datetime | None = None) -> None:
    """The session goes: its pending schedules' jobs are cancelled (the rows go with the session)."""
    now = now or datetime.now(UTC)
    for row in db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.status == SCHEDULED)
    ).all():
        _cancel(row, now)
    db.session.flush()


def retime(meeting: Meeting, session: MeetingSession, *, actor: str, now: datetime | None = None) -> list[str]:
    """The session's start moved: its pending schedules follow it (a new job for the new time, the
    old one cancelled); one whose new time passed more than LATE_AFTER ago is skipped. Returns the
    kinds re-timed or skipped."""
    now = now or datetime.now(UTC)
    moved = []
    for row in db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.status == SCHEDULED).with_for_update()
    ).all():
        when = due_at(row.kind, session)
        if when == row.scheduled_for:
            continue
        job = reminders.job_of(row)
        if job is not None:
            jobs.cancel(job.id, now=now)  # if it already runs, it sees it is no longer the current job
        row.scheduled_for = when
        if when < now - LATE_AFTER:
            _skip(row, f"会议时间调整后发送时间（{local(when):%m月%d日 %H:%M}）已过，未发送", now)
        else:
            _submit(row, actor)
        moved.append(row.kind)
    if moved:
        db.session.flush()
        audit.record(actor, "reminder.retime", meeting_id=meeting.id, target=f"session:{session.id}",
                     session_id=session.id, kinds=moved)
    return moved


def recipients(meeting: Meeting, session: MeetingSession, kind: str) -> list[int]:
    """Whom a schedule of ``kind`` goes to now: everyone expected (not on approved leave), or for
    ``at_start`` those of them not signed in (催签's rule)."""
    if kind == "at_start":
        return reminders.missing_contact_ids(meeting, session)
    return reminders.expected_contact_ids(meeting, session)


def fire(reminder_id: int) -> dict:
    """The job at a schedule's time: decide the recipients, write their deliveries, send them."""
    reminder = db.session.scalar(select(Reminder).where(Reminder.id == reminder_id).with_for_update())
    if reminder is None or reminder.status not in (SCHEDULED, "sending"):
        return {"status": reminder.status if reminder else "gone"}
    running = jobs.current_job_id()
    job = reminders.job_of(reminder)
    if running is not None and job is not None and job.id != running:
        return {"status": "retimed"}  # the session moved; the schedule's current job sends it
    meeting = db.session.get(Meeting, reminder.meeting_id)
    session = db.session.get(MeetingSession, reminder.session_id)
    now = jobs.utcnow()
    if reminder.status == SCHEDULED:
        late = now - reminder.scheduled_for
        if late > LATE_AFTER:
            _skip(reminder, f"到时未能发送（迟了 {int(late.total_seconds() // 60)} 分钟），已跳过以免提醒过时", now)
            return {"status": SKIPPED}
        if meeting.state != MeetingState.PUBLISHED:
            _skip(reminder, "会议未发布或已结束，未发送", now)
            return {"status": SKIPPED}
        if reminder.kind != "at_start" and now >= session.starts_at:
            _skip(reminder, "会议已开始，不再发送会前提醒", now)
            return {"status": SKIPPED}
        people = recipients(meeting, session, reminder.kind)
        have = set(db.session.scalars(
            select(ReminderDelivery.contact_id).where(ReminderDelivery.reminder_id == reminder.id)))
        db.session.add_all(ReminderDelivery(reminder_id=reminder.id, contact_id=cid) for cid in people
                           if cid not in have)
        if not people:
            reminder.skip_reason = "应到人员均已签到，无需提醒" if reminder.kind == "at_start" else "没有应到人员"
        db.session.flush()
    return reminders.send_pending(reminder, meeting, session)


# --- What the console shows ----------------------------------------------------------------------

def _when(value: datetime) -> str:
    v = local(value)
    return f"{v.month}月{v.day}日 {v:%H:%M}"


def _state_text(row: Reminder) -> str:
    if row.status == SCHEDULED:
        return "待发送"
    if row.status == SKIPPED:
        return f"已跳过：{row.skip_reason or '发送时间已过'}"
    counts = Counter(db.session.scalars(
        select(ReminderDelivery.status).where(ReminderDelivery.reminder_id == row.id)))
    sent = counts["sent"] + counts["delivered"]
    if row.status == "sending":
        return f"正在发送（已发送 {sent} 人）"
    if not counts:
        return f"未发送：{row.skip_reason}" if row.skip_reason else "未发送"
    extra = "，".join(t for t in (f"失败 {counts['failed']} 人" if counts["failed"] else "",
                                  f"跳过 {counts['skipped']} 人（已签到或未绑定微信）" if counts["skipped"] else "") if t)
    return f"已发送 {sent} 人" + (f"（{extra}）" if extra else "")


def schedule_rows(session: MeetingSession) -> list[dict]:
    """Per kind, for the console: its label, whether it is ticked, its time and its true state."""
    current = _latest(session)
    out = []
    for kind in KINDS:
        row = current.get(kind)
        ticked = row is not None and row.status != SKIPPED
        when = row.scheduled_for if row is not None else due_at(kind, session)
        out.append({"kind": kind, "label": LABELS[kind], "ticked": ticked, "at": _when(when),
                    "state": _state_text(row) if row is not None else "未设置"})
    return out
