"""催签: remind everyone expected but not yet signed in, by WeChat template message.

A reminder is written first (one ``ReminderDelivery`` per missing person; the unique key makes
"never twice to one person for one reminder" a database fact), then a background job (app/jobs.py,
recorded with the reminder, so Redis being down delays it but never loses it) sends each pending
delivery. Running the job again only touches deliveries still pending, and the ``client_msg_id``
lets WeChat itself drop a resend if a crashed job is retried before it committed.

Each send is committed as soon as WeChat took it, with the ``msgid`` WeChat answered: a message sent
cannot be unsent, so its record must not wait for the rest of the round. WeChat later reports each
message's fate (TEMPLATESENDJOBFINISH, :func:`record_delivery_report`): delivered, or refused by the
person or failed in WeChat, which the console then shows per person.

What the organizer is told is the job's true state: queued while the queue is unreachable, sending,
sent, failed. A reminder that never went out (the queue never took it, or its job failed) neither
blocks the next one for MIN_INTERVAL_S nor is sent later on top of it: the new one supersedes it.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, select

from app import jobs
from app.extensions import db, get_redis
from app.services import audit
from app.services.errors import DomainError
from app.services.live import headcount
from app.services.notify import sms
from app.services.timeutil import fmt_hm, local
from app.wechat import WeChatError, WeChatUnavailable, oa_api, templates
from models import Contact, Job, Meeting, MeetingSession, Reminder, ReminderDelivery, SignIn, WechatIdentity

log = logging.getLogger(__name__)
DEFAULT_TEMPLATE_ID = "huiyi_demo_signin_reminder"
#: Transient failures are retried this many times in all, with a short pause between.
SEND_ATTEMPTS = 3
RETRY_PAUSE_S = 0.3
#: Organizers tapping 催签 twice in a row should not message people twice in a minute.
MIN_INTERVAL_S = 60
JOB_KIND = "reminder"
#: A delivery report that arrived before its send was committed waits here (Redis, best effort).
EARLY_REPORT_KEY = "huiyi:template-report:{msgid}"
EARLY_REPORT_TTL_S = 3600
SUPERSEDED = "superseded"
#: TEMPLATESENDJOBFINISH ``Status`` values (WeChat's spelling, the space in the last one included).
REPORT_SUCCESS = "success"
#: WeChat refusals that mean the person cannot get our template messages: SMS may reach them.
SMS_WORTHY = frozenset({43004, 43101, 40003})
REPORT_REASONS = {"failed:user block": "对方已拒收公众号消息", "failed: system failed": "微信系统原因未送达"}


class ReminderError(DomainError):
    messages = {
        "nobody_missing": "应到人员均已签到，无需催签",
        "too_soon": "刚刚已发送催签，请 {seconds} 秒后再试",
    }
    statuses = {"too_soon": 429}


def expected_contact_ids(meeting: Meeting, session: MeetingSession) -> list[int]:
    """Everyone expected at the session (invitees not on leave), straight from the database."""
    return [row[0] for row in headcount._load_roster(headcount.SessionRef.of(meeting, session))]


def missing_contact_ids(meeting: Meeting, session: MeetingSession) -> list[int]:
    """Expected people without a live sign-in, straight from the database."""
    expected = expected_contact_ids(meeting, session)
    arrived = set(db.session.scalars(
        select(SignIn.contact_id).where(SignIn.session_id == session.id, SignIn.revoked_at.is_(None))
    ))
    return [cid for cid in expected if cid not in arrived]


def reminder_recipients(meeting: Meeting, session: MeetingSession, now: datetime | None = None) -> list[int]:
    """Whom a reminder written now would go to (writes nothing): what an organizer is asked to confirm.

    :raise ReminderError: ``too_soon`` (one was sent within ``MIN_INTERVAL_S``), ``nobody_missing``.
    """
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(seconds=MIN_INTERVAL_S)
    # A 催签 written, or a scheduled reminder that fired (written long before), within the minute.
    recent = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id,
                               (Reminder.created_at > cutoff) | (Reminder.finished_at > cutoff))
        .order_by(Reminder.created_at.desc())
    ).all()
    for last in recent:
        if _went_out(last):
            went = max(last.created_at, last.finished_at or last.created_at)
            wait = MIN_INTERVAL_S - int((now - went).total_seconds())
            raise ReminderError("too_soon", seconds=max(wait, 1))
    missing = missing_contact_ids(meeting, session)
    if not missing:
        raise ReminderError("nobody_missing")
    return missing


def create_reminder(meeting: Meeting, session: MeetingSession, *, actor: Contact,
                    now: datetime | None = None) -> Reminder:
    """Write a reminder for everyone missing now and queue its sending after the commit."""
    now = now or datetime.now(UTC)
    missing = reminder_recipients(meeting, session, now)
    reminder = Reminder(meeting_id=meeting.id, session_id=session.id, created_by_contact_id=actor.id,
                        status="queued", created_at=now)
    db.session.add(reminder)
    db.session.flush()
    db.session.add_all(ReminderDelivery(reminder_id=reminder.id, contact_id=cid) for cid in missing)
    db.session.flush()
    superseded = _supersede_undelivered(session, reminder)
    audit.record(f"contact:{actor.id}", "reminder.create", meeting_id=meeting.id, target=f"reminder:{reminder.id}",
                 session_id=session.id, recipients=len(missing), superseded=superseded)
    jobs.submit(JOB_KIND, send_reminder, reminder.id, actor=jobs.console_actor(actor.id), meeting_id=meeting.id)
    return reminder


def job_of(reminder: Reminder) -> Job | None:
    """The reminder's current job (a re-timed schedule has a newer one than its first)."""
    return jobs.latest_job(JOB_KIND, [reminder.id], meeting_id=reminder.meeting_id)


