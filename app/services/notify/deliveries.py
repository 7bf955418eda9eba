"""Sending a notice's rounds, by WeChat template message and, where WeChat cannot reach the person
and the notice allows it, by SMS; and recording what each channel later reports.

A round's deliveries are written with the notice (:func:`start_round`), then a recorded job
(:func:`send_round`) sends each pending one at the channel's allowed rate (``NOTICE_WECHAT_PER_S``,
``NOTICE_SMS_PER_S``). Never twice to one person:

- the unique key (recipient, round, channel) allows one WeChat and one SMS delivery per round;
- a delivery is claimed (``pending`` → ``sending``) by a conditional update, so two jobs on one
  round never both send it;
- a WeChat send carries ``client_msg_id``, so re-sending a claimed delivery after a crashed job is
  dropped by WeChat; its records are therefore committed in batches;
- an SMS has no such guard at the provider: its claim is committed before the send and its result
  right after, and a claim found unfinished by a later run is not re-sent (it is marked failed,
  "unknown", so a person is never texted twice for one round).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from flask import current_app
from redis.exceptions import RedisError
from sqlalchemy import func, insert, literal, select, update

from app import jobs
from app.extensions import db, get_redis
from app.services.live import reminders
from app.services.live.reminders import EARLY_REPORT_KEY, REPORT_REASONS, REPORT_SUCCESS
from app.services.notify import sms
from app.services.timeutil import local
from app.wechat import WeChatError, WeChatUnavailable, oa_api, templates
from models import Contact, Meeting, Notice, NoticeDelivery, NoticeRecipient, WechatIdentity

log = logging.getLogger(__name__)
JOB_KIND = "notice"
DEFAULT_TEMPLATE_ID = "huiyi_demo_meeting_notice"
BATCH = 200
SEND_ATTEMPTS = 3
RETRY_PAUSE_S = 0.3
DEFAULT_RATES = {"wechat": 100.0, "sms": 50.0}
NOT_FOLLOWING = "未关注公众号（或未绑定微信）"
#: WeChat errcodes that mean this person cannot get template messages from us (retrying will not help).
UNREACHABLE = {43004: "对方未关注公众号", 43101: "对方拒收消息", 40003: "微信身份无效"}
SMS_UNKNOWN = "发送中断，结果未知；为免重复未再发送"
#: A job sends for this long, then hands the rest of its round to a new job (the queue kills a job
#: after JOB_TIMEOUT_S).
SLICE_S = min(240, jobs.JOB_TIMEOUT_S - 60)


def start_round(notice: Notice, recipients, *, actor: Contact, now: datetime) -> int:
    """Write the next round's deliveries (WeChat first; SMS is decided per person when sending) for
    ``recipients`` (a select of NoticeRecipient ids), in one INSERT … SELECT, and record its job,
    handed to the queue after the commit. Returns the round."""
    notice.rounds = (notice.rounds or 0) + 1
    notice.last_round_at = now
    rows = recipients.subquery()
    db.session.execute(insert(NoticeDelivery).from_select(
        ["notice_id", "recipient_id", "round", "channel", "status", "attempts"],
        select(literal(notice.id), rows.c.id, literal(notice.rounds), literal("wechat"), literal("pending"),
               literal(0))))
    jobs.submit(JOB_KIND, send_round, notice.id, notice.rounds, actor=jobs.console_actor(actor.id),
                meeting_id=notice.meeting_id)
    return notice.rounds


class _Pace:
    """At most ``rate`` sends a second: each waits for its slot."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate > 0 else 0.0
        self.next = time.monotonic()

    def wait(self) -> None:
        now = time.monotonic()
        if self.next > now:
            time.sleep(self.next - now)
        self.next = max(self.next, now) + self.interval


def _rate(channel: str) -> float:
    return float(current_app.config.get(f"NOTICE_{channel.upper()}_PER_S") or DEFAULT_RATES[channel])


