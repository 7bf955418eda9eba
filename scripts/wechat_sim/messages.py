"""Messages the account sends: template, customer-service, subscribe; media upload.

Each delivered message lands in the user's inbox (what the phone shows).
Template sends need a subscribed user (43004) and dedupe on client_msg_id per
openid for 10 minutes (the repeat answers the first msgid and delivers nothing).
Customer-service messages need an interaction within 48 hours (45015).
Subscribe messages need a one-shot subscription the user accepted (43101).
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, jsonify, request

from scripts.wechat_sim.context import current_sim, json_body, requires_token, sim_state
from scripts.wechat_sim.errors import SimError, ok

bp = Blueprint("sim_messages", __name__)

MEDIA_TYPES = {"image", "voice", "video", "thumb"}
CUSTOM_TYPES = {"text", "image", "voice", "video", "music", "news", "mpnews", "mpnewsarticle", "msgmenu",
                "wxcard", "miniprogrampage", "link"}


#: What WeChat shows of a template message since 2023 (research notes §7): ``first`` and ``remark``
#: are dropped, and a category keyword longer than its type allows is cut.
TEMPLATE_DROPPED = ("first", "remark")
TEMPLATE_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10}


def _shown(data: dict[str, Any]) -> dict[str, str]:
    """The template message as the phone displays it: field → the text shown."""
    shown = {}
    for key, item in data.items():
        if key in TEMPLATE_DROPPED:
            continue
        value = str(item["value"])
        limit = TEMPLATE_LIMITS.get(key.rstrip("0123456789"))
        shown[key] = value[:limit] if limit else value
    return shown


def _data(body: dict[str, Any]) -> dict[str, Any]:
    data = body.get("data")
    if not isinstance(data, dict) or not data:
        raise SimError(47003)
    for key, item in data.items():
        if not isinstance(item, dict) or "value" not in item:
            raise SimError(47003, f"argument invalid! data.{key}.value invalid")
    return data


@bp.post("/cgi-bin/message/template/send")
@requires_token("oa")
def template_send() -> Response:
    sim = current_sim()
    state = sim.state
    body = json_body()
    touser = str(body.get("touser", ""))
    template_id = body.get("template_id")
    with state.lock:
        if touser in state.template_failures:
            raise SimError(state.template_failures[touser])
        user = state.oa_user(touser)
        allowed = state.config.template_ids
        if not template_id or (allowed is not None and template_id not in allowed):
            raise SimError(40037)
        data = _data(body)
        if not user.subscribed:
            raise SimError(43004)
        now = state.clock()
        client_msg_id = body.get("client_msg_id")
        if client_msg_id:
            prior = state.template_dedupe.get((touser, str(client_msg_id)))
            if prior and now - prior[1] < state.config.client_msg_id_ttl:
                return ok(msgid=prior[0])
        msgid = state.new_msgid()
        if client_msg_id:
            state.template_dedupe[(touser, str(client_msg_id))] = (msgid, now)
        # If both are given the mini program wins (WeChat opens it instead of the url).
        state.deliver(user, "template", msgtype="template", template_id=template_id, data=data, shown=_shown(data),
                      url=body.get("url"), miniprogram=body.get("miniprogram"), msgid=msgid)
        status = state.template_status.get(touser, "success")
    if state.config.template_job_finish_events:
        sim.phone.post_later(state.config.template_job_finish_delay, user.oa_openid, "event", {
            "Event": "TEMPLATESENDJOBFINISH", "MsgID": str(msgid), "Status": status})
    return ok(msgid=msgid)


@bp.post("/cgi-bin/message/custom/send")
@requires_token("oa")
def custom_send() -> Response:
    state = sim_state()
    body = json_body()
    with state.lock:
        user = state.oa_user(str(body.get("touser", "")))
        msgtype = body.get("msgtype")
        if msgtype not in CUSTOM_TYPES:
            raise SimError(40008, "invalid message type")
        payload = body.get(msgtype)
        if not isinstance(payload, dict):
            raise SimError(47001)
        if msgtype == "text" and not str(payload.get("content", "")).strip():
            raise SimError(44003, "empty content")
        if not user.subscribed:
            raise SimError(43004)
        last = user.last_interaction
        if last is None or state.clock() - last > state.config.custom_window:
            raise SimError(45015)
        entry: dict[str, Any] = {"msgtype": msgtype}
        if msgtype == "text":
            entry["content"] = payload["content"]
        else:
            entry[msgtype] = payload
        state.deliver(user, "custom", **entry)
    return ok()


@bp.post("/cgi-bin/media/upload")
@requires_token(None)
def media_upload() -> Response:
    state = sim_state()
    media_type = request.args.get("type", "")
    if media_type not in MEDIA_TYPES:
        raise SimError(40004, "invalid media type")
    upload = request.files.get("media")
    if upload is None:
        raise SimError(41005, "media data missing")
    media_id = secrets.token_urlsafe(48)
    now = int(state.clock())
    with state.lock:
        state.media[media_id] = (media_type, upload.read())
    return jsonify({"type": media_type, "media_id": media_id, "created_at": now})


@bp.post("/cgi-bin/message/subscribe/send")
@requires_token("mp")
def subscribe_send() -> Response:
    state = sim_state()
    body = json_body()
    touser = str(body.get("touser", ""))
    with state.lock:
        user = state.get_user(touser)
        if user is None or user.mp_openid != touser:
            raise SimError(40003)
        template_id = str(body.get("template_id") or "")
        if not template_id:
            raise SimError(40037)
        data = _data(body)
        if body.get("miniprogram_state", "formal") not in ("developer", "trial", "formal"):
            raise SimError(40097)
        page = body.get("page")
        if page and (str(page).startswith("/") or str(page).split("?")[0] not in state.config.mp_pages):
            raise SimError(41030)
        if user.subscribe_quota[template_id] <= 0:
            raise SimError(43101)
        user.subscribe_quota[template_id] -= 1
        msgid = state.new_msgid()
        state.deliver(user, "subscribe", msgtype="subscribe", template_id=template_id, data=data,
                      page=page, msgid=msgid)
    return ok(msgid=msgid)
