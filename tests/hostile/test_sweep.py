"""Hostile input on every route of every door finds no 500 (issue 21.4, "Must show").

Every route in the route map (and the WeChat callback's POST, answered in front of Flask) gets, with
the login of the door it belongs to, NUL bytes, 20-digit numbers, 1 MB strings, deep nesting (JSON
100,000 levels; nested and repeated form names), invalid UTF-8 (raw in bodies, percent-encoded in
paths and queries) and wrong types (a list where text is expected), in its path parameters, query,
form and JSON fields. Each field gets a stable sample of the kinds (tests/hostile/sweep.py) and every
kind is sent to every field at once, which keeps the sweep inside a minute on two cores.

``test_the_sweep_catches_a_broken_route`` proves the sweep can fail: a route that turns a form field
into a number without checking it is found, through a field the sweep learnt by itself.
"""

from __future__ import annotations

import logging
import os
import time
from collections import defaultdict

import pytest
from flask import Blueprint, request

from app.services.contacts.units import add_unit_account
from app.services.identity.mp_sessions import issue_token
from app.services.links import make_bind_token
from app.services.live.headcount import screen_key
from app.services.meetings import grants
from app.services.votes.surveys import create_survey
from app.services.votes.votes import create_vote
from app.wechat import crypto
from tests.console.conftest import build_console
from tests.hostile import sweep
from tests.hostile.sweep import Door, Route, Shot


def door_of(rule: str, method: str) -> str:
    if rule.startswith("/admin/login") or rule == "/admin/logout":
        return "anonymous"
    if rule.startswith("/admin"):
        return "console"
    if rule in ("/m/bind", "/m/oauth") or rule.startswith("/m/static"):
        return "bind"
    if rule.startswith("/m/"):
        return "attendee"
    if rule.startswith("/units/") and not rule.startswith("/units/login"):
        return "unit_office"
    if rule.startswith("/screen/"):
        return "screen"
    if rule.startswith("/api/mp/v1/") and rule not in ("/api/mp/v1/session", "/api/mp/v1/openapi.json"):
        return "mp"
    if rule == "/wechat/callback":
        return "wechat"
    return "anonymous"


class World:
    """The data every door needs, built once per test: a meeting with a vote and a survey, its
    organizer (also a system administrator), an invited attendee, a unit office, tokens and keys."""

    def __init__(self, app, factory):
        from app.web.auth import SESSION_KEY
        from app.web.units_office import SESSION_KEY as UNIT_KEY

        data = build_console(factory)
        self.data = data
        code = data.meeting.code
        vote = create_vote(data.meeting, actor=data.owner, title="表决", options=["同意", "反对"])
        survey = create_survey(data.meeting, actor=data.owner, title="问卷",
                               questions=[{"kind": "single", "text": "满意吗", "options": ["是", "否"]}])
        grants.add_system_admin(data.owner.phone, actor="test")
        attendee = factory.identity(data.people[0], oa_openid="o_hostile_attendee", mp_openid="mp_hostile")
        account = add_unit_account(data.unit, "bgs_office", "correct horse battery", actor="test")
        factory.db.session.commit()
        secret = app.config["SECRET_KEY"]
        self.code = code
        bind_token = make_bind_token(secret, oa_openid="o_hostile_newcomer", meeting_code=code, session_position=1)
        self.ids = {"t": bind_token, "vote_id": vote.id, "survey_id": survey.id, "contact_id": data.people[1].id,
                    "invitee_id": 1, "position": 1, "document_id": 1, "import_id": 1, "n": 1, "page": 1,
                    "ids": data.people[1].id, "unit_ids": data.unit.id}
        self.values = {"code": code, "meeting_code": code, "token": "x", "scene": f"m:{code}:1",
                       "filename": "app.css", **{k: str(v) for k, v in self.ids.items()}}
        self.doors = {
            "anonymous": Door("anonymous"),
            "console": Door("console", session={SESSION_KEY: data.identities["owner"].id}),
            "attendee": Door("attendee", session={SESSION_KEY: attendee.id}),
            "bind": Door("bind", query={"t": bind_token}),
            "unit_office": Door("unit_office", session={UNIT_KEY: account.id}),
            "screen": Door("screen", query={"k": screen_key(secret, code)}),
            "mp": Door("mp", headers={"Authorization": f"Bearer {issue_token(secret, attendee.id)[0]}"}),
            "wechat": Door("wechat"),
        }