def send_round(notice_id: int, round_no: int) -> dict[str, int]:
    """The job: send round ``round_no``'s pending deliveries; returns counts by channel and status."""
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        return {}
    meeting = db.session.get(Meeting, notice.meeting_id)
    # An SMS claimed by a run that died: never re-sent (see the module's docstring).
    db.session.execute(update(NoticeDelivery).where(
        NoticeDelivery.notice_id == notice_id, NoticeDelivery.round == round_no, NoticeDelivery.channel == "sms",
        NoticeDelivery.status == "sending").values(status="failed", reason=SMS_UNKNOWN))
    db.session.commit()
    total = _count(notice_id, round_no, ("pending", "sending"))
    done, began = 0, time.monotonic()
    wechat = _Pace(_rate("wechat"))
    while batch := _wechat_batch(notice_id, round_no):
        reached = _reach(batch)
        for delivery, recipient in batch:
            openid, _phone = reached.get(recipient.contact_id, (None, None))
            _send_wechat(delivery, recipient, notice, meeting, openid, round_no, wechat)
            done += 1
        db.session.commit()
        _apply_early_reports([d for d, _r in batch])
        jobs.report_progress(done, total, "正在通过微信发送通知")
        if time.monotonic() - began > SLICE_S:
            return _continue(notice, round_no)
    sms = _Pace(_rate("sms"))
    while claimed := _claim_sms(notice_id, round_no):
        delivery, recipient = claimed
        _send_sms(delivery, recipient, notice, meeting, sms)
        db.session.commit()
        done += 1
        jobs.report_progress(done, max(total, done), "正在发送短信")
        if time.monotonic() - began > SLICE_S:
            return _continue(notice, round_no)
    return _round_counts(notice_id, round_no)


def _continue(notice: Notice, round_no: int) -> dict:
    """The rest of the round goes on in a new job: one job never outlives the queue's timeout
    (10,000 people at 100 a second take longer than it)."""
    jobs.submit(JOB_KIND, send_round, notice.id, round_no, actor=jobs.SYSTEM_ACTOR, meeting_id=notice.meeting_id)
    db.session.commit()
    return {**_round_counts(notice.id, round_no), "continued": 1}


def _count(notice_id: int, round_no: int, states: tuple[str, ...]) -> int:
    return db.session.scalar(select(func.count()).select_from(NoticeDelivery).where(
        NoticeDelivery.notice_id == notice_id, NoticeDelivery.round == round_no,
        NoticeDelivery.status.in_(states))) or 0


def _round_counts(notice_id: int, round_no: int) -> dict[str, int]:
    rows = db.session.execute(
        select(NoticeDelivery.channel, NoticeDelivery.status, func.count())
        .where(NoticeDelivery.notice_id == notice_id, NoticeDelivery.round == round_no)
        .group_by(NoticeDelivery.channel, NoticeDelivery.status)).all()
    return {f"{channel}_{status}": n for channel, status, n in rows}


def _wechat_batch(notice_id: int, round_no: int) -> list[tuple[NoticeDelivery, NoticeRecipient]]:
    """The next WeChat deliveries to send, claimed. A ``sending`` one left by a dead run is sent
    again: WeChat drops the repeat by its ``client_msg_id``."""
    ids = list(db.session.scalars(
        select(NoticeDelivery.id).where(NoticeDelivery.notice_id == notice_id, NoticeDelivery.round == round_no,
                                        NoticeDelivery.channel == "wechat",
                                        NoticeDelivery.status.in_(("pending", "sending")))
        .order_by(NoticeDelivery.id).limit(BATCH)))
    if not ids:
        return []
    db.session.execute(update(NoticeDelivery).where(NoticeDelivery.id.in_(ids)).values(status="sending"))
    return list(db.session.execute(
        select(NoticeDelivery, NoticeRecipient).join(NoticeRecipient, NoticeRecipient.id == NoticeDelivery.recipient_id)
        .where(NoticeDelivery.id.in_(ids)).order_by(NoticeDelivery.id)).all())


def _reach(batch: list[tuple[NoticeDelivery, NoticeRecipient]]) -> dict[int, tuple[str | None, str | None]]:
    """contact id -> (official-account openid, phone)."""
    contact_ids = [r.contact_id for _d, r in batch]
    phones = dict(db.session.execute(select(Contact.id, Contact.phone).where(Contact.id.in_(contact_ids))).all())
    openids = dict(db.session.execute(select(WechatIdentity.contact_id, WechatIdentity.oa_openid).where(
        WechatIdentity.contact_id.in_(contact_ids), WechatIdentity.oa_openid.is_not(None))).all())
    return {cid: (openids.get(cid), phones.get(cid)) for cid in contact_ids}


def person_link(recipient: NoticeRecipient) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + f"/n/{recipient.token}"