def _went_out(reminder: Reminder) -> bool:
    """Whether a reminder is being or has been sent (so a new one now would message people twice)."""
    if reminder.status == SUPERSEDED:
        return False
    counts = summary(reminder.id)
    if counts["sent"] or counts["delivered"]:
        return True
    job = job_of(reminder)
    if job is None:  # written before jobs were recorded: assume it went, as before
        return True
    if job.state == "running":
        return True
    if job.state == "queued":
        return job.enqueued_at is not None  # the queue has it: it goes out in a moment
    return False  # failed, or done without sending anything


def _supersede_undelivered(session: MeetingSession, new: Reminder) -> list[int]:
    """Earlier reminders of the session that never went out are not sent later on top of ``new``:
    their pending deliveries are skipped (their job, if it ever runs, finds nothing to send)."""
    superseded = []
    for old in db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.id != new.id,
                               Reminder.status.in_(("queued", "sending")))
    ):
        job = job_of(old)
        if job is not None and job.state == "running":
            continue  # it is sending right now; the people it reaches are no longer pending anyway
        old.status = SUPERSEDED
        old.finished_at = new.created_at
        for delivery in db.session.scalars(select(ReminderDelivery).where(
                ReminderDelivery.reminder_id == old.id, ReminderDelivery.status == "pending")):
            delivery.status, delivery.error = "skipped", "已由新的催签取代"
        superseded.append(old.id)
    db.session.flush()
    return superseded


def recent_by(session: MeetingSession, actor: Contact, now: datetime | None = None) -> Reminder | None:
    """The reminder ``actor`` wrote for ``session`` within ``MIN_INTERVAL_S``, if any: what a
    confirmation arriving again (WeChat's retry of a message whose first answer was lost, or a
    second tap) is answered with, instead of "nothing to confirm"."""
    now = now or datetime.now(UTC)
    return db.session.scalar(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.created_by_contact_id == actor.id,
                               Reminder.created_at > now - timedelta(seconds=MIN_INTERVAL_S))
        .order_by(Reminder.created_at.desc()).limit(1))


def submitted_message(reminder: Reminder) -> str:
    """What to tell the organizer who just asked for ``reminder``, truthfully: whether the queue can
    take it now, or it waits (recorded) until the queue is back."""
    count = len(reminder.deliveries)
    if jobs.queue_reachable():
        return f"已提交催签，正在向 {count} 位未到人员发送，发送结果见会务实时页面。"
    return (f"催签已记录（{count} 人），但消息队列暂时不可用，尚未发出；队列恢复后将自动发送，"
            "发送结果见会务实时页面。")


def send_reminder(reminder_id: int) -> dict[str, int]:
    """The job: send every pending delivery of the reminder; returns counts by status."""
    reminder = db.session.scalar(select(Reminder).where(Reminder.id == reminder_id).with_for_update())
    if reminder is None:
        return {}
    if reminder.status == SUPERSEDED:
        return summary(reminder.id)
    meeting = db.session.get(Meeting, reminder.meeting_id)
    session = db.session.get(MeetingSession, reminder.session_id)
    return send_pending(reminder, meeting, session)