def _send(app, client, world: World, route: Route, shot: Shot):
    door = world.doors[route.door]
    if getattr(client, "hostile_door", None) != door.name or route.endpoint.endswith("logout"):
        # The door's login, set again only when the door changes (or a logout may have ended it).
        with client.session_transaction() as s:
            s.clear()
            s.update(door.session)
        client.hostile_door = None if route.endpoint.endswith("logout") else door.name
    headers = dict(door.headers) | shot.headers
    headers["Accept"] = "application/json" if shot.accept_json else "text/html,application/xhtml+xml"
    url = shot.url
    if door.query:
        extra = "&".join(f"{k}={v}" for k, v in door.query.items() if f"{k}=" not in url.split("?", 1)[-1])
        if extra:
            url += ("&" if "?" in url else "?") + extra
    kwargs = {"headers": headers, "method": shot.method, "buffered": False}
    if shot.data is not None:
        kwargs["data"] = shot.data
        kwargs["content_type"] = shot.content_type
    response = client.open(url, **kwargs)
    try:
        if response.mimetype == "text/event-stream":  # endless: its first two (retry, numbers) will do
            chunks = iter(response.response)
            body = next(chunks, b"") + next(chunks, b"")
        else:
            body = response.get_data()
    finally:
        response.close()
    return response.status_code, response.content_type or "", body


def _discover(app, client, world: World, routes: list[Route]) -> None:
    """Learn the names each view reads: an empty request, then one with the names found filled in."""
    for _round in range(2):
        for route in routes:
            if route.door == "wechat" or route.endpoint.endswith("static") or route.endpoint.endswith(".events"):
                continue
            base = sweep.url_for_route(route, world.values)
            qs = "&".join(f"{n}={sweep.benign(n, world.ids)}" for n in sorted(route.query))
            url = base + (f"?{qs}" if qs else "")
            tries = [Shot("discover", route.method, url)]
            if route.method != "GET":
                form = "&".join(f"{n}={sweep.benign(n, world.ids)}" for n in sorted(route.form)) or "x=1"
                tries = [Shot("discover", route.method, url, form.encode(), "application/x-www-form-urlencoded"),
                         Shot("discover", route.method, url,
                              sweep._json_body({n: sweep.benign(n, world.ids) for n in route.json} or {"x": 1}),
                              "application/json")]
            for shot in tries:
                record: dict = {}
                token = sweep._RECORD.set(record)
                try:
                    _send(app, client, world, route, shot)
                finally:
                    sweep._RECORD.reset(token)
                route.query |= record.get("args", set())
                route.form |= record.get("form", set())
                route.files |= record.get("files", set())
                route.json |= record.get("json", set())


def _callback_shots(app) -> list[tuple[str, dict, bytes]]:
    """Signed callbacks whose XML carries each hostile kind in each field WeChat sends."""
    def query(nonce):
        ts = str(int(time.time()))
        return {"timestamp": ts, "nonce": nonce, "signature": crypto.signature(app.config["WECHAT_TOKEN"], ts, nonce),
                "openid": "o_hostile"}

    def xml(**fields):
        base = {"ToUserName": "gh_1", "FromUserName": "o_hostile", "CreateTime": str(int(time.time())),
                "MsgType": "event", "Event": "SCAN", "EventKey": "m:CON1:1"}
        base.update(fields)
        return ("<xml>" + "".join(f"<{k}>{v}</{k}>" for k, v in base.items()) + "</xml>").encode()

    out = []
    n = 0
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType", "Event", "EventKey", "Content", "MsgId"):
        extra = {"MsgType": "text", "Content": "你好", "MsgId": "1"} if name in ("Content", "MsgId") else {}
        for kind, value in (("nul", "a&#0;b"), ("digits20", "12345678901234567890"),
                            ("long", "字" * 20_000), ("list", "<a>1</a><a>2</a>"), ("cdata_nul", "<![CDATA[a\x00b]]>"),
                            ("superscript", "²"), ("scene_digits20", "qrscene_m:CON1:12345678901234567890")):
            n += 1
            out.append((f"{name}={kind}", query(f"h{n}"), xml(**(extra | {name: value}))))
        n += 1
        body = xml(**(extra | {name: "PLACEHOLDER"})).replace(b"PLACEHOLDER", b"\xff\xfe\xc3(")
        out.append((f"{name}=bad_utf8", query(f"h{n}"), body))
    n += 1
    out.append(("deep xml", query(f"h{n}"), b"<xml>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</xml>"))
    n += 1
    out.append(("deep xml small", query(f"h{n}"), b"<xml>" + b"<a>" * 5_000 + b"</a>" * 5_000 + b"</xml>"))
    for name, value in (("timestamp", "12345678901234567890"), ("timestamp", "²"), ("nonce", "a\x00b"),
                        ("signature", "字"), ("encrypt_type", "aes"), ("msg_signature", "12345678901234567890")):
        n += 1
        q = query(f"h{n}") | {name: value}
        out.append((f"query {name}", q, xml()))
    return out


#: (seconds, rule, method, shot) of every request, for HOSTILE_TIMES=1.
TIMES: list = []


def run_sweep(app, client, world: World, routes: list[Route], *, per_field: int = 1) -> tuple[list, int]:
    failures, sent = [], 0
    for route in routes:
        if route.door == "wechat":
            continue
        for shot in sweep.shots(route, world.values, world.ids, per_field=per_field):
            t0 = time.monotonic()
            status, content_type, body = _send(app, client, world, route, shot)
            TIMES.append((time.monotonic() - t0, route.rule, route.method, shot.what))
            sent += 1
            for problem in sweep.problems(status, content_type, body):
                failures.append(f"{shot.method} {route.rule} [{route.door}] {shot.what}: {problem}")
    return failures, sent