def template_data(notice: Notice, meeting: Meeting, round_no: int) -> dict[str, str]:
    """The notice as the category template 会议通知 shows it (会议名称 thing1, 会议时间 time2, 会议地点
    thing3, 通知内容 thing4): only fields WeChat displays (app.wechat.templates), the time with its
    date; the full text is one tap away (the message's link)."""
    starts = local(meeting.starts_at)
    if notice.kind == "confidentiality":
        what = "请阅读保密须知并确认"
    elif round_no > 1:
        what = "您尚未回执，请查看通知并答复" if notice.ask_reply else f"请查看：{notice.title}"
    else:
        what = "请查看通知全文并回执" if notice.ask_reply else notice.title
    values = {"thing1": meeting.title, "time2": f"{starts.year}年{starts.month}月{starts.day}日 {starts:%H:%M}",
              "thing3": meeting.venue or "见通知全文", "thing4": what}
    return {field: templates.fit(field, value) for field, value in values.items()}


def _send_wechat(delivery: NoticeDelivery, recipient: NoticeRecipient, notice: Notice, meeting: Meeting,
                 openid: str | None, round_no: int, pace: _Pace) -> None:
    if not openid:
        delivery.status, delivery.reason = "skipped", NOT_FOLLOWING
        _fallback(delivery, notice)
        return
    template_id = current_app.config.get("WECHAT_NOTICE_TEMPLATE_ID") or DEFAULT_TEMPLATE_ID
    for attempt in range(1, SEND_ATTEMPTS + 1):
        delivery.attempts += 1
        pace.wait()
        try:
            msgid = oa_api().send_template(openid, template_id, template_data(notice, meeting, round_no),
                                           url=person_link(recipient), client_msg_id=f"notice-{delivery.id}")
        except WeChatUnavailable as exc:
            if attempt < SEND_ATTEMPTS:
                time.sleep(RETRY_PAUSE_S * attempt)
                continue
            _failed(delivery, f"微信接口暂不可用：{exc.errmsg or exc}")
            _fallback(delivery, notice)
        except WeChatError as exc:
            _failed(delivery, UNREACHABLE.get(exc.errcode) or f"微信拒绝发送（{exc.errcode}）：{exc.errmsg or ''}")
            _fallback(delivery, notice)
        else:
            delivery.status, delivery.sent_at, delivery.reason = "sent", datetime.now(UTC), None
            delivery.provider_id = str(msgid)
        return


def _failed(delivery: NoticeDelivery, reason: str) -> None:
    delivery.status, delivery.reason = "failed", reason[:200]


def _fallback(delivery: NoticeDelivery, notice: Notice) -> bool:
    """WeChat cannot reach the person: an SMS for this round instead, when the notice allows it
    (once: the unique key refuses a second)."""
    if not notice.sms_fallback:
        return False
    exists = db.session.scalar(select(NoticeDelivery.id).where(
        NoticeDelivery.recipient_id == delivery.recipient_id, NoticeDelivery.round == delivery.round,
        NoticeDelivery.channel == "sms"))
    if exists is None:
        db.session.add(NoticeDelivery(notice_id=delivery.notice_id, recipient_id=delivery.recipient_id,
                                      round=delivery.round, channel="sms", status="pending", attempts=0))
        db.session.flush()
    return exists is None


def _claim_sms(notice_id: int, round_no: int) -> tuple[NoticeDelivery, NoticeRecipient] | None:
    """The next pending SMS of the round, claimed and the claim committed (see the docstring)."""
    while True:
        delivery_id = db.session.scalar(select(NoticeDelivery.id).where(
            NoticeDelivery.notice_id == notice_id, NoticeDelivery.round == round_no, NoticeDelivery.channel == "sms",
            NoticeDelivery.status == "pending").order_by(NoticeDelivery.id).limit(1))
        if delivery_id is None:
            return None
        claimed = db.session.execute(update(NoticeDelivery).where(
            NoticeDelivery.id == delivery_id, NoticeDelivery.status == "pending").values(
            status="sending", attempts=NoticeDelivery.attempts + 1)).rowcount
        db.session.commit()
        if claimed:
            delivery = db.session.get(NoticeDelivery, delivery_id)
            db.session.refresh(delivery)
            return delivery, db.session.get(NoticeRecipient, delivery.recipient_id)