def send_pending(reminder: Reminder, meeting: Meeting, session: MeetingSession) -> dict[str, int]:
    """Send every pending delivery of ``reminder`` (locked by the caller, inside its job); returns
    counts by status. The one sending round of 催签 and of scheduled reminders
    (:mod:`app.services.live.schedules`)."""
    reminder.status = "sending"
    # An SMS claimed by a run that died: never sent again (the person may have it already).
    for stale in db.session.scalars(select(ReminderDelivery).where(
            ReminderDelivery.reminder_id == reminder.id, ReminderDelivery.status == "sending")):
        stale.status, stale.error = "failed", "短信发送中断，结果未知；为免重复未再发送"
    pending = db.session.scalars(
        select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id,
                                       ReminderDelivery.status == "pending").order_by(ReminderDelivery.id)
    ).all()
    signed_in = set(db.session.scalars(
        select(SignIn.contact_id).where(SignIn.session_id == session.id, SignIn.revoked_at.is_(None))
    ))
    early_reports = True  # until Redis fails once: then not again for each person of the round
    for done, delivery in enumerate(pending, start=1):
        _deliver(delivery, meeting, session, reminder, already_in=delivery.contact_id in signed_in)
        # A message sent cannot be unsent: its record (and msgid) is kept at once, not at the end of
        # the round, so a crash later neither resends it nor loses WeChat's report about it.
        db.session.commit()
        if early_reports and delivery.msgid is not None:
            early_reports = _apply_early_report(delivery)
        jobs.report_progress(done, len(pending), "正在发送催签")
    reminder.status = "done"
    reminder.finished_at = datetime.now(UTC)
    db.session.flush()
    return summary(reminder.id)


def _deliver(delivery: ReminderDelivery, meeting: Meeting, session: MeetingSession, reminder: Reminder, *,
             already_in: bool) -> None:
    if already_in:  # arrived between the tap and the send: no point nagging them
        delivery.status, delivery.error = "skipped", "已签到"
        return
    openid = db.session.scalar(
        select(WechatIdentity.oa_openid).where(WechatIdentity.contact_id == delivery.contact_id)
    )
    contact = db.session.get(Contact, delivery.contact_id)
    if not openid:
        delivery.status, delivery.error = "skipped", "未绑定微信"
        _by_sms(delivery, contact, meeting, session, reminder, "未绑定微信")
        return
    for attempt in range(1, SEND_ATTEMPTS + 1):
        delivery.attempts += 1
        try:
            msgid = oa_api().send_template(
                openid, current_app.config.get("WECHAT_REMINDER_TEMPLATE_ID") or DEFAULT_TEMPLATE_ID,
                _template_data(meeting, session, datetime.now(UTC), kind=reminder.kind),
                url=current_app.config["PUBLIC_BASE_URL"] + f"/m/{meeting.code}",
                client_msg_id=f"remind-{reminder.id}-{contact.id}",
            )
        except WeChatUnavailable as exc:
            if attempt < SEND_ATTEMPTS:
                time.sleep(RETRY_PAUSE_S * attempt)
                continue
            _failed(delivery, exc)
        except WeChatError as exc:  # the recipient or the account refuses: retrying will not help
            _failed(delivery, exc)
            if exc.errcode in SMS_WORTHY:
                _by_sms(delivery, contact, meeting, session, reminder, delivery.error)
        else:
            delivery.status, delivery.sent_at, delivery.errcode, delivery.error = "sent", datetime.now(UTC), None, None
            delivery.msgid = msgid
        return


def _by_sms(delivery: ReminderDelivery, contact: Contact, meeting: Meeting, session: MeetingSession,
            reminder: Reminder, why: str) -> None:
    """WeChat cannot reach this person: an SMS instead, when the meeting sends SMS (its setting)
    and the channel is configured. The delivery is claimed and committed before the send (the
    provider cannot drop a repeat, unlike WeChat's client_msg_id): a crash in between leaves it
    ``sending``, which is never sent again (:func:`send_pending` marks it unknown)."""
    if not meeting.sms_fallback or not sms.configured() or not contact.phone:
        return
    delivery.status, delivery.channel = "sending", "sms"
    db.session.commit()
    now = datetime.now(UTC)
    try:
        sent = sms.send(contact.phone, "reminder", _sms_params(meeting, session, now, reminder.kind))
    except sms.SmsError as exc:
        delivery.status, delivery.error = "failed", f"微信：{why}；短信：{exc.message}"[:200]
    else:
        delivery.status, delivery.sent_at, delivery.sms_serial = "sent", now, sent.serial_no
        delivery.error = f"微信：{why}；已改发短信"[:200]


