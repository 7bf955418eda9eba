"""催签: remind everyone expected but not yet signed in, by WeChat template message.

A reminder is written first (one ``ReminderDelivery`` per missing person; the unique key makes
"never twice to one person for one reminder" a database fact), then a background job sends each
pending delivery. Running the job again only touches deliveries still pending, and the
``client_msg_id`` lets WeChat itself drop a resend if a crashed job is retried before it committed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.live import headcount
from app.services.timeutil import fmt_hm
from app.wechat import WeChatError, WeChatUnavailable, oa_api
from models import Contact, Meeting, MeetingSession, Reminder, ReminderDelivery, SignIn, WechatIdentity

log = logging.getLogger(__name__)
DEFAULT_TEMPLATE_ID = "huiyi_demo_signin_reminder"
#: Transient failures are retried this many times in all, with a short pause between.
SEND_ATTEMPTS = 3
RETRY_PAUSE_S = 0.3
#: Organizers tapping 催签 twice in a row should not message people twice in a minute.
MIN_INTERVAL_S = 60


class ReminderError(DomainError):
    messages = {
        "nobody_missing": "应到人员均已签到，无需催签",
        "too_soon": "刚刚已发送催签，请 {seconds} 秒后再试",
    }
    statuses = {"too_soon": 429}


def missing_contact_ids(meeting: Meeting, session: MeetingSession) -> list[int]:
    """Expected people without a live sign-in, straight from the database."""
    ref = headcount.SessionRef.of(meeting, session)
    expected = [row[0] for row in headcount._load_roster(ref)]
    arrived = set(db.session.scalars(
        select(SignIn.contact_id).where(SignIn.session_id == session.id, SignIn.revoked_at.is_(None))
    ))
    return [cid for cid in expected if cid not in arrived]


def reminder_recipients(meeting: Meeting, session: MeetingSession, now: datetime | None = None) -> list[int]:
    """Whom a reminder written now would go to (writes nothing): what an organizer is asked to confirm.

    :raise ReminderError: ``too_soon`` (one was sent within ``MIN_INTERVAL_S``), ``nobody_missing``.
    """
    now = now or datetime.now(UTC)
    last = db.session.scalar(
        select(Reminder.created_at).where(Reminder.session_id == session.id)
        .order_by(Reminder.created_at.desc()).limit(1)
    )
    if last is not None and now - last < timedelta(seconds=MIN_INTERVAL_S):
        wait = MIN_INTERVAL_S - int((now - last).total_seconds())
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
    audit.record(f"contact:{actor.id}", "reminder.create", meeting_id=meeting.id, target=f"reminder:{reminder.id}",
                 session_id=session.id, recipients=len(missing))
    jobs.enqueue_after_commit(send_reminder, reminder.id)
    return reminder


def send_reminder(reminder_id: int) -> dict[str, int]:
    """The job: send every pending delivery of the reminder; returns counts by status."""
    reminder = db.session.scalar(select(Reminder).where(Reminder.id == reminder_id).with_for_update())
    if reminder is None:
        return {}
    meeting = db.session.get(Meeting, reminder.meeting_id)
    session = db.session.get(MeetingSession, reminder.session_id)
    reminder.status = "sending"
    pending = db.session.scalars(
        select(ReminderDelivery).where(ReminderDelivery.reminder_id == reminder.id,
                                       ReminderDelivery.status == "pending").order_by(ReminderDelivery.id)
    ).all()
    signed_in = set(db.session.scalars(
        select(SignIn.contact_id).where(SignIn.session_id == session.id, SignIn.revoked_at.is_(None))
    ))
    for delivery in pending:
        _deliver(delivery, meeting, session, reminder, already_in=delivery.contact_id in signed_in)
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
    if not openid:
        delivery.status, delivery.error = "skipped", "未绑定微信"
        return
    contact = db.session.get(Contact, delivery.contact_id)
    for attempt in range(1, SEND_ATTEMPTS + 1):
        delivery.attempts += 1
        try:
            oa_api().send_template(
                openid, current_app.config.get("WECHAT_REMINDER_TEMPLATE_ID") or DEFAULT_TEMPLATE_ID,
                _template_data(contact, meeting, session),
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
        else:
            delivery.status, delivery.sent_at, delivery.errcode, delivery.error = "sent", datetime.now(UTC), None, None
        return


def _failed(delivery: ReminderDelivery, exc: WeChatError) -> None:
    delivery.status = "failed"
    delivery.errcode = exc.errcode
    delivery.error = (exc.errmsg or str(exc))[:200]


def _template_data(contact: Contact, meeting: Meeting, session: MeetingSession) -> dict[str, str]:
    return {
        "first": f"{contact.name}，您好！会议即将开始，您尚未签到。",
        "keyword1": meeting.title,
        "keyword2": fmt_hm(session.starts_at),
        "keyword3": meeting.venue or "见会议通知",
        "remark": "请尽快到场，扫描会场签到二维码完成签到。",
    }


def summary(reminder_id: int) -> dict[str, int]:
    counts = Counter(db.session.scalars(
        select(ReminderDelivery.status).where(ReminderDelivery.reminder_id == reminder_id)
    ))
    return {status: counts.get(status, 0) for status in ("pending", "sent", "failed", "skipped")}


def recent_reminders(session: MeetingSession, limit: int = 5) -> list[dict]:
    """Reminders of the session, newest first, with their delivery counts (for the console)."""
    rows = db.session.scalars(
        select(Reminder).where(Reminder.session_id == session.id).order_by(Reminder.id.desc()).limit(limit)
    ).all()
    return [{"id": r.id, "status": r.status, "at": fmt_hm(r.created_at), **summary(r.id)} for r in rows]

