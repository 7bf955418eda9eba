"""/_sim/...: the simulator's own endpoints (not WeChat's) for the phone page, demos and tests."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template, request

from scripts.wechat_sim.context import current_sim, sim_url
from scripts.wechat_sim.menus import match_menu
from scripts.wechat_sim.state import SimUser

bp = Blueprint("sim_control", __name__, url_prefix="/_sim")


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = request.form.to_dict()
    return data if isinstance(data, dict) else {}


def _user_or_404(openid: str) -> SimUser:
    user = current_sim().state.get_user(openid)
    if user is None:
        abort(404)
    return user


def _openid(data: dict[str, Any]) -> str:
    openid = str(data.get("openid") or "")
    if not openid:
        abort(400, "openid is required")
    return openid


@bp.get("/phone")
def phone_page() -> str:
    return render_template("phone.html")


@bp.get("/users")
def list_users() -> Response:
    state = current_sim().state
    with state.lock:
        return jsonify([u.public() for u in state.users])


@bp.post("/users")
def create_user() -> Response:
    data = _body()
    unionid = data.get("unionid")
    try:
        user = current_sim().state.create_user(
            nickname=data.get("nickname") or None,
            oa_openid=data.get("openid") or None,
            mp_openid=data.get("mp_openid") or None,
            unionid=unionid if isinstance(unionid, (str, bool)) else None,
            subscribed=bool(data.get("subscribed", False)),
            risky=bool(data.get("risky", False)),
        )
    except ValueError as exc:
        return jsonify({"error": str(exc)}), 409  # type: ignore[return-value]
    return jsonify(user.public()), 201  # type: ignore[return-value]


@bp.get("/users/<openid>")
def get_user(openid: str) -> Response:
    return jsonify(_user_or_404(openid).public())


@bp.get("/users/<openid>/inbox")
def inbox(openid: str) -> Response:
    user = _user_or_404(openid)
    since = request.args.get("since", type=int) or 0
    with current_sim().state.lock:
        return jsonify([item for item in user.inbox if item["id"] > since])


@bp.get("/qrcodes")
def list_qrcodes() -> Response:
    state = current_sim().state
    now = state.clock()
    with state.lock:
        codes = sorted(state.qrcodes.values(), key=lambda c: c.created_at, reverse=True)
        return jsonify([{
            "ticket": c.ticket, "url": c.url, "scene": c.scene, "action_name": c.action_name,
            "expire_at": c.expire_at, "expired": c.expired(now),
            "image_url": sim_url("sim_qrcodes.showqrcode", ticket=c.ticket),
        } for c in codes])


@bp.get("/menu")
def menu_for() -> Response:
    state = current_sim().state
    user = state.get_user(request.args.get("openid", ""))
    menu = match_menu(state, user) if user else state.default_menu
    return jsonify({"button": menu.button if menu else [], "menuid": menu.menuid if menu else None})


@bp.post("/scan")
def scan() -> Response:
    data = _body()
    png = None
    if data.get("png_base64"):
        try:
            png = base64.b64decode(str(data["png_base64"]))
        except (binascii.Error, ValueError):
            abort(400, "png_base64 is not base64")
    reply = current_sim().phone.scan(_openid(data), ticket=data.get("ticket") or None,
                                     url=data.get("url") or None, png=png)
    return jsonify(reply.public())


@bp.post("/text")
def text() -> Response:
    data = _body()
    return jsonify(current_sim().phone.send_text(_openid(data), str(data.get("content", ""))).public())


@bp.post("/click")
def click() -> Response:
    data = _body()
    return jsonify(current_sim().phone.click_menu(_openid(data), str(data.get("key", ""))).public())


@bp.post("/view")
def view() -> Response:
    data = _body()
    return jsonify(current_sim().phone.view_menu(_openid(data), str(data.get("url", ""))).public())


@bp.post("/subscribe")
def subscribe() -> Response:
    return jsonify(current_sim().phone.subscribe(_openid(_body())).public())


@bp.post("/unsubscribe")
def unsubscribe() -> Response:
    return jsonify(current_sim().phone.unsubscribe(_openid(_body())).public())


@bp.post("/verify")
def verify() -> Response:
    return jsonify({"ok": current_sim().phone.verify_server()})


@bp.post("/mp/login")
def mp_login() -> Response:
    """wx.login() for a mini-program user: {"openid"?} -> {"code"}."""
    data = _body()
    return jsonify({"code": current_sim().phone.mp_login(data.get("openid") or None)})


@bp.post("/mp/subscribe")
def mp_subscribe() -> Response:
    data = _body()
    current_sim().phone.accept_subscribe(_openid(data), str(data.get("template_id", "")),
                                         int(data.get("times", 1)))
    return jsonify({"ok": True})


@bp.post("/template-finish")
def template_finish() -> Response:
    """Post WeChat's delivery report of a template message: {"openid", "msgid", "status"?}."""
    data = _body()
    reply = current_sim().phone.template_job_finish(_openid(data), str(data.get("msgid", "")),
                                                    str(data.get("status") or "success"))
    return jsonify(reply.public())


@bp.get("/counters")
def counters() -> Response:
    state = current_sim().state
    with state.lock:
        return jsonify({
            "token_issued": state.token_issues("token"),
            "stable_token_issued": state.token_issues("stable"),
            "calls": dict(state.calls),
        })


@bp.post("/tokens/invalidate")
def invalidate_tokens() -> Response:
    current_sim().state.invalidate_tokens(_body().get("appid"))
    return jsonify({"ok": True})


@bp.post("/tokens/expire")
def expire_tokens() -> Response:
    current_sim().state.expire_tokens(_body().get("appid"))
    return jsonify({"ok": True})


@bp.post("/errors")
def inject_error() -> Response:
    """{"path": "/cgi-bin/...", "errcode": 45009, "times": 1}: fail the next calls to path."""
    data = _body()
    current_sim().state.inject_error(str(data["path"]), int(data["errcode"]), int(data.get("times", 1)))
    return jsonify({"ok": True})


@bp.post("/clock/advance")
def advance_clock() -> Response:
    clock = current_sim().clock
    if not hasattr(clock, "advance"):
        abort(400, "this simulator's clock cannot be moved")
    clock.advance(float(_body().get("seconds", 0)))
    return jsonify({"now": clock()})