def sms_params(notice: Notice, meeting: Meeting, recipient: NoticeRecipient) -> list[str]:
    """The SMS template's parameters. A notice: the meeting, its date and time, the venue and the
    personal link's token (the template holds the link's fixed part, as the provider requires
    links to be approved with the template); a confidentiality reminder: the meeting."""
    if notice.kind == "confidentiality":
        return [meeting.title]
    starts = local(meeting.starts_at)
    return [meeting.title, f"{starts.month}月{starts.day}日{starts:%H:%M}", meeting.venue or "另行通知",
            recipient.token]


def _send_sms(delivery: NoticeDelivery, recipient: NoticeRecipient, notice: Notice, meeting: Meeting,
              pace: _Pace) -> None:
    phone = db.session.scalar(select(Contact.phone).where(Contact.id == recipient.contact_id))
    if not sms.configured():
        delivery.status, delivery.reason = "skipped", "短信通道未配置"
        return
    if not phone:
        delivery.status, delivery.reason = "skipped", "无手机号"
        return
    pace.wait()
    template = "confidentiality" if notice.kind == "confidentiality" else "notice"
    try:
        sent = sms.send(phone, template, sms_params(notice, meeting, recipient))
    except sms.SmsError as exc:
        _failed(delivery, exc.message)
    else:
        delivery.status, delivery.sent_at, delivery.reason = "sent", datetime.now(UTC), None
        delivery.provider_id = sent.serial_no


# --- What the channels report later ------------------------------------------------------------------

def record_wechat_report(msgid: str | None, status: str | None, *, now: datetime | None = None) -> str | None:
    """TEMPLATESENDJOBFINISH for a notice's message: delivered, or failed (then SMS, if allowed).
    Returns the delivery's new status, or None when no notice delivery has that msgid."""
    msgid = (msgid or "").strip()
    if not msgid.isascii() or not msgid.isdigit() or len(msgid) > 20:
        return None
    delivery = db.session.scalar(select(NoticeDelivery).where(
        NoticeDelivery.channel == "wechat", NoticeDelivery.provider_id == msgid).with_for_update())
    if delivery is None:
        return None
    _apply_wechat_report(delivery, status or "", now or datetime.now(UTC))
    db.session.flush()
    return delivery.status


def _apply_wechat_report(delivery: NoticeDelivery, status: str, now: datetime) -> None:
    status = status.strip()[:64]
    delivery.reported_at = now
    if status == REPORT_SUCCESS:
        if delivery.status == "sent":
            delivery.status = "delivered"
    elif status.startswith("failed") and delivery.status != "failed":
        _failed(delivery, REPORT_REASONS.get(status, f"微信报告未送达（{status}）"))
        notice = db.session.get(Notice, delivery.notice_id)
        if _fallback(delivery, notice):
            jobs.submit(JOB_KIND, send_round, notice.id, delivery.round, actor=jobs.SYSTEM_ACTOR,
                        meeting_id=notice.meeting_id)


def _apply_early_reports(deliveries: list[NoticeDelivery]) -> None:
    """Reports WeChat sent before the batch was committed wait in Redis (the reminders' key: the
    callback cannot tell whose message a msgid is before it is recorded)."""
    sent = [d for d in deliveries if d.provider_id and d.status == "sent"]
    if not sent:
        return
    try:
        redis = get_redis()
        statuses = [redis.getdel(EARLY_REPORT_KEY.format(msgid=d.provider_id)) for d in sent]
    except RedisError:
        return
    now = datetime.now(UTC)
    for delivery, status in zip(sent, statuses, strict=True):
        if status:
            _apply_wechat_report(delivery, status.decode() if isinstance(status, bytes) else str(status), now)
    db.session.commit()


def apply_sms_receipts(receipts: list) -> int:
    """The SMS provider's delivery receipts (pushed or pulled): each names its message by serial
    number. Returns how many matched a notice's delivery."""
    matched = 0
    for receipt in receipts:
        delivery = db.session.scalar(select(NoticeDelivery).where(
            NoticeDelivery.channel == "sms", NoticeDelivery.provider_id == receipt.serial_no).with_for_update())
        if delivery is None:
            matched += reminders.record_sms_receipt(receipt)
            continue
        matched += 1
        delivery.reported_at = receipt.reported_at
        if receipt.delivered:
            if delivery.status == "sent":
                delivery.status = "delivered"
        else:
            _failed(delivery, f"短信未送达：{receipt.reason or '运营商未说明原因'}")
    db.session.flush()
    return matched
