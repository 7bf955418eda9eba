"""Custom menus, with WeChat's validation, conditional (per-tag) menus and trymatch.

Limits: 1-3 top buttons, 1-5 sub buttons, names <= 16 bytes (top) / 60 bytes (sub),
key <= 128 bytes, url <= 1024 bytes, at most 3 URL domains. A conditional menu
needs a default menu; deleting the default deletes all of them. Only tag_id and
client_platform_type match rules remain (sex/region/language give 65320).
Matching: the newest conditional menu whose rule fits the user, else the default.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify

from scripts.wechat_sim.context import json_body, requires_token, sim_state
from scripts.wechat_sim.errors import SimError, ok
from scripts.wechat_sim.state import Menu, SimState, SimUser

bp = Blueprint("sim_menus", __name__)

KEY_TYPES = {"click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
             "pic_weixin", "location_select"}
LEAF_FIELDS: dict[str, tuple[str, ...]] = {
    **{t: ("key",) for t in KEY_TYPES},
    "view": ("url",),
    "miniprogram": ("url", "appid", "pagepath"),
    "media_id": ("media_id",),
    "view_limited": ("media_id",),
    "article_id": ("article_id",),
    "article_view_limited": ("article_id",),
}
RETIRED_RULES = {"sex", "country", "province", "city", "language", "group_id_legacy"}


def _nbytes(value: Any) -> int:
    return len(str(value).encode("utf-8"))


def _check_leaf(button: dict[str, Any], top: bool, domains: set[str]) -> None:
    kind = button.get("type")
    if not kind:
        raise SimError(65308)
    if kind not in LEAF_FIELDS:
        raise SimError(40017 if top else 40024)
    for name in LEAF_FIELDS[kind]:
        value = button.get(name)
        if not isinstance(value, str) or not value:
            if name == "key":
                raise SimError(40019 if top else 40026)
            if name == "url":
                raise SimError(40020 if top else 40027)
            raise SimError(40097)
        if name == "key" and _nbytes(value) > 128:
            raise SimError(40019 if top else 40026)
        if name == "url":
            if _nbytes(value) > 1024:
                raise SimError(40020 if top else 40027)
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise SimError(65317)
            if kind == "view":
                domains.add(parts.hostname or "")


def _check_name(button: dict[str, Any], top: bool) -> None:
    name = button.get("name")
    if not isinstance(name, str) or not name or _nbytes(name) > (16 if top else 60):
        raise SimError(40018 if top else 40025)


def validate_buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    buttons = body.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
        raise SimError(40016)
    domains: set[str] = set()
    result: list[dict[str, Any]] = []
    for button in buttons:
        if not isinstance(button, dict):
            raise SimError(47001)
        _check_name(button, top=True)
        subs = button.get("sub_button")
        if isinstance(subs, dict):  # WeChat also accepts {"list": [...]} in some shapes
            subs = subs.get("list")
        if subs:
            if not isinstance(subs, list) or len(subs) > 5:
                raise SimError(40023)
            clean_subs = []
            for sub in subs:
                if not isinstance(sub, dict):
                    raise SimError(47001)
                _check_name(sub, top=False)
                _check_leaf(sub, top=False, domains=domains)
                clean_subs.append({**copy.deepcopy(sub), "sub_button": []})
            result.append({"name": button["name"], "sub_button": clean_subs})
        else:
            _check_leaf(button, top=True, domains=domains)
            result.append({**copy.deepcopy(button), "sub_button": []})
    if len(domains) > 3:
        raise SimError(65316)
    return result


def validate_matchrule(state: SimState, rule: Any) -> dict[str, str]:
    if not isinstance(rule, dict):
        raise SimError(65304)
    given = {k: str(v) for k, v in rule.items() if v not in (None, "")}
    if any(k in RETIRED_RULES for k in given):
        raise SimError(65320)
    if "group_id" in given:  # the old name of tag_id
        given["tag_id"] = given.pop("group_id")
    given = {k: v for k, v in given.items() if k in ("tag_id", "client_platform_type")}
    if not given:
        raise SimError(65304)
    if "tag_id" in given and (not given["tag_id"].isdigit() or int(given["tag_id"]) not in state.tags):
        raise SimError(45159)
    if "client_platform_type" in given and given["client_platform_type"] not in ("1", "2", "3"):
        raise SimError(40097)
    return given


def match_menu(state: SimState, user: SimUser) -> Menu | None:
    """The menu ``user`` sees: the newest fitting conditional menu, else the default."""
    with state.lock:
        for menu in reversed(state.conditional_menus):
            rule = menu.matchrule or {}
            if "tag_id" in rule and int(rule["tag_id"]) not in user.tags:
                continue
            if "client_platform_type" in rule and rule["client_platform_type"] != user.platform:
                continue
            return menu
        return state.default_menu


@bp.post("/cgi-bin/menu/create")
@requires_token("oa")
def create() -> Response:
    state = sim_state()
    buttons = validate_buttons(json_body())
    with state.lock:
        state.default_menu = Menu(state.next_menuid, buttons)
        state.next_menuid += 1
    return ok()


@bp.get("/cgi-bin/menu/get")
@requires_token("oa")
def get() -> Response:
    state = sim_state()
    with state.lock:
        if state.default_menu is None:
            raise SimError(46003)
        answer: dict[str, Any] = {
            "menu": {"button": copy.deepcopy(state.default_menu.button), "menuid": state.default_menu.menuid}
        }
        if state.conditional_menus:
            answer["conditionalmenu"] = [
                {"button": copy.deepcopy(m.button), "matchrule": dict(m.matchrule or {}), "menuid": m.menuid}
                for m in state.conditional_menus
            ]
        return jsonify(answer)


@bp.get("/cgi-bin/menu/delete")
@requires_token("oa")
def delete() -> Response:
    state = sim_state()
    with state.lock:
        state.default_menu = None
        state.conditional_menus.clear()  # deleting the default menu deletes conditional ones
    return ok()


@bp.post("/cgi-bin/menu/addconditional")
@requires_token("oa")
def add_conditional() -> Response:
    state = sim_state()
    body = json_body()
    buttons = validate_buttons(body)
    with state.lock:
        if state.default_menu is None:
            raise SimError(65303)
        rule = validate_matchrule(state, body.get("matchrule"))
        menu = Menu(state.next_menuid, buttons, rule)
        state.next_menuid += 1
        state.conditional_menus.append(menu)
        return jsonify({"menuid": str(menu.menuid)})


@bp.post("/cgi-bin/menu/delconditional")
@requires_token("oa")
def del_conditional() -> Response:
    state = sim_state()
    menuid = str(json_body().get("menuid", ""))
    with state.lock:
        for menu in state.conditional_menus:
            if str(menu.menuid) == menuid:
                state.conditional_menus.remove(menu)
                return ok()
    raise SimError(65301)


@bp.post("/cgi-bin/menu/trymatch")
@requires_token("oa")
def try_match() -> Response:
    state = sim_state()
    user_id = str(json_body().get("user_id", ""))
    with state.lock:
        user = state.get_user(user_id)
        if user is None or user.oa_openid != user_id:
            raise SimError(65302)
        menu = match_menu(state, user)
        if menu is None:
            raise SimError(46003)
        return jsonify({"button": copy.deepcopy(menu.button)})
