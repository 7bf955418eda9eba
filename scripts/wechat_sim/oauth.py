"""Web OAuth for the official account's H5 pages.

GET /connect/oauth2/authorize plays the WeChat in-app browser: for the current phone
user (cookie set by the phone page, or ?sim_openid=) it redirects to
``redirect_uri?code=CODE&state=STATE``; with no current user it asks which user
you are; snsapi_userinfo shows a consent page first. Codes live 5 minutes and are
single-use (40029 invalid/expired, 40163 used). unionid comes back, as WeChat
documents, only for the snsapi_userinfo scope and only if the user has one.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, jsonify, make_response, redirect, render_template, request

from scripts.wechat_sim.context import sim_state
from scripts.wechat_sim.errors import SimError
from scripts.wechat_sim.state import SimState

bp = Blueprint("sim_oauth", __name__)

COOKIE = "wechat_sim_openid"
SCOPES = ("snsapi_base", "snsapi_userinfo")


def add_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def _error_page(code: int, message: str) -> Response:
    # WeChat shows an error page inside the in-app browser rather than redirecting.
    return make_response(render_template("authorize.html", view="error", code=code, message=message), 400)


@bp.get("/connect/oauth2/authorize")
def authorize() -> Response:
    state = sim_state()
    args = request.args
    if args.get("appid") != state.config.app_id:
        return _error_page(10016, "appid 参数错误")
    redirect_uri = args.get("redirect_uri", "")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return _error_page(10003, "redirect_uri 参数错误")
    domains = state.config.oauth_redirect_domains
    if domains is not None and parts.hostname not in domains:
        return _error_page(10003, "redirect_uri 域名与后台配置不一致")
    if args.get("response_type") != "code":
        return _error_page(10004, "response_type 参数错误")
    scope = args.get("scope", "")
    if scope not in SCOPES:
        return _error_page(10005, "此公众号并没有这些 scope 的权限")

    if args.get("sim_new"):
        user = state.create_user(nickname=(args.get("sim_nickname") or "").strip() or None)
        openid: str | None = user.oa_openid
    else:
        openid = args.get("sim_openid") or request.cookies.get(COOKIE)
    user = state.get_user(openid) if openid else None
    if user is None:
        return make_response(render_template(
            "authorize.html", view="choose", users=list(state.users), add_query=add_query, here=request.url))
    if scope == "snsapi_userinfo" and not args.get("sim_consent"):
        return make_response(render_template(
            "authorize.html", view="consent", user=user, add_query=add_query, here=request.url))
    code = state.mint_code("oauth", user.oa_openid, state.config.app_id, scope)
    response = redirect(add_query(redirect_uri, code=code.code, state=args.get("state", "")))
    if args.get("sim_openid") or args.get("sim_new"):
        response.set_cookie(COOKIE, user.oa_openid, path=(request.script_root or "") + "/", samesite="Lax")
    return response


def _check_app(state: SimState, appid: str | None, secret: str | None) -> None:
    account = state.accounts.get(appid or "")
    if account is None or account.kind != "oa":
        raise SimError(40013)
    if secret != account.secret:
        raise SimError(40125)


@bp.get("/sns/oauth2/access_token")
def access_token() -> Response:
    state = sim_state()
    args = request.args
    with state.lock:
        _check_app(state, args.get("appid"), args.get("secret"))
        if args.get("grant_type") != "authorization_code":
            raise SimError(40002)
        if not args.get("code"):
            raise SimError(41008)
        code = state.redeem_code("oauth", str(args["code"]), str(args["appid"]))
        user = state.get_user(code.openid)
        assert user is not None
        token = secrets.token_urlsafe(64)
        state.sns_tokens[token] = (user.oa_openid, code.scope, state.clock() + 7200)
        answer: dict[str, Any] = {
            "access_token": token, "expires_in": 7200, "refresh_token": secrets.token_urlsafe(64),
            "openid": user.oa_openid, "scope": code.scope,
        }
        if code.scope == "snsapi_userinfo" and user.unionid:
            answer["unionid"] = user.unionid
        return jsonify(answer)


@bp.get("/sns/userinfo")
def userinfo() -> Response:
    state = sim_state()
    with state.lock:
        entry = state.sns_tokens.get(request.args.get("access_token", ""))
        if entry is None or entry[2] <= state.clock():
            raise SimError(40001)
        openid, scope, _expiry = entry
        if scope != "snsapi_userinfo":
            raise SimError(48001, "api unauthorized")
        if request.args.get("openid") != openid:
            raise SimError(40003)
        user = state.get_user(openid)
        assert user is not None
        answer: dict[str, Any] = {"openid": openid, "nickname": user.nickname, "sex": 0, "province": "",
                                  "city": "", "country": "", "headimgurl": "", "privilege": []}
        if user.unionid:
            answer["unionid"] = user.unionid
        return jsonify(answer)