def _sms_params(meeting: Meeting, session: MeetingSession, now: datetime, kind: str | None) -> list[str]:
    """The SMS template 会议提醒 (会议名称, 开始时间, 会议地点, 提醒事项): as the WeChat message says it."""
    starts = local(session.starts_at)
    note = "请准时到场签到" if now < session.starts_at and kind != "at_start" else "会议已开始请尽快到场"
    return [meeting.title, f"{starts.month}月{starts.day}日{starts:%H:%M}", meeting.venue or "见会议通知", note]


def _failed(delivery: ReminderDelivery, exc: WeChatError) -> None:
    delivery.status = "failed"
    delivery.errcode = exc.errcode
    delivery.error = (exc.errmsg or str(exc))[:200]


def _template_data(meeting: Meeting, session: MeetingSession, now: datetime,
                   kind: str | None = None) -> dict[str, str]:
    """The reminder as the category template 会议签到提醒 (会议名称 thing1, 会议时间 time2, 会议地点
    thing3, 提醒事项 thing4) shows it: every field one WeChat displays (app.wechat.templates), the
    time with its date, and "not started yet" only while that is true.

    ``kind`` is a scheduled reminder's (``day_before``, ``hour_before``, ``at_start``; None for
    催签): the note says which day when it is not today (明天, or the date)."""
    starts = local(session.starts_at)
    if now < session.starts_at and kind in ("day_before", "hour_before"):
        days = (starts.date() - local(now).date()).days
        day = {0: "", 1: "明天"}.get(days, f"{starts.month}月{starts.day}日")
        tail = "请准时参加" if kind == "day_before" else "请准时到场"
        note = f"会议将于{day}{starts:%H:%M}开始，{tail}"
    elif now < session.starts_at and kind != "at_start":
        note = f"会议将于{starts:%H:%M}开始，请到场签到"
    else:
        note = "会议已开始，请尽快到场签到"
    values = {
        "thing1": meeting.title,
        "time2": f"{starts.year}年{starts.month}月{starts.day}日 {starts:%H:%M}",
        "thing3": meeting.venue or "见会议通知",
        "thing4": note,
    }
    return {field: templates.fit(field, value) for field, value in values.items()}


# --- WeChat's delivery reports ---------------------------------------------------------------------

def record_delivery_report(openid: str, msgid: str, status: str, *, now: datetime | None = None) -> str | None:
    """TEMPLATESENDJOBFINISH: WeChat's final word on one template message (``MsgID``, ``Status``).

    ``success`` marks the person's delivery delivered; ``failed:user block`` (they refuse the
    account's messages) and ``failed: system failed`` mark it failed with the reason. Returns the
    delivery's new status, or None when no delivery has that msgid (not a reminder's message, or
    its send is not committed yet: the report then waits in Redis for it, see :func:`_deliver`).
    """
    try:
        msgid_int = int(msgid)
    except (TypeError, ValueError):
        return None
    if not 0 < msgid_int < 2**63:
        return None
    delivery = db.session.scalar(
        select(ReminderDelivery).where(ReminderDelivery.msgid == msgid_int).with_for_update())
    if delivery is None:
        try:
            get_redis().set(EARLY_REPORT_KEY.format(msgid=msgid_int), status[:64], ex=EARLY_REPORT_TTL_S)
        except RedisError:
            log.warning("template report for msgid %s from %s has no delivery yet and could not wait", msgid, openid)
        return None
    _apply_report(delivery, status, now or datetime.now(UTC))
    db.session.flush()
    return delivery.status


def _apply_report(delivery: ReminderDelivery, status: str, now: datetime) -> None:
    status = (status or "").strip()[:64]
    delivery.wechat_status = status
    if status == REPORT_SUCCESS:
        if delivery.status == "sent":
            delivery.status, delivery.delivered_at = "delivered", now
    elif status.startswith("failed"):
        delivery.status = "failed"
        delivery.error = REPORT_REASONS.get(status, f"微信报告未送达（{status}）")[:200]


