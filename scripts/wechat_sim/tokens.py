"""/cgi-bin/token and /cgi-bin/stable_token, with WeChat's lifetimes and limits.

- /cgi-bin/token always issues a new token; the previous one keeps working for a
  5-minute grace period, then dies.
- /cgi-bin/stable_token is idempotent in normal mode (the same token until 5
  minutes before expiry); force_refresh=true kills the old one, at most 20 times a
  day and 30 s apart. The two endpoints' tokens are independent of each other.
"""

from __future__ import annotations

import secrets
import time

from flask import Blueprint, Response, jsonify, request

from scripts.wechat_sim.context import json_body, sim_state
from scripts.wechat_sim.errors import SimError
from scripts.wechat_sim.state import IssuedToken, SimState, TokenSource

bp = Blueprint("sim_tokens", __name__)

DAY = 86400


def _check_app(state: SimState, app_id: str | None, secret: str | None) -> None:
    if not app_id:
        raise SimError(41002)
    account = state.accounts.get(app_id)
    if account is None:
        raise SimError(40013)
    if not secret:
        raise SimError(41004)
    if secret != account.secret:
        raise SimError(40125)


def _issue(state: SimState, app_id: str, source: TokenSource) -> IssuedToken:
    now = state.clock()
    tok = IssuedToken(secrets.token_urlsafe(96), app_id, source, now + state.config.token_lifetime)
    state.tokens[tok.token] = tok
    state.current_token[(app_id, source)] = tok
    state.issued[(source, app_id)] += 1
    state.issue_times[(source, app_id)].append(now)
    return tok


def _answer(state: SimState, tok: IssuedToken) -> Response:
    return jsonify({"access_token": tok.token, "expires_in": max(0, round(tok.expires_at - state.clock()))})


def _slow_down() -> None:
    latency = sim_state().config.token_latency
    if latency:
        time.sleep(latency)  # outside the lock: lets tests see concurrent callers overlap


@bp.get("/cgi-bin/token")
def token() -> Response:
    _slow_down()
    state = sim_state()
    args = request.args
    with state.lock:
        if args.get("grant_type") != "client_credential":
            raise SimError(40002)
        _check_app(state, args.get("appid"), args.get("secret"))
        app_id = str(args["appid"])
        now = state.clock()
        recent = [t for t in state.issue_times[("token", app_id)] if now - t < DAY]
        if len(recent) >= state.config.token_daily_limit:
            raise SimError(45009)
        previous = state.current_token.get((app_id, "token"))
        if previous is not None:
            previous.expires_at = min(previous.expires_at, now + state.config.token_grace)
        return _answer(state, _issue(state, app_id, "token"))


@bp.post("/cgi-bin/stable_token")
def stable_token() -> Response:
    _slow_down()
    state = sim_state()
    body = json_body()
    with state.lock:
        if body.get("grant_type") != "client_credential":
            raise SimError(40002)
        _check_app(state, body.get("appid"), body.get("secret"))
        app_id = str(body["appid"])
        now = state.clock()
        current = state.current_token.get((app_id, "stable"))
        if body.get("force_refresh") in (True, "true", 1):
            times = [t for t in state.force_refresh_times[app_id] if now - t < DAY]
            state.force_refresh_times[app_id] = times
            if len(times) >= state.config.stable_force_refresh_per_day:
                raise SimError(45009)
            if times and now - times[-1] < state.config.stable_force_refresh_interval:
                raise SimError(45011)
            times.append(now)
            if current is not None:
                current.revoked = True
            return _answer(state, _issue(state, app_id, "stable"))
        usable = (
            current is not None
            and not current.revoked
            and current.expires_at - now > state.config.stable_renew_before
        )
        if usable:
            assert current is not None
            return _answer(state, current)
        return _answer(state, _issue(state, app_id, "stable"))
