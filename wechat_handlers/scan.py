"""A scan of a meeting's QR code: what to answer a bound attendee, and a newcomer's first scan."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app

from app.services import links
from app.services.cards.resolve import card_headline
from app.services.codes.scenes import Scene, parse_login_scene, parse_scene
from app.services.errors import DomainError
from app.services.identity.binding import recognise_by_unionid
from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.signin.rules import SignInError, get_session
from app.services.signin.scans import ScanResult
from app.services.signin.write import sign_in
from app.services.timeutil import fmt_hm
from app.wechat import oa_api
from models import SignInMethod
from wechat_handlers.deadline import Deadline
from wechat_handlers.envelope import Envelope
from wechat_handlers.replies import link

NOT_A_MEETING_CODE = "这个二维码不是会议签到码。请扫描会场大屏或海报上的签到二维码。"
NO_MEETING = "找不到该会议，二维码可能已失效。请扫描会场大屏上的最新签到二维码。"
#: The most a callback spends asking WeChat for a newcomer's unionid (a token and ``user/info``)...
UNIONID_BUDGET_S = 1.2
#: ...and what it keeps of its deadline for the rest (the binding, the sign-in, the answer).
UNIONID_RESERVE_S = 1.0


def scene_of(envelope: Envelope) -> str | None:
    """The scene a scan event carries (``SCAN``, or ``subscribe`` through a parametric code), else None."""
    if envelope.get("MsgType") != "event":
        return None
    event, key = envelope.get("Event").lower(), envelope.get("EventKey")
    if event == "scan":
        return key
    if event == "subscribe" and key.startswith("qrscene_"):
        scene = key[len("qrscene_"):]
        # Following through someone else's code (a channel code, an old poster) is a follow like any
        # other: welcome them rather than tell a newcomer their code is wrong.
        if parse_scene(scene) is not None or parse_login_scene(scene) is not None:
            return scene
    return None


def _url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"] + path


def reply_for(result: ScanResult) -> str | None:
    """The reply to a scan the sign-in service answered; None for a scanner not bound here yet
    (:func:`first_scan` answers them)."""
    if result.state == "no_meeting":
        return NO_MEETING
    if result.state == "unbound":
        return None
    meeting_link = link(_url(f"/m/{result.meeting_code}"), "查看会议详情")
    who = f"{result.name}（{result.unit}）"
    if result.state == "signed_in":
        late = "（迟到）" if result.late else ""
        if result.card:  # the service card's headline first: what the person needs next
            return (" · ".join((f"签到成功，第 {result.seq} 位", *result.card))
                    + f"\n{who}，{fmt_hm(result.signed_at)} 签到{late}\n{meeting_link}")
        return f"签到成功！{who}，您是第 {result.seq} 位签到，{fmt_hm(result.signed_at)}{late}\n{meeting_link}"
    if result.state == "already":
        card = " · ".join(result.card) + "\n" if result.card else ""
        return (f"您已签到，无需重复扫码。{who}，签到时间 {fmt_hm(result.signed_at)}，第 {result.seq} 位。\n"
                f"{card}{meeting_link}")
    return f"{result.name}，{result.message}\n{meeting_link}"


def first_scan(openid: str, scene: Scene, deadline: Deadline | None = None) -> str:
    """A scanner not bound here: bound already through the mini program (same unionid, asked of
    WeChat within the callback's ``deadline``), or sent to the binding page. Runs in the request's
    own unit of work."""
    try:
        meeting = get_meeting(scene.meeting_code, cached=True)
        session = get_session(meeting, scene.session_position)
    except (MeetingError, SignInError):
        return NO_MEETING
    meeting_link = link(_url(f"/m/{meeting.code}"), "查看会议详情")
    contact = recognise(openid, deadline or Deadline())
    if contact is None:
        token = links.make_bind_token(current_app.config["SECRET_KEY"], oa_openid=openid,
                                      meeting_code=meeting.code, session_position=session.position)
        bind_link = link(_url(f"/m/bind?t={token}"), "点此填写信息完成签到")
        return (f"欢迎参加《{meeting.title}》。\n首次签到需核对身份：{bind_link}\n"
                "（填写单位、姓名和手机号，只需一次，以后扫码即可直接签到）")
    try:
        outcome = sign_in(meeting, session, contact, method=SignInMethod.SCAN)
    except SignInError as exc:
        return f"{contact.name}，{exc.message}\n{meeting_link}"
    except DomainError as exc:  # any other rule: say it plainly
        return f"{exc.message}\n{meeting_link}"
    return _signed_in_reply(meeting, contact, outcome)


def recognise(openid: str, deadline: Deadline):
    """The contact of a follower bound through the mini program, found by the unionid WeChat gives,
    asked within what the callback's deadline allows: never past ``UNIONID_BUDGET_S``, and never
    waiting on another worker refreshing the access token (``budget_s``, app.wechat.client). If
    WeChat does not answer in time the person gets the binding link, which binds their openid."""
    budget = min(UNIONID_BUDGET_S, deadline.left(UNIONID_RESERVE_S))
    if budget < 0.1:
        return None
    api = oa_api()
    return recognise_by_unionid(oa_openid=openid, fetch_unionid=lambda o: api.user_unionid(o, budget_s=budget))


def _signed_in_reply(meeting, contact, outcome) -> str:
    record = outcome.record
    return reply_for(ScanResult("signed_in" if outcome.created else "already", meeting_code=meeting.code,
                                meeting_title=meeting.title, name=contact.name, unit=contact.unit.name,
                                seq=record.seq, signed_at=record.signed_at, late=record.late,
                                card=card_headline(meeting, contact.id, now=datetime.now(UTC))))
