"""Route a checked message to what answers it. Returns reply text, or "" for no reply."""

from __future__ import annotations

from app.services.codes.scenes import parse_login_scene, parse_scene
from app.services.live.reminders import record_delivery_report
from app.services.notify import deliveries
from wechat_handlers import login_scan
from wechat_handlers.deadline import Deadline
from wechat_handlers.envelope import Envelope
from wechat_handlers.organizer import answer as organizer_answer  # 人数, 未到, 催签, the organizer menu
from wechat_handlers.scan import NOT_A_MEETING_CODE, first_scan, scene_of

HELP = ("您好，这里是会易会议签到。\n"
        "· 参会签到：请用微信扫描会场大屏或海报上的签到二维码\n"
        "· 会议资料、我的会议：请点击下方菜单")
WELCOME = "感谢关注！参会时扫描会场签到二维码即可签到。\n" + HELP


def dispatch(envelope: Envelope, deadline: Deadline | None = None) -> str:
    """Scans of bound attendees never get here (``scan_lane`` answers them); a scan that does is
    someone's first, not bound yet, or a desktop login code's. ``deadline``: the callback's, which
    caps what is asked of WeChat's API on the way."""
    deadline = deadline or Deadline()
    openid = envelope.get("FromUserName")
    msg_type = envelope.get("MsgType")
    scene_text = scene_of(envelope)
    if scene_text is not None:
        scene = parse_scene(scene_text)
        if scene is not None:
            return first_scan(openid, scene, deadline)
        token = parse_login_scene(scene_text)
        return login_scan.answer(openid, token, deadline) if token is not None else NOT_A_MEETING_CODE
    if msg_type == "event":
        event = envelope.get("Event").lower()
        key = envelope.get("EventKey")
        if event == "subscribe":
            return WELCOME
        if event == "templatesendjobfinish":  # WeChat's delivery report of a template message (催签)
            # A notice's message or a reminder's: the notice's deliveries are asked first, as the
            # reminders' side keeps an unknown msgid's report for a send not yet committed.
            if deliveries.record_wechat_report(envelope.get("MsgID"), envelope.get("Status")) is None:
                record_delivery_report(openid, envelope.get("MsgID"), envelope.get("Status"))
            return ""
        if event == "click":
            return organizer_answer(openid, click_key=key) or HELP
        return ""  # unsubscribe, VIEW, TEMPLATESENDJOBFINISH…: nothing to say
    if msg_type == "text":
        return organizer_answer(openid, text=envelope.get("Content")) or HELP
    return HELP

