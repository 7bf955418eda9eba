"""User tags: create/get/update/delete, batch (un)tagging and lookups.

Limits as WeChat: name <= 30 characters and unique, <= 100 tags per account,
<= 50 openids per batch, <= 20 tags per user; tags 0/1/2 are reserved.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify

from scripts.wechat_sim.context import json_body, requires_token, sim_state
from scripts.wechat_sim.errors import SimError, ok
from scripts.wechat_sim.state import SimState, SimUser, Tag

bp = Blueprint("sim_tags", __name__)

RESERVED = {0, 1, 2}


def _tag_fields(body: dict[str, Any]) -> dict[str, Any]:
    tag = body.get("tag")
    if not isinstance(tag, dict):
        raise SimError(47001)
    return tag


def _check_name(state: SimState, name: Any, exclude: int | None = None) -> str:
    if not isinstance(name, str) or not name.strip():
        raise SimError(45157)
    if len(name) > 30:
        raise SimError(45158)
    if any(t.name == name and t.id != exclude for t in state.tags.values()):
        raise SimError(45157)
    return name


def _tag_id(state: SimState, raw: Any) -> int:
    try:
        tag_id = int(raw)
    except (TypeError, ValueError) as exc:
        raise SimError(45159) from exc
    if tag_id not in state.tags:
        raise SimError(45159)
    return tag_id


@bp.post("/cgi-bin/tags/create")
@requires_token("oa")
def create() -> Response:
    state = sim_state()
    fields = _tag_fields(json_body())
    with state.lock:
        name = _check_name(state, fields.get("name"))
        if sum(1 for t in state.tags if t not in RESERVED) >= 100:
            raise SimError(45056)
        tag = Tag(state.next_tag_id, name)
        state.next_tag_id += 1
        state.tags[tag.id] = tag
        return jsonify({"tag": {"id": tag.id, "name": tag.name}})


@bp.get("/cgi-bin/tags/get")
@requires_token("oa")
def get() -> Response:
    state = sim_state()
    with state.lock:
        tags = [{"id": t.id, "name": t.name, "count": sum(1 for u in state.users if t.id in u.tags)}
                for t in state.tags.values()]
        return jsonify({"tags": tags})


@bp.post("/cgi-bin/tags/update")
@requires_token("oa")
def update() -> Response:
    state = sim_state()
    fields = _tag_fields(json_body())
    with state.lock:
        if fields.get("id") in RESERVED or str(fields.get("id")) in {"0", "1", "2"}:
            raise SimError(45058)
        tag_id = _tag_id(state, fields.get("id"))
        state.tags[tag_id].name = _check_name(state, fields.get("name"), exclude=tag_id)
    return ok()


@bp.post("/cgi-bin/tags/delete")
@requires_token("oa")
def delete() -> Response:
    state = sim_state()
    fields = _tag_fields(json_body())
    with state.lock:
        if str(fields.get("id")) in {"0", "1", "2"}:
            raise SimError(45058)
        tag_id = _tag_id(state, fields.get("id"))
        del state.tags[tag_id]
        for user in state.users:
            if tag_id in user.tags:
                user.tags.remove(tag_id)
    return ok()


def _batch(state: SimState, body: dict[str, Any]) -> tuple[int, list[SimUser]]:
    openids = body.get("openid_list")
    if not isinstance(openids, list) or not 1 <= len(openids) <= 50:
        raise SimError(40032)
    tag_id = _tag_id(state, body.get("tagid"))
    return tag_id, [state.oa_user(str(o)) for o in openids]


@bp.post("/cgi-bin/tags/members/batchtagging")
@requires_token("oa")
def batch_tagging() -> Response:
    state = sim_state()
    body = json_body()
    with state.lock:
        tag_id, users = _batch(state, body)
        if any(tag_id not in u.tags and len(u.tags) >= 20 for u in users):
            raise SimError(45059)
        for user in users:  # all or nothing: validated above
            if tag_id in user.tags:
                user.tags.remove(tag_id)
            user.tags.append(tag_id)  # re-tagging counts as the most recent tag
    return ok()


@bp.post("/cgi-bin/tags/members/batchuntagging")
@requires_token("oa")
def batch_untagging() -> Response:
    state = sim_state()
    body = json_body()
    with state.lock:
        tag_id, users = _batch(state, body)
        for user in users:
            if tag_id in user.tags:
                user.tags.remove(tag_id)
    return ok()


@bp.post("/cgi-bin/tags/getidlist")
@requires_token("oa")
def get_id_list() -> Response:
    state = sim_state()
    body = json_body()
    with state.lock:
        user = state.oa_user(str(body.get("openid", "")))
        return jsonify({"tagid_list": list(user.tags)})


@bp.post("/cgi-bin/user/tag/get")
@requires_token("oa")
def users_of_tag() -> Response:
    state = sim_state()
    body = json_body()
    with state.lock:
        tag_id = _tag_id(state, body.get("tagid"))
        openids = [u.oa_openid for u in state.users if tag_id in u.tags]
        start = body.get("next_openid") or ""
        if start and start in openids:
            openids = openids[openids.index(start) + 1:]
        page = openids[:10000]
        return jsonify({"count": len(page), "data": {"openid": page},
                        "next_openid": page[-1] if page else ""})
