"""The mini-program API end to end through the simulator: log in, bind, sign in, history."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services.codes.scenes import make_mp_scene, make_scene
from models import SignIn, SignInDenial, WechatIdentity
from tests.mp.conftest import API, bearer, mp_log_in, token_for

ZHANG = {"unit": "发改局", "name": "张三", "phone": "138 0013 8000"}


def test_login_bind_sign_in_by_code_history_then_official_account_scan(app, client, db, sim, people):
    meeting = people["meeting"]
    user = sim.state.create_user(oa_openid="oa-zhang", mp_openid="mp-zhang")
    assert user.unionid  # one open platform: the two openids share a unionid

    session = mp_log_in(client, sim, "mp-zhang")
    assert session["bound"] is False and session["expires_in"] > 0
    assert user.session_key not in str(session) and "session_key" not in session
    auth = bearer(session["token"])

    res = client.post(f"{API}/identity/bind", json=ZHANG, headers=auth)
    assert res.status_code == 200, res.json
    assert res.json == {"bound": True, "contact": {"name": "张三", "unit": "区发展和改革局",
                                                    "phone_masked": "138****8000"}}

    scene = make_mp_scene(meeting.code, meeting.id, 1)
    assert len(scene) <= 32
    found = client.get(f"{API}/meetings/by-scene/{scene}", headers=auth)
    assert found.status_code == 200
    assert found.json["session_position"] == 1
    detail = found.json["meeting"]
    assert detail["title"] == "全区经济工作会议" and detail["venue"] == "区政府三楼大会议室"
    assert detail["agenda"] == [{"time": "09:00", "title": "开会", "speaker": "王主任"}]
    assert detail["my_status"] == "invited" and detail["sessions"][0]["my_state"] == "can_sign_in"

    res = client.post(f"{API}/meetings/{meeting.code}/signin", json={"session": 1, "nonce": "n-first-0001"},
                      headers=auth)
    assert res.status_code == 200, res.json
    assert res.json["status"] == "signed_in" and res.json["seq"] == 1
    assert res.json["message"].startswith("签到成功！您是第 1 位签到")
    record = db.session.scalar(select(SignIn))
    assert (record.method, record.nonce) == ("mp", "n-first-0001")

    history = client.get(f"{API}/me/history", headers=auth).json
    assert history["total"] == 1
    assert history["items"][0]["meeting"]["code"] == meeting.code
    assert history["items"][0]["my_status"] == "signed_in" and history["items"][0]["sessions_signed"] == 1

    # Scanning the official-account QR code recognises them: the callback asks WeChat for this
    # follower's unionid (/cgi-bin/user/info) and finds the identity bound in the mini program.
    user.subscribed = True  # a SCAN event comes from someone who already follows the account
    reply = sim.phone.post_event("oa-zhang", [("Event", "SCAN"), ("EventKey", make_scene(meeting.code, 1))])
    assert reply.text.startswith("您已签到，无需重复扫码。张三（区发展和改革局）"), reply.text
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
    identity = db.session.scalar(select(WechatIdentity))
    assert (identity.oa_openid, identity.mp_openid) == ("oa-zhang", user.mp_openid)
    assert db.session.scalar(select(func.count()).select_from(WechatIdentity)) == 1


def test_bound_official_account_user_needs_no_binding_in_the_mini_program(client, db, sim, people, factory):
    """The other direction: bound through the official account first, then the mini program."""
    sim.state.create_user(oa_openid="oa-zhang2", mp_openid="mp-zhang2", unionid="union-zhang2")
    factory.identity(people["zhang"], oa_openid="oa-zhang2", unionid="union-zhang2")
    session = mp_log_in(client, sim, "mp-zhang2")
    assert session["bound"] is True
    assert client.get(f"{API}/me", headers=bearer(session["token"])).json["contact"]["name"] == "张三"


def test_wechat_errors_become_our_codes(client, db, sim):
    def login(code):
        res = client.post(f"{API}/session", json={"code": code})
        return res.status_code, res.json["error"]["code"]

    assert login("not-a-real-code") == (401, "code_invalid")
    code = sim.phone.mp_login("mp-once")
    assert client.post(f"{API}/session", json={"code": code}).status_code == 200
    assert login(code) == (401, "code_invalid")  # 40163: already used
    sim.state.inject_error("/sns/jscode2session", 45011)
    assert login(sim.phone.mp_login("mp-quota")) == (429, "rate_limited")
    sim.state.create_user(mp_openid="mp-risky", risky=True)
    assert login(sim.phone.mp_login("mp-risky")) == (403, "risky_user")
    sim.state.inject_error("/sns/jscode2session", 40013)
    assert login(sim.phone.mp_login("mp-conf")) == (503, "wechat_unavailable")


def test_tokens_missing_malformed_forged_expired(app, client, db, factory):
    identity = factory.identity(mp_openid="mp-t", oa_openid=None)
    good = token_for(app, identity)
    assert client.get(f"{API}/me", headers=bearer(good)).status_code == 200
    cases = {
        None: "unauthorized",
        "Basic abc": "unauthorized",
        "Bearer ": "unauthorized",
        "Bearer " + good[:-4] + "AAAA": "unauthorized",
        "Bearer " + token_for(app, identity, now=0): "token_expired",
    }
    for header, code in cases.items():
        res = client.get(f"{API}/me", headers={"Authorization": header} if header else {})
        assert res.status_code == 401 and res.json["error"]["code"] == code, (header, res.json)
        assert res.json["error"]["message"]


def test_a_token_signed_with_another_key_is_refused(client, db, factory):
    from app.services.identity.mp_sessions import issue_token

    identity = factory.identity(mp_openid="mp-k", oa_openid=None)
    forged = issue_token("not-our-secret", identity.id)[0]
    assert client.get(f"{API}/me", headers=bearer(forged)).json["error"]["code"] == "unauthorized"


def test_invalid_input_names_the_field_in_chinese(app, client, db, factory, people):
    auth = bearer(token_for(app, factory.identity(people["zhang"])))
    res = client.post(f"{API}/meetings/MPTEST/signin", json={"session": 1}, headers=auth)
    assert res.status_code == 422 and res.json["error"]["code"] == "invalid_input"
    assert "请求编号（nonce）为必填项" in res.json["error"]["message"]
    res = client.post(f"{API}/meetings/MPTEST/signin", json={"session": 0, "nonce": "abcdefgh"}, headers=auth)
    assert "场次（session）不能小于 1" in res.json["error"]["message"]
    res = client.post(f"{API}/session", data="code=1", content_type="text/plain")
    assert res.status_code == 422 and "JSON" in res.json["error"]["message"]
    res = client.get(f"{API}/me/history?per_page=500", headers=auth)
    assert res.status_code == 422 and "每页条数（per_page）不能大于 50" in res.json["error"]["message"]


def test_bind_has_the_h5_rules_and_messages(app, client, db, factory, people, redis_client):
    from app.services.identity.binding import FAILS_PER_OPENID, LAST_ATTEMPT_WARNING, IdentityError
    from models import AuditLog

    auth = bearer(token_for(app, factory.identity(mp_openid="mp-b", oa_openid=None)))
    res = client.post(f"{API}/identity/bind", json={"unit": "发改局", "name": "张三"}, headers=auth)
    assert res.json["error"] == {"code": "fields_missing", "message": IdentityError("fields_missing").message}
    for i in range(FAILS_PER_OPENID):
        res = client.post(f"{API}/identity/bind", json={**ZHANG, "name": "张四"}, headers=auth)
        assert res.status_code == 400 and res.json["error"]["code"] == "identity_mismatch"
        # Warned on the attempt before the last, as on the H5 page, and not earlier.
        assert (LAST_ATTEMPT_WARNING in res.json["error"]["message"]) == (i == FAILS_PER_OPENID - 2), i
    res = client.post(f"{API}/identity/bind", json=ZHANG, headers=auth)
    assert res.status_code == 429 and res.json["error"]["code"] == "rate_limited"

    # Someone typing a person bound to another WeChat is answered as for a wrong identity, word for word.
    taken = bearer(token_for(app, factory.identity(people["wang"], oa_openid="oa-wang")))
    wang = {"unit": "发改局", "name": "王会务", "phone": "13700137000"}
    other = bearer(token_for(app, factory.identity(mp_openid="mp-c", oa_openid=None)))
    wrong = client.post(f"{API}/identity/bind", json={**wang, "name": "王会"}, headers=other)
    res = client.post(f"{API}/identity/bind", json=wang, headers=other)
    assert (res.status_code, res.json) == (wrong.status_code, wrong.json)
    assert res.json["error"] == {"code": "identity_mismatch", "message": IdentityError("identity_mismatch").message}
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "identity.bind_taken"))
    assert row.actor.startswith("openid:") and row.target == f"contact:{people['wang'].id}"
    assert client.get(f"{API}/me", headers=taken).json["contact"]["name"] == "王会务"


def test_nonce_retry_gets_the_same_answer(app, client, db, factory, people):
    auth = bearer(token_for(app, factory.identity(people["zhang"])))
    url = f"{API}/meetings/MPTEST/signin"
    first = client.post(url, json={"nonce": "retry-nonce-1"}, headers=auth)
    again = client.post(url, json={"nonce": "retry-nonce-1"}, headers=auth)
    assert first.status_code == again.status_code == 200
    assert first.json == again.json and first.json["status"] == "signed_in"
    other = client.post(url, json={"nonce": "second-tap-2"}, headers=auth)
    assert other.json["status"] == "already_signed_in" and other.json["seq"] == first.json["seq"]
    assert "无需重复签到" in other.json["message"]
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_refusals_are_clear_and_kept(app, client, db, factory, people):
    outsider = bearer(token_for(app, factory.identity(people["li"])))
    res = client.post(f"{API}/meetings/MPTEST/signin", json={"nonce": "outsider-1"}, headers=outsider)
    assert res.status_code == 400 and res.json["error"]["code"] == "not_invited"
    assert "不在本次会议的参会名单中" in res.json["error"]["message"]
    assert db.session.scalar(select(SignInDenial.method)) == "mp"
    unbound = bearer(token_for(app, factory.identity(mp_openid="mp-u", oa_openid=None)))
    res = client.post(f"{API}/meetings/MPTEST/signin", json={"nonce": "unbound-1"}, headers=unbound)
    assert res.status_code == 403 and res.json["error"]["code"] == "identity_not_bound"
    zhang = bearer(token_for(app, factory.identity(people["zhang"])))
    res = client.post(f"{API}/meetings/MPTEST/signin", json={"session": 7, "nonce": "nosession"}, headers=zhang)
    assert res.status_code == 404 and res.json["error"]["code"] == "session_not_found"


def test_scene_lookup(app, client, db, factory, people):
    auth = bearer(token_for(app, factory.identity(people["zhang"])))
    for scene in ("m:MPTEST:1", "MPTEST", "NOSUCH.1", "id:999999.1"):
        res = client.get(f"{API}/meetings/by-scene/{scene}", headers=auth)
        assert res.status_code == 404, scene
    meeting = people["meeting"]
    res = client.get(f"{API}/meetings/by-scene/id:{meeting.id}.1", headers=auth)
    assert res.status_code == 200 and res.json["meeting"]["code"] == "MPTEST"
    draft = factory.meeting("MPDRAFT", publish=False)
    assert client.get(f"{API}/meetings/by-scene/MPDRAFT.1", headers=auth).status_code == 404
    assert client.get(f"{API}/meetings/{draft.code}", headers=auth).status_code == 404


def test_history_newest_first_paginated_without_drafts(app, client, db, factory, people):
    from datetime import UTC, datetime, timedelta

    zhang = people["zhang"]
    base = datetime.now(UTC) - timedelta(days=30)
    for i in range(5):
        factory.invitee(factory.meeting(f"HIST{i}", starts_at=base + timedelta(days=i)), zhang)
    factory.invitee(factory.meeting("HISTDRAFT", publish=False), zhang)
    factory.meeting("NOTMINE")
    auth = bearer(token_for(app, factory.identity(zhang)))
    first = client.get(f"{API}/me/history?per_page=4", headers=auth).json
    second = client.get(f"{API}/me/history?per_page=4&page=2", headers=auth).json
    codes = [i["meeting"]["code"] for i in first["items"] + second["items"]]
    assert codes == ["MPTEST", "HIST4", "HIST3", "HIST2", "HIST1", "HIST0"]
    assert first["total"] == second["total"] == 6 and (first["page"], second["page"]) == (1, 2)
    assert {i["my_status"] for i in first["items"]} == {"invited"}


def test_history_includes_meetings_signed_in_without_an_invitation(app, client, db, factory, people):
    """A units-admission meeting admits the whole unit: signing in alone puts it in the history."""
    zhang = people["zhang"]
    factory.meeting("MPUNITS", admission="units", unit_codes=["FGJ"])
    auth = bearer(token_for(app, factory.identity(zhang)))
    res = client.post(f"{API}/meetings/MPUNITS/signin", json={"nonce": "units-nonce-1"}, headers=auth)
    assert res.status_code == 200, res.json
    items = client.get(f"{API}/me/history", headers=auth).json["items"]
    assert {i["meeting"]["code"]: i["my_status"] for i in items} == {"MPUNITS": "signed_in", "MPTEST": "invited"}
