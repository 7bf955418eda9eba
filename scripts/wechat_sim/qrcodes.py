"""Parametric QR codes: /cgi-bin/qrcode/create and the showqrcode image.

The code's content is a WeChat-like ``http://weixin.qq.com/q/<random>`` URL; the
simulator maps that URL (and the ticket) back to the scene when the phone scans.
expire_seconds defaults to 60 and is capped at 2592000 (30 days), as WeChat does.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request

from scripts.wechat_sim.context import json_body, requires_token, sim_state
from scripts.wechat_sim.errors import SimError
from scripts.wechat_sim.images import qr_png
from scripts.wechat_sim.state import QrCode, SimState, random_id

bp = Blueprint("sim_qrcodes", __name__)

MAX_EXPIRE = 2_592_000
DEFAULT_EXPIRE = 60
TEMPORARY = {"QR_SCENE", "QR_STR_SCENE"}
ACTIONS = TEMPORARY | {"QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"}
_png_cache: dict[str, bytes] = {}


def create_qrcode(state: SimState, body: dict[str, Any]) -> QrCode:
    action = body.get("action_name")
    if action not in ACTIONS:
        raise SimError(40052)
    info = body.get("action_info")
    scene = info.get("scene") if isinstance(info, dict) else None
    scene = scene if isinstance(scene, dict) else {}
    scene_id: int | None = None
    scene_str: str | None = None
    if action.endswith("STR_SCENE"):
        scene_str = scene.get("scene_str")
        if not isinstance(scene_str, str) or not 1 <= len(scene_str) <= 64:
            raise SimError(40053)
    else:
        # A missing scene wrapper is accepted and scans as scene 0 (a WeChat quirk).
        raw_id = scene.get("scene_id", 0)
        try:
            scene_id = int(raw_id)
        except (TypeError, ValueError) as exc:
            raise SimError(40053) from exc
        if "scene_id" in scene:
            top = 100_000 if action == "QR_LIMIT_SCENE" else 2**32 - 1  # temporary: a 32-bit non-zero id
            if not 1 <= scene_id <= top:
                raise SimError(40053)
    now = state.clock()
    expire_at: float | None = None
    if action in TEMPORARY:
        try:
            expire = int(body.get("expire_seconds", DEFAULT_EXPIRE))
        except (TypeError, ValueError) as exc:
            raise SimError(47001) from exc
        expire = DEFAULT_EXPIRE if expire <= 0 else min(expire, MAX_EXPIRE)
        expire_at = now + expire
    with state.lock:
        code = QrCode(
            ticket="gQ" + secrets.token_urlsafe(72),
            url="http://weixin.qq.com/q/02" + random_id("", 22),
            action_name=str(action),
            scene_id=scene_id,
            scene_str=scene_str,
            created_at=now,
            expire_at=expire_at,
        )
        state.qrcodes[code.ticket] = code
        state.qrcodes_by_url[code.url] = code
    return code


@bp.post("/cgi-bin/qrcode/create")
@requires_token("oa")
def qrcode_create() -> Response:
    state = sim_state()
    code = create_qrcode(state, json_body())
    answer: dict[str, Any] = {"ticket": code.ticket, "url": code.url}
    if code.expire_at is not None:
        answer["expire_seconds"] = round(code.expire_at - code.created_at)
    return jsonify(answer)


def qrcode_png(code: QrCode) -> bytes:
    png = _png_cache.get(code.ticket)
    if png is None:
        png = _png_cache[code.ticket] = qr_png(code.url, 430)
    return png


@bp.get("/cgi-bin/showqrcode")
def showqrcode() -> Response:
    # No access token: anyone holding the ticket may fetch the image (real host: mp.weixin.qq.com).
    code = sim_state().qrcodes.get(request.args.get("ticket", ""))
    if code is None:
        abort(404)
    return Response(qrcode_png(code), mimetype="image/png")
