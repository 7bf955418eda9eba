"""会议通知: an organizer writes a notice, picks who gets it, sends it; each person answers 参加 (回执)
or asks for leave (请假), which the organizer approves into a real leave (out of 应到 everywhere).

A notice is written as a draft (the generated text of :func:`draft_for`, edited). Sending fixes its
recipients (one row each, with the personal link's secret) and writes round 1's deliveries in the
same transaction; the job that sends them (:mod:`app.services.notify.deliveries`) is recorded with
it, so a Redis loss delays the round but never drops it. 提醒未回复 is a further round to those who
have not answered. The unique keys make "one recipient row per person, one message per person per
round and channel" database facts.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit
from app.services.documents import confidentiality
from app.services.errors import DomainError
from app.services.live.headcount import people_of
from app.services.meetings import leaves
from app.services.notify import deliveries
from app.services.timeutil import local
from models import (
    ConfidentialityConfirmation,
    Contact,
    Invitee,
    InviteeRole,
    Meeting,
    Notice,
    NoticeDelivery,
    NoticeRecipient,
    Unit,
)

TITLE_MAX = 64
#: The personal link's secret: 72 random bits, 12 characters, so that it fits one SMS template
#: variable (the provider's limit is 12 characters).
TOKEN_BYTES = 9
BODY_MAX = 4000
LEAVE_REASON_MAX = 200
NOTE_MAX = 200
#: 提醒未回复 twice within this is a double tap, not a second reminder.
REMIND_INTERVAL_S = 60
KINDS = {"notice": "会议通知", "confidentiality": "保密提醒"}


class NoticeError(DomainError):
    messages = {
        "notice_not_found": "找不到该通知",
        "link_invalid": "通知链接无效，请从最新的微信消息或短信中重新打开",
        "title_missing": "请填写通知标题",
        "too_long": "{field}过长，请控制在 {limit} 字以内",
        "audience_empty": "请选择通知对象：全体参会人员，或按单位、身份、分组、人员选择",
        "nobody": "所选范围内没有应到人员（已请假的人员不再通知）",
        "already_sent": "该通知已发送，不能再修改；如需更正请另发一条通知",
        "not_sent": "该通知尚未发送",
        "reply_not_asked": "该通知无需回执",
        "meeting_over": "会议已结束，不能再回执或请假",
        "leave_reason_missing": "请填写请假事由",
        "leave_decided": "您的请假申请已处理（{state}），如有变化请联系会务组",
        "not_pending": "{name} 的请假申请已处理，无需重复操作",
        "recipient_not_found": "该人员不在本通知的发送名单中",
        "too_soon": "刚刚已提醒，请 {seconds} 秒后再试",
        "nobody_unanswered": "所有人均已答复，无需提醒",
        "kind_invalid": "通知类型无效",
    }
    statuses = {"notice_not_found": 404, "link_invalid": 404, "recipient_not_found": 404, "too_soon": 429,
                "already_sent": 409, "not_pending": 409, "leave_decided": 409}


@dataclass(frozen=True)
class Audience:
    """Who a notice goes to: everyone expected (``all``) or the union of the picked units, roles
    (InviteeRole values), groups (Invitee.group_name) and people (contact ids)."""

    all: bool = False
    units: tuple[int, ...] = ()
    roles: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    people: tuple[int, ...] = ()

    @classmethod
    def parse(cls, raw: dict | None) -> Audience:
        """From a form or JSON (lists of strings or numbers); unknown or malformed items dropped."""
        raw = raw or {}

        def ints(values) -> tuple[int, ...]:
            return tuple(sorted({int(v) for v in values or () if str(v).isascii() and str(v).isdigit()}))

        def texts(values) -> tuple[str, ...]:
            return tuple(sorted({str(v).strip()[:64] for v in values or () if str(v).strip()}))

        return cls(all=bool(raw.get("all")), units=ints(raw.get("units")), roles=texts(raw.get("roles")),
                   groups=texts(raw.get("groups")), people=ints(raw.get("people")))

    def as_json(self) -> dict:
        return {"all": self.all, "units": list(self.units), "roles": list(self.roles), "groups": list(self.groups),
                "people": list(self.people)}

    def empty(self) -> bool:
        return not (self.all or self.units or self.roles or self.groups or self.people)


# --- Writing ---------------------------------------------------------------------------------------

def draft_for(meeting: Meeting, kind: str = "notice") -> dict[str, str]:
    """The generated notice the organizer starts from: title, and a body with the time, the venue,
    each session and what to bring (to be filled in), and how to answer."""
    starts = local(meeting.starts_at)
    if kind == "confidentiality":
        # The meeting's own 保密提醒 (what the documents' gate asks the person to confirm), with how
        # to confirm it: the notice leads to that page.
        terms = confidentiality.terms_of(meeting)
        return {"title": "保密提醒", "body": f"各位参会人员：\n{terms.text}\n打开会议材料前，请点击下方按钮阅读并确认。"}
    lines = [f"兹定于{starts.year}年{starts.month}月{starts.day}日 {starts:%H:%M}召开{meeting.title}，现将有关事项通知如下：",
             f"一、时间：{starts.month}月{starts.day}日 {starts:%H:%M}" + (
                 f" 至 {local(meeting.ends_at):%H:%M}" if local(meeting.ends_at).date() == starts.date() else ""),
             f"二、地点：{meeting.venue or '另行通知'}"]
    if len(meeting.sessions) > 1:
        lines.append("三、议程：" + "；".join(
            f"{local(s.starts_at):%m月%d日 %H:%M} {s.name}" for s in meeting.sessions))
    lines += ["请携带：（如：本人身份证件、会议材料、笔记本）",
              "请于会前点击“参加”确认出席；如因故不能参加，请点击“请假”并填写事由，经会务组批准。"]
    title = f"关于召开{meeting.title}的通知"
    return {"title": title if len(title) <= TITLE_MAX else "会议通知", "body": "\n".join(lines)}


def _clean(title: str, body: str) -> tuple[str, str]:
    title, body = (title or "").strip(), (body or "").strip().replace("\r\n", "\n")
    if not title:
        raise NoticeError("title_missing")
    if len(title) > TITLE_MAX:
        raise NoticeError("too_long", field="标题", limit=TITLE_MAX)
    if len(body) > BODY_MAX:
        raise NoticeError("too_long", field="正文", limit=BODY_MAX)
    return title, body


def create(meeting: Meeting, *, title: str, body: str, audience: dict | Audience, actor: Contact,
           kind: str = "notice", ask_reply: bool = True, sms_fallback: bool = False) -> Notice:
    """A draft notice. :raise NoticeError: ``title_missing``, ``too_long``, ``audience_empty``,
    ``kind_invalid``."""
    if kind not in KINDS:
        raise NoticeError("kind_invalid")
    title, body = _clean(title, body)
    audience = audience if isinstance(audience, Audience) else Audience.parse(audience)
    if audience.empty():
        raise NoticeError("audience_empty")
    notice = Notice(meeting_id=meeting.id, kind=kind, title=title, body=body, audience=audience.as_json(),
                    ask_reply=bool(ask_reply) and kind == "notice", sms_fallback=bool(sms_fallback),
                    status="draft", created_by_contact_id=actor.id)
    db.session.add(notice)
    db.session.flush()
    audit.record(f"contact:{actor.id}", "notice.create", meeting_id=meeting.id, target=f"notice:{notice.id}",
                 kind=kind, title=title)
    return notice


def update(notice: Notice, *, title: str, body: str, audience: dict | Audience, actor: Contact,
           ask_reply: bool = True, sms_fallback: bool = False) -> Notice:
    """Edit a draft. :raise NoticeError: ``already_sent`` and the errors of :func:`create`."""
    if notice.status != "draft":
        raise NoticeError("already_sent")
    title, body = _clean(title, body)
    audience = audience if isinstance(audience, Audience) else Audience.parse(audience)
    if audience.empty():
        raise NoticeError("audience_empty")
    notice.title, notice.body, notice.audience = title, body, audience.as_json()
    notice.ask_reply, notice.sms_fallback = bool(ask_reply) and notice.kind == "notice", bool(sms_fallback)
    audit.record(f"contact:{actor.id}", "notice.update", meeting_id=notice.meeting_id, target=f"notice:{notice.id}")
    return notice


def get_notice(meeting: Meeting, notice_id: int | str | None) -> Notice:
    """The meeting's notice ``notice_id``; another meeting's is not found. :raise NoticeError:
    ``notice_not_found``."""
    try:
        notice = db.session.get(Notice, int(notice_id or 0))
    except (TypeError, ValueError, OverflowError):
        notice = None
    if notice is None or notice.meeting_id != meeting.id:
        raise NoticeError("notice_not_found")
    return notice


def notices_of(meeting: Meeting) -> list[Notice]:
    return list(db.session.scalars(select(Notice).where(Notice.meeting_id == meeting.id)
                                   .order_by(Notice.created_at.desc(), Notice.id.desc())))


# --- Who gets it -----------------------------------------------------------------------------------

def audience_options(meeting: Meeting) -> dict[str, list]:
    """What the organizer may pick from, each with how many expected people it covers."""
    expected, _on_leave = people_of(meeting)
    roles = _roles(meeting)
    units: Counter = Counter()
    unit_names: dict[int, str] = {}
    groups: Counter = Counter()
    role_count: Counter = Counter()
    for cid, _name, uid, uname, group, _title in expected:
        units[uid] += 1
        unit_names[uid] = uname
        if group:
            groups[group] += 1
        role_count[roles.get(cid, InviteeRole.DELEGATE.value)] += 1
    return {
        "total": len(expected),
        "units": sorted(((uid, unit_names[uid], n) for uid, n in units.items()), key=lambda u: u[1]),
        "roles": [(r.value, r.value, role_count[r.value]) for r in InviteeRole if role_count[r.value]],
        "groups": sorted(groups.items()),
        "people": sorted(((cid, name, uname) for cid, name, _uid, uname, _g, _t in expected),
                         key=lambda p: (p[2], p[1])),
    }


def _roles(meeting: Meeting) -> dict[int, str]:
    return dict(db.session.execute(select(Invitee.contact_id, Invitee.role).where(Invitee.meeting_id == meeting.id)).all())


def resolve(meeting: Meeting, audience: Audience) -> list[int]:
    """The contact ids ``audience`` names among the people expected now (leave excluded), sorted."""
    expected, _on_leave = people_of(meeting)
    if audience.all:
        return sorted(row[0] for row in expected)
    roles = _roles(meeting) if audience.roles else {}
    units, groups, people, wanted_roles = set(audience.units), set(audience.groups), set(audience.people), set(audience.roles)
    return sorted(
        cid for cid, _name, uid, _uname, group, _title in expected
        if uid in units or (group and group in groups) or cid in people
        or (wanted_roles and roles.get(cid, InviteeRole.DELEGATE.value) in wanted_roles)
    )


# --- Sending ---------------------------------------------------------------------------------------

def send(notice: Notice, meeting: Meeting, *, actor: Contact, now: datetime | None = None) -> int:
    """Fix the recipients and queue round 1 after the commit; returns how many. Written in bulk, so
    10,000 recipients are queued in well under the organizer's patience.

    :raise NoticeError: ``already_sent``, ``nobody``."""
    now = now or datetime.now(UTC)
    if notice.status != "draft":
        raise NoticeError("already_sent")
    people = resolve(meeting, Audience.parse(notice.audience))
    if not people:
        raise NoticeError("nobody")
    _insert_recipients(notice.id, people)
    notice.status, notice.sent_at = "sent", now
    audit.record(f"contact:{actor.id}", "notice.send", meeting_id=meeting.id, target=f"notice:{notice.id}",
                 recipients=len(people))
    deliveries.start_round(notice, _recipients(notice, None), actor=actor, now=now)
    return len(people)


def _insert_recipients(notice_id: int, people: list[int]) -> None:
    """One row per person with a fresh token. On PostgreSQL one statement over two arrays (10,000
    people in tens of milliseconds, where executemany takes seconds: the organizer waits for this);
    elsewhere (SQLite, the demo) executemany."""
    tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _ in people]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text(
            "INSERT INTO notice_recipients (notice_id, contact_id, token) "
            "SELECT :notice_id, unnest(CAST(:ids AS integer[])), unnest(CAST(:tokens AS varchar[]))"),
            {"notice_id": notice_id, "ids": people, "tokens": tokens})
    else:
        db.session.execute(insert(NoticeRecipient), [
            {"notice_id": notice_id, "contact_id": cid, "token": token} for cid, token in zip(people, tokens, strict=True)])


def remind_unanswered(notice: Notice, meeting: Meeting, *, actor: Contact, now: datetime | None = None) -> int:
    """Another round to those who have not answered (or, for a notice without 回执, not read it).

    :raise NoticeError: ``not_sent``, ``too_soon``, ``nobody_unanswered``."""
    now = now or datetime.now(UTC)
    if notice.status != "sent":
        raise NoticeError("not_sent")
    if notice.last_round_at and now - notice.last_round_at < timedelta(seconds=REMIND_INTERVAL_S):
        wait = REMIND_INTERVAL_S - int((now - notice.last_round_at).total_seconds())
        raise NoticeError("too_soon", seconds=max(wait, 1))
    pending = _recipients(notice, "unanswered")
    count = db.session.scalar(select(func.count()).select_from(pending.subquery()))
    if not count:
        raise NoticeError("nobody_unanswered")
    audit.record(f"contact:{actor.id}", "notice.remind", meeting_id=meeting.id, target=f"notice:{notice.id}",
                 recipients=count)
    deliveries.start_round(notice, pending, actor=actor, now=now)
    return count


def _recipients(notice: Notice, which: str | None):
    """The notice's recipients; ``unanswered``: those who have not answered (回执), not confirmed the
    current 保密提醒 (a confidentiality reminder), or not read it (a notice without 回执)."""
    query = select(NoticeRecipient.id).where(NoticeRecipient.notice_id == notice.id)
    if which == "unanswered" and notice.kind == "confidentiality":
        query = query.where(NoticeRecipient.contact_id.not_in(_confirmed_query(notice.meeting_id)))
    elif which == "unanswered":
        query = query.where(NoticeRecipient.answer.is_(None) if notice.ask_reply
                            else NoticeRecipient.read_at.is_(None))
    return query


def _confirmed_query(meeting_id: int):
    """Who confirmed the meeting's current 保密提醒 (the documents' gate records it)."""
    meeting = db.session.get(Meeting, meeting_id)
    version = confidentiality.terms_of(meeting).version
    return select(ConfidentialityConfirmation.contact_id).where(
        ConfidentialityConfirmation.meeting_id == meeting_id, ConfidentialityConfirmation.version == version)


# --- The person's side -----------------------------------------------------------------------------

def by_token(token: str | None) -> NoticeRecipient:
    """The recipient whose personal link carries ``token``. :raise NoticeError: ``link_invalid``."""
    token = (token or "").strip()
    if not (12 <= len(token) <= 32) or not token.isascii():
        raise NoticeError("link_invalid")
    recipient = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.token == token)
                                  .options(joinedload(NoticeRecipient.notice)))
    if recipient is None:
        raise NoticeError("link_invalid")
    return recipient


def mark_read(recipient: NoticeRecipient, now: datetime | None = None) -> bool:
    """The person opened the full text (the first time counts). Returns whether this was the first."""
    if recipient.read_at is not None:
        return False
    recipient.read_at = now or datetime.now(UTC)
    return True


def _open_for_answers(recipient: NoticeRecipient, meeting: Meeting, now: datetime) -> None:
    if not recipient.notice.ask_reply:
        raise NoticeError("reply_not_asked")
    if now >= meeting.ends_at:
        raise NoticeError("meeting_over")


def can_answer(recipient: NoticeRecipient, meeting: Meeting, now: datetime | None = None) -> bool:
    """Whether the person may still answer: the notice asks for 回执, the meeting has not ended, and
    the organizer has not decided a leave they asked for."""
    now = now or datetime.now(UTC)
    return (recipient.notice.ask_reply and now < meeting.ends_at
            and recipient.leave_state not in ("approved", "refused"))


def attend(recipient: NoticeRecipient, meeting: Meeting, *, channel: str, now: datetime | None = None) -> None:
    """回执: the person will attend. Answering again is harmless; a pending leave request is taken back,
    an approved leave stays until the organizer cancels it (they excused the person).

    :raise NoticeError: ``reply_not_asked``, ``meeting_over``, ``leave_decided`` (leave approved)."""
    now = now or datetime.now(UTC)
    _open_for_answers(recipient, meeting, now)
    if recipient.leave_state == "approved":
        raise NoticeError("leave_decided", state="已批准")
    mark_read(recipient, now)
    if recipient.answer != "attend":
        recipient.answer, recipient.answered_at = "attend", now
        recipient.leave_state = None
        audit.record(f"contact:{recipient.contact_id}", "notice.attend", meeting_id=meeting.id,
                     target=f"notice:{recipient.notice_id}", channel=channel)


def ask_leave(recipient: NoticeRecipient, meeting: Meeting, *, reason: str, channel: str,
              now: datetime | None = None) -> None:
    """请假: the person asks to be excused; the organizer decides (:func:`decide_leave`). Asking again
    while pending updates the reason.

    :raise NoticeError: ``reply_not_asked``, ``meeting_over``, ``leave_reason_missing``, ``too_long``,
        ``leave_decided``."""
    now = now or datetime.now(UTC)
    _open_for_answers(recipient, meeting, now)
    reason = (reason or "").strip()
    if not reason:
        raise NoticeError("leave_reason_missing")
    if len(reason) > LEAVE_REASON_MAX:
        raise NoticeError("too_long", field="请假事由", limit=LEAVE_REASON_MAX)
    if recipient.leave_state in ("approved", "refused"):
        raise NoticeError("leave_decided", state="已批准" if recipient.leave_state == "approved" else "未批准")
    mark_read(recipient, now)
    recipient.answer, recipient.answered_at = "leave", now
    recipient.leave_reason, recipient.leave_state = reason, "pending"
    audit.record(f"contact:{recipient.contact_id}", "notice.leave_request", meeting_id=meeting.id,
                 target=f"notice:{recipient.notice_id}", reason=reason, channel=channel)


def decide_leave(notice: Notice, meeting: Meeting, recipient_id: int | str | None, *, approve: bool, note: str,
                 actor: Contact, now: datetime | None = None) -> NoticeRecipient:
    """The organizer approves a leave request (a real leave: out of 应到 everywhere, approved by
    them) or refuses it with a note the person sees.

    :raise NoticeError: ``recipient_not_found``, ``not_pending``, ``too_long``; :raise LeaveError:
        ``not_expected`` (no longer on the list)."""
    now = now or datetime.now(UTC)
    try:
        recipient = db.session.get(NoticeRecipient, int(recipient_id or 0))
    except (TypeError, ValueError, OverflowError):
        recipient = None
    if recipient is None or recipient.notice_id != notice.id:
        raise NoticeError("recipient_not_found")
    contact = db.session.get(Contact, recipient.contact_id)
    if recipient.leave_state != "pending":
        raise NoticeError("not_pending", name=contact.name)
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise NoticeError("too_long", field="说明", limit=NOTE_MAX)
    if approve:
        leaves.record_leave(meeting, contact, reason=recipient.leave_reason or "通知回执请假",
                            approver=actor.name[:leaves.APPROVER_MAX], actor=f"contact:{actor.id}")
    recipient.leave_state = "approved" if approve else "refused"
    recipient.decided_by, recipient.decided_at, recipient.decision_note = f"contact:{actor.id}", now, note or None
    audit.record(f"contact:{actor.id}", "notice.leave_approve" if approve else "notice.leave_refuse",
                 meeting_id=meeting.id, target=f"contact:{contact.id}", notice_id=notice.id, note=note)
    return recipient


def mine(meeting: Meeting, contact: Contact) -> list[NoticeRecipient]:
    """The notices of ``meeting`` sent to ``contact``, newest first (the mini program's list)."""
    return list(db.session.scalars(
        select(NoticeRecipient).join(Notice, Notice.id == NoticeRecipient.notice_id)
        .where(Notice.meeting_id == meeting.id, NoticeRecipient.contact_id == contact.id)
        .options(joinedload(NoticeRecipient.notice)).order_by(Notice.sent_at.desc(), Notice.id.desc())))


def recipient_for(meeting: Meeting, contact: Contact, notice_id: int) -> NoticeRecipient:
    """``contact``'s copy of notice ``notice_id`` of ``meeting``; a notice not sent to them is not
    found (whether it exists is none of their business). :raise NoticeError: ``notice_not_found``."""
    recipient = db.session.scalar(
        select(NoticeRecipient).join(Notice, Notice.id == NoticeRecipient.notice_id)
        .where(Notice.meeting_id == meeting.id, Notice.id == notice_id, NoticeRecipient.contact_id == contact.id)
        .options(joinedload(NoticeRecipient.notice)))
    if recipient is None:
        raise NoticeError("notice_not_found")
    return recipient


# --- What the organizer sees -----------------------------------------------------------------------

STATES = {"attend": "确认参加", "leave_pending": "请假待批", "leave_approved": "已准假", "leave_refused": "请假未批准",
          "read": "已读未回复", "unread": "未读"}


def state_of(recipient: NoticeRecipient) -> str:
    if recipient.answer == "attend":
        return "attend"
    if recipient.answer == "leave":
        return f"leave_{recipient.leave_state or 'pending'}"
    return "read" if recipient.read_at else "unread"


def counts(notice: Notice) -> dict[str, int]:
    """Answers (``attend``, ``leave_pending``…, ``read``, ``unread``, ``total``) and deliveries per
    channel (``wechat_sent``, ``wechat_delivered``, ``wechat_failed``, ``sms_…``, ``skipped``)."""
    rows = db.session.execute(
        select(NoticeRecipient.answer, NoticeRecipient.leave_state, NoticeRecipient.read_at.is_not(None), func.count())
        .where(NoticeRecipient.notice_id == notice.id)
        .group_by(NoticeRecipient.answer, NoticeRecipient.leave_state, NoticeRecipient.read_at.is_not(None))
    ).all()
    out = Counter()
    for answer, leave_state, read, n in rows:
        if answer == "attend":
            out["attend"] += n
        elif answer == "leave":
            out[f"leave_{leave_state or 'pending'}"] += n
        else:
            out["read" if read else "unread"] += n
        out["total"] += n
    out["unanswered"] = out["read"] + out["unread"]
    if notice.kind == "confidentiality":
        out["confirmed"] = db.session.scalar(select(func.count()).select_from(NoticeRecipient).where(
            NoticeRecipient.notice_id == notice.id,
            NoticeRecipient.contact_id.in_(_confirmed_query(notice.meeting_id)))) or 0
        out["unanswered"] = out["total"] - out["confirmed"]
    for channel, status, n in db.session.execute(
        select(NoticeDelivery.channel, NoticeDelivery.status, func.count()).where(NoticeDelivery.notice_id == notice.id)
        .group_by(NoticeDelivery.channel, NoticeDelivery.status)
    ).all():
        out[f"{channel}_{status}"] += n
    return {key: out.get(key, 0) for key in (
        "total", "confirmed", "attend", "leave_pending", "leave_approved", "leave_refused", "read", "unread", "unanswered",
        "wechat_pending", "wechat_sending", "wechat_sent", "wechat_delivered", "wechat_failed", "wechat_skipped",
        "sms_pending", "sms_sending", "sms_sent", "sms_delivered", "sms_failed", "sms_skipped")}


def recipient_rows(notice: Notice, state: str | None = None, limit: int = 500) -> list[dict]:
    """Each recipient with unit, answer and the last word of every channel, by unit then name."""
    query = (select(NoticeRecipient, Contact.name, Contact.phone, Unit.name)
             .join(Contact, Contact.id == NoticeRecipient.contact_id).join(Unit, Unit.id == Contact.unit_id)
             .where(NoticeRecipient.notice_id == notice.id))
    if state == "unanswered":
        query = query.where(NoticeRecipient.answer.is_(None))
    elif state == "attend":
        query = query.where(NoticeRecipient.answer == "attend")
    elif state == "leave":
        query = query.where(NoticeRecipient.answer == "leave")
    rows = db.session.execute(query.order_by(Unit.name, Contact.name, NoticeRecipient.id).limit(limit)).all()
    last: dict[int, dict[str, NoticeDelivery]] = {}
    if rows:
        for d in db.session.scalars(select(NoticeDelivery).where(
                NoticeDelivery.recipient_id.in_([r[0].id for r in rows])).order_by(NoticeDelivery.round)):
            last.setdefault(d.recipient_id, {})[d.channel] = d
    return [{"id": r.id, "name": name, "phone": phone, "unit": unit, "state": state_of(r),
             "state_text": STATES[state_of(r)], "reason": r.leave_reason, "note": r.decision_note,
             "read_at": r.read_at, "answered_at": r.answered_at, "wechat": last.get(r.id, {}).get("wechat"),
             "sms": last.get(r.id, {}).get("sms")}
            for r, name, phone, unit in rows]
