"""Mini-program server APIs: /sns/jscode2session and /wxa/getwxacodeunlimit.

A real 小程序码 is a round "sunflower" code; the simulator draws a standard QR
code instead so tests and the phone can read it. Its content is
``wxacode_payload()``:

    https://mp.weixin.qq.com/a/~<percent-encoded scene>?appid=<mp appid>&page=<page>&env_version=<env>

(page is empty for the home page). Width is clamped to 280-1280 px as WeChat does.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from flask import Blueprint, Response, g, jsonify, request

from scripts.wechat_sim.context import json_body, requires_token, sim_state
from scripts.wechat_sim.errors import SimError
from scripts.wechat_sim.images import qr_png

bp = Blueprint("sim_wxa", __name__)

SCENE_RE = re.compile(r"^[0-9A-Za-z!#$&'()*+,/:;=?@\-._~]{1,32}$")
ENV_VERSIONS = ("release", "trial", "develop")
PAYLOAD_PREFIX = "https://mp.weixin.qq.com/a/~"


def wxacode_payload(app_id: str, scene: str, page: str | None, env_version: str = "release") -> str:
    return (f"{PAYLOAD_PREFIX}{quote(scene, safe='')}?appid={app_id}"
            f"&page={quote(page or '', safe='/')}&env_version={env_version}")


def parse_wxacode_payload(text: str) -> dict[str, str] | None:
    """{"appid", "scene", "page", "env_version"} from a decoded simulator wxacode, else None."""
    if not text.startswith(PAYLOAD_PREFIX):
        return None
    parts = urlsplit(text)
    query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    return {"appid": query.get("appid", ""), "scene": unquote(parts.path.split("~", 1)[1]),
            "page": query.get("page", ""), "env_version": query.get("env_version", "release")}


@bp.get("/sns/jscode2session")
def jscode2session() -> Response:
    state = sim_state()
    args = request.args
    with state.lock:
        account = state.accounts.get(args.get("appid", ""))
        if account is None or account.kind != "mp":
            raise SimError(40013)
        if args.get("secret") != account.secret:
            raise SimError(40125)
        if args.get("grant_type") != "authorization_code":
            raise SimError(40002)
        js_code = args.get("js_code", "")
        if not js_code:
            raise SimError(41008)
        code = state.codes.get(js_code)
        now = state.clock()
        if code is None or code.kind != "login" or code.app_id != account.app_id or now >= code.expires_at:
            raise SimError(40029)
        user = state.get_user(code.openid)
        assert user is not None
        while user.login_calls and now - user.login_calls[0] >= 60:
            user.login_calls.popleft()
        if len(user.login_calls) >= state.config.jscode2session_per_minute:
            raise SimError(45011)
        user.login_calls.append(now)
        if user.risky:
            raise SimError(40226)
        state.redeem_code("login", js_code, account.app_id)
        answer: dict[str, Any] = {"openid": user.mp_openid, "session_key": user.session_key}
        if user.unionid:
            answer["unionid"] = user.unionid
        return jsonify(answer)


@bp.post("/wxa/getwxacodeunlimit")
@requires_token("mp")
def getwxacodeunlimit() -> Response:
    state = sim_state()
    body = json_body()
    scene = body.get("scene")
    if not isinstance(scene, str) or not SCENE_RE.match(scene):
        raise SimError(40169)
    page = body.get("page") or None
    if page is not None:
        if not isinstance(page, str) or page.startswith("/") or "?" in page:
            raise SimError(41030)
        if body.get("check_path", True) not in (False, "false") and page not in state.config.mp_pages:
            raise SimError(41030)
    env_version = body.get("env_version", "release")
    if env_version not in ENV_VERSIONS:
        raise SimError(40097)
    try:
        width = int(body.get("width", 430))
    except (TypeError, ValueError) as exc:
        raise SimError(47001) from exc
    width = min(max(width, 280), 1280)
    payload = wxacode_payload(g.sim_app_id, scene, page, env_version)
    return Response(qr_png(payload, width), mimetype="image/png")