def record_sms_receipt(receipt) -> int:
    """The SMS provider's receipt for a reminder that went by SMS (``sms_serial``): delivered, or failed
    with the carrier's word. Returns 1 when it was a reminder's, else 0."""
    delivery = db.session.scalar(select(ReminderDelivery).where(
        ReminderDelivery.sms_serial == receipt.serial_no).with_for_update())
    if delivery is None:
        return 0
    if receipt.delivered:
        if delivery.status == "sent":
            delivery.status, delivery.delivered_at = "delivered", receipt.reported_at
    else:
        delivery.status = "failed"
        delivery.error = f"短信未送达：{receipt.reason or '运营商未说明原因'}"[:200]
    return 1


def _apply_early_report(delivery: ReminderDelivery) -> bool:
    """A report WeChat sent before this delivery's send was committed (see record_delivery_report).
    False when Redis cannot be asked."""
    key = EARLY_REPORT_KEY.format(msgid=delivery.msgid)
    try:
        status = get_redis().getdel(key)
    except RedisError:
        return False
    if status:
        _apply_report(delivery, status.decode() if isinstance(status, bytes) else str(status), datetime.now(UTC))
        db.session.commit()
    return True


# --- What the console shows ----------------------------------------------------------------------

def summary(reminder_id: int) -> dict[str, int]:
    counts = Counter(db.session.scalars(
        select(ReminderDelivery.status).where(ReminderDelivery.reminder_id == reminder_id)
    ))
    return {status: counts.get(status, 0) for status in ("pending", "sent", "delivered", "failed", "skipped")}


def _state_text(reminder: Reminder, counts: dict[str, int], job: Job | None) -> str:
    """The reminder's true state in Chinese, from its job and its deliveries."""
    if reminder.status == SUPERSEDED:
        return "未发出，已由之后的催签取代"
    by_sms = _sms_count(reminder.id)
    done = (f"已发出 {counts['sent'] + counts['delivered']}（微信确认送达 {counts['delivered']}"
            + (f"，改发短信 {by_sms}" if by_sms else "") + f"），失败 {counts['failed']}，"
            f"未绑定微信等跳过 {counts['skipped']}")
    if job is not None and job.state == "failed":
        return f"发送失败：{job.error_message or jobs.JOB_FAILED_MESSAGE}" + (
            f"；{done}" if counts["sent"] + counts["delivered"] + counts["failed"] else "")
    if counts["pending"]:
        if job is not None and job.state == "queued" and job.enqueued_at is None:
            return f"已记录，消息队列暂不可用，尚未发出（{counts['pending']} 人），恢复后自动发送"
        if job is not None and job.state == "queued":
            return f"排队等待发送（{counts['pending']} 人）"
        return f"正在发送：{done}，待发送 {counts['pending']}"
    return done


def _sms_count(reminder_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(ReminderDelivery).where(
        ReminderDelivery.reminder_id == reminder_id, ReminderDelivery.channel == "sms",
        ReminderDelivery.status.in_(("sent", "delivered")))) or 0


def _failed_people(reminder_id: int, limit: int = 20) -> list[dict[str, str]]:
    rows = db.session.execute(
        select(Contact.name, ReminderDelivery.error).join(Contact, Contact.id == ReminderDelivery.contact_id)
        .where(ReminderDelivery.reminder_id == reminder_id, ReminderDelivery.status == "failed")
        .order_by(ReminderDelivery.id).limit(limit)
    ).all()
    return [{"name": name, "reason": error or "发送失败"} for name, error in rows]


def recent_reminders(session: MeetingSession, limit: int = 5) -> list[dict]:
    """催签 of the session, newest first, with their delivery counts, their true state (``text``,
    ``job_state``) and who did not get it (``failed_people``), for the console. (Scheduled reminders
    are listed with their schedule: :func:`app.services.live.schedules.schedule_rows`.)"""
    rows = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id, Reminder.kind.is_(None))
        .order_by(Reminder.id.desc()).limit(limit)
    ).all()
    out = []
    for r in rows:
        counts, job = summary(r.id), job_of(r)
        out.append({"id": r.id, "status": r.status, "at": fmt_hm(r.created_at), **counts,
                    "job_id": job.id if job else None, "job_state": job.state if job else None,
                    "text": _state_text(r, counts, job),
                    "failed_people": _failed_people(r.id) if counts["failed"] else []})
    return out

