"""Organizer commands in the official account: 人数, 未到, 催签 (typed or from the organizer menu).

Only a bound contact who organizes a current or upcoming meeting gets an answer; for anyone else
:func:`answer` returns None and the dispatcher sends its usual help, so nothing here leaks.

催签 messages many people at once, so it takes two steps whichever way it is asked (typed, or a
menu's ORG_REMIND): 催签 says how many would be reminded and asks for 确认催签 within
``CONFIRM_TTL_S``; 确认催签 sends. The pending confirmation is a Redis key per openid, meeting and
session with that lifetime, deleted by the confirmation that uses it: one send per 催签, and a
confirmation for another meeting or session than the one asked about finds nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app
from redis import RedisError

from app.extensions import get_redis
from app.services.errors import DomainError
from app.services.identity.binding import bound_contact
from app.services.live import headcount, reminders
from app.services.meetings import organizers
from app.services.meetings.meetings import current_meeting_for
from app.services.signin.rules import get_session
from models import Contact, Meeting, MeetingSession
from wechat_handlers.replies import link

COMMANDS = {"人数": "headcount", "签到人数": "headcount", "未到": "missing", "未签到": "missing", "催签": "remind",
            "确认催签": "remind_confirm"}
CLICK_KEYS = {"ORG_HEADCOUNT": "headcount", "ORG_MISSING": "missing", "ORG_REMIND": "remind", "ORG_QR": "codes"}
COMMANDS["二维码"] = "codes"
TOP_UNITS = 5
NAMES_PER_UNIT = 6
#: How long a 催签 waits for its 确认催签.
CONFIRM_TTL_S = 300


def answer(openid: str, *, click_key: str | None = None, text: str | None = None) -> str | None:
    command = CLICK_KEYS.get(click_key or "") or COMMANDS.get((text or "").strip())
    if command is None:
        return None
    contact = bound_contact(oa_openid=openid)
    meeting = current_meeting_for(contact, datetime.now(UTC)) if contact is not None else None
    if meeting is None:
        return None
    session = get_session(meeting)
    console = link(current_app.config["PUBLIC_BASE_URL"] + f"/admin/{meeting.code}", "打开会务实时页面")
    try:
        if command == "remind":
            body = _remind_ask(meeting, session, contact, openid)
        elif command == "remind_confirm":
            body = _remind_confirm(meeting, session, contact, openid)
        elif command == "codes":
            organizers.require_right(meeting, contact, "view")
            body = _codes(meeting)
        else:
            organizers.require_right(meeting, contact, "view")
            numbers = headcount.numbers(meeting, session, recent=False)
            body = _headcount(meeting, numbers) if command == "headcount" else _missing(numbers)
    except DomainError as exc:
        body = exc.message
    return f"{body}\n{console}"


def _headcount(meeting: Meeting, n: headcount.Headcount) -> str:
    lines = [f"《{meeting.title}》", f"应到 {n.expected} 人，实到 {n.arrived} 人，签到率 {n.rate:.1f}%",
             f"未到 {n.missing_count} 人，迟到 {n.late} 人"]
    behind = [u for u in n.units if u.missing][:3]
    if behind:
        lines.append("未到较多：" + "、".join(f"{u.name} {len(u.missing)} 人" for u in behind))
    return "\n".join(lines)


def _missing(n: headcount.Headcount) -> str:
    behind = [u for u in n.units if u.missing]
    if not behind:
        return f"应到 {n.expected} 人已全部签到。"
    lines = [f"未到 {n.missing_count} 人："]
    for u in behind[:TOP_UNITS]:
        names = "、".join(m["name"] for m in u.missing[:NAMES_PER_UNIT])
        more = f"等 {len(u.missing)} 人" if len(u.missing) > NAMES_PER_UNIT else ""
        lines.append(f"· {u.name}：{names}{more}")
    if len(behind) > TOP_UNITS:
        lines.append(f"……另有 {len(behind) - TOP_UNITS} 个单位有人未到")
    return "\n".join(lines)


def _codes(meeting: Meeting) -> str:
    base = current_app.config["PUBLIC_BASE_URL"]
    key = headcount.screen_key(current_app.config["SECRET_KEY"], meeting.code, meeting.screen_key_version)
    return "\n".join([
        f"《{meeting.title}》签到码：",
        "· " + link(f"{base}/admin/codes/{meeting.code}/poster.pdf", "打印海报（A4 PDF）"),
        "· " + link(f"{base}/admin/codes/{meeting.code}/qr.png", "签到二维码图片"),
        "· " + link(f"{base}/screen/{meeting.code}?k={key}", "大屏页面（投影用）"),
    ])


def _confirm_key(openid: str, meeting: Meeting, session: MeetingSession) -> str:
    return f"huiyi:remind-confirm:{openid}:{meeting.id}:{session.id}"


def _remind_ask(meeting: Meeting, session: MeetingSession, contact: Contact, openid: str) -> str:
    organizers.require_right(meeting, contact, "remind")
    count = len(reminders.reminder_recipients(meeting, session))
    try:
        get_redis().set(_confirm_key(openid, meeting, session), count, ex=CONFIRM_TTL_S)
    except RedisError:
        return "暂时无法催签，请稍后再试，或在会务实时页面操作。"
    return (f"《{meeting.title}》{_session_name(meeting, session)}将向 {count} 位未到人员发送微信催签提醒。\n"
            f"确认发送请在 {CONFIRM_TTL_S // 60} 分钟内回复“确认催签”。")


def _remind_confirm(meeting: Meeting, session: MeetingSession, contact: Contact, openid: str) -> str:
    organizers.require_right(meeting, contact, "remind")
    try:
        pending = get_redis().delete(_confirm_key(openid, meeting, session))
    except RedisError:
        return "暂时无法催签，请稍后再试，或在会务实时页面操作。"
    if not pending:
        # Used up by this organizer's own confirmation a moment ago: most often WeChat sending the
        # same message again after the first answer was lost (a worker died after the commit). Say
        # what happened to it; the confirmation was deleted before it was used, so nothing is sent twice.
        done = reminders.recent_by(session, contact)
        if done is not None:
            return f"刚才的催签已提交（{len(done.deliveries)} 人），无需再次确认，发送结果见会务实时页面。"
        return f"没有待确认的催签（确认须在发送“催签”后 {CONFIRM_TTL_S // 60} 分钟内回复）。如需催签，请重新发送“催签”。"
    reminder = reminders.create_reminder(meeting, session, actor=contact)
    return reminders.submitted_message(reminder)  # queued truthfully when the queue is down


def _session_name(meeting: Meeting, session: MeetingSession) -> str:
    return f"（{session.title}）" if len(meeting.sessions) > 1 and session.title != meeting.title else ""