@pytest.fixture
def world(app, factory, monkeypatch, sim):
    sweep.install_recorders(monkeypatch, app)
    return World(app, factory)


def test_every_route_of_every_door_survives_hostile_input(app, client, world, caplog):
    routes = sweep.routes_of(app, door_of)
    sweep.mp_schema_fields(routes)
    doors = defaultdict(int)
    for route in routes:
        doors[route.door] += 1
    # Every door is in the sweep, and so is every route of the map.
    assert set(doors) == set(world.doors), doors
    assert len(routes) >= sum(len(r.methods - {"HEAD", "OPTIONS"}) for r in app.url_map.iter_rules())

    started, cpu = time.monotonic(), time.process_time()
    _discover(app, client, world, routes)
    discovered = time.monotonic() - started
    learnt = sum(len(r.query | r.form | r.json) for r in routes)
    assert learnt >= 60, "discovery found too few fields: the recorders are not recording"
    # Fields the views are known to read were found by discovery (not listed by hand).
    by_endpoint = {(r.endpoint, r.method): r for r in routes}
    assert {"unit_text", "name", "phone", "t"} <= by_endpoint[("attendee.bind_submit", "POST")].form
    assert "contact_id" in by_endpoint[("console.proxy_signin", "POST")].json
    assert {"page", "per_page"} <= by_endpoint[("mp_api.my_history", "GET")].query

    # HOSTILE_FULL=1: every kind in every field alone too (the whole cross product, minutes).
    failures, sent = run_sweep(app, client, world, routes,
                               per_field=len(sweep.KINDS) if os.environ.get("HOSTILE_FULL") else 1)

    # The callback: signed, hostile in every XML field and query parameter.
    caplog.set_level(logging.ERROR, logger="wechat_handlers")
    for what, query, body in _callback_shots(app):
        res = client.post("/wechat/callback", query_string=query, data=body)
        sent += 1
        for problem in sweep.problems(res.status_code, res.content_type or "", res.data):
            failures.append(f"POST /wechat/callback {what}: {problem}")
    for record in caplog.records:
        if record.exc_info and record.name.startswith("wechat_handlers"):
            failures.append(f"POST /wechat/callback: a handler raised {record.exc_info[0].__name__} "
                            f"({record.getMessage()}), answered as busy")
    elapsed = time.monotonic() - started
    if os.environ.get("HOSTILE_TIMES"):  # where the time goes, to keep the sweep inside a minute
        by_kind = defaultdict(float)
        by_route = defaultdict(float)
        for t, rule, method, what in TIMES:
            by_kind[what.split("=")[-1] if "=" in what else what] += t
            by_route[(rule, method)] += t
        print(sorted(by_kind.items(), key=lambda kv: -kv[1])[:20])
        print(sorted(by_route.items(), key=lambda kv: -kv[1])[:25])
        print(sorted(TIMES, reverse=True)[:30])
    print(f"\nhostile sweep: {len(routes)} routes, {learnt} fields, {sent} requests in {elapsed:.1f}s, "
          f"{time.process_time() - cpu:.1f}s of CPU "
          f"(discovery {discovered:.1f}s)")
    assert failures == [], "\n".join(failures[:80]) + f"\n({len(failures)} in all)"


def test_the_sweep_catches_a_broken_route(app_ctx, factory, monkeypatch):
    """A view that trusts a form field to be a number (500 on anything else) is caught, through a
    field the sweep learnt by itself; so is a JSON error without the stable shape."""
    from app.factory import create_app

    broken = Blueprint("broken", __name__)

    @broken.post("/m/<meeting_code>/broken")
    def trusting(meeting_code):
        return {"sum": int(request.form.get("amount", "0")) + 1}

    @broken.get("/m/<meeting_code>/shapeless")
    def shapeless(meeting_code):
        return {"oops": request.args.get("q", "")}, 400

    other = create_app(dict(app_ctx_config(), TESTING=True))
    other.register_blueprint(broken)
    sweep.install_recorders(monkeypatch, other)
    world = World(other, factory)
    routes = [r for r in sweep.routes_of(other, door_of) if r.endpoint.startswith("broken.")]
    client = other.test_client()
    _discover(other, client, world, routes)
    assert "amount" in routes[0].form
    failures, _sent = run_sweep(other, client, world, routes, per_field=len(sweep.KINDS))
    assert any("/broken" in f and "form" in f and "status 500" in f for f in failures), failures
    assert any("/shapeless" in f and "stable shape" in f for f in failures), failures


def app_ctx_config() -> dict:
    from flask import current_app

    keep = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "WTF_CSRF_ENABLED", "GROUP_COMMIT", "PUBLIC_BASE_URL",
            "STORAGE_DIR", "WECHAT_API_BASE_URL")
    return {k: current_app.config[k] for k in keep}
