"""Request-time helpers shared by the simulated endpoints."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import current_app, g, request, url_for

from scripts.wechat_sim.errors import SimError
from scripts.wechat_sim.state import AppKind, SimState

if TYPE_CHECKING:
    from scripts.wechat_sim.simulator import Simulator

F = TypeVar("F", bound=Callable[..., Any])
_TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_\-]{20,}$")


def current_sim() -> Simulator:
    return cast("Simulator", current_app.extensions["wechat_sim"])


def sim_state() -> SimState:
    return current_sim().state


def json_body() -> dict[str, Any]:
    """WeChat reads the raw body as JSON whatever the Content-Type says."""
    raw = request.get_data()
    if not raw.strip():
        raise SimError(44002)
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise SimError(47001) from exc
    if not isinstance(data, dict):
        raise SimError(47001)
    return data


def check_access_token(state: SimState, token: str | None, kind: AppKind | None) -> str:
    """Validate an access_token like WeChat; returns the app id it belongs to."""
    if not token:
        raise SimError(41001)
    if not _TOKEN_SHAPE.match(token):
        raise SimError(40014)
    with state.lock:
        issued = state.tokens.get(token)
        if issued is None or issued.revoked:
            raise SimError(40001)
        if state.clock() >= issued.expires_at:
            raise SimError(42001)
        if kind is not None and state.accounts[issued.app_id].kind != kind:
            raise SimError(48001, "api unauthorized")
        return issued.app_id


def requires_token(kind: AppKind | None) -> Callable[[F], F]:
    """Decorator: the view needs a valid access_token of an account of ``kind`` ("oa"/"mp")."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.sim_app_id = check_access_token(sim_state(), request.args.get("access_token"), kind)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def sim_url(endpoint: str, **values: Any) -> str:
    """A link to one of the simulator's pages: relative to the request (so it respects the mount
    prefix, SCRIPT_NAME), or absolute under ``external_base_url`` when that is configured."""
    path = url_for(endpoint, **values)
    base = current_sim().config.external_base_url
    if not base:
        return path
    root = request.script_root or ""
    return base.rstrip("/") + (path[len(root):] if root and path.startswith(root) else path)
