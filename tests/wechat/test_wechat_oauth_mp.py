"""Web OAuth codes and the mini-program endpoints: single use, expiry, limits, real images."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from PIL import Image
from werkzeug.test import Client

from scripts.wechat_sim import SimClock, SimConfig, Simulator, parse_wxacode_payload, wxacode_payload
from scripts.wechat_sim.images import decode_png

APP_ID = "wxsim0a0000000001"


def authorize(client: Client, openid: str, scope: str = "snsapi_base", **extra: str) -> str:
    res = client.get("/connect/oauth2/authorize", query_string={
        "appid": APP_ID, "redirect_uri": "https://h.example/cb", "response_type": "code", "scope": scope,
        "state": "xyz", "sim_openid": openid, **extra})
    assert res.status_code == 302, res.get_data(as_text=True)
    query = parse_qs(urlsplit(res.headers["Location"]).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


def exchange(client: Client, code: str, secret: str | None = None, appid: str = APP_ID) -> dict:
    return client.get("/sns/oauth2/access_token", query_string={
        "appid": appid, "secret": secret or SimConfig().app_secret, "code": code,
        "grant_type": "authorization_code"}).json


def test_oauth_code_single_use_and_expiry() -> None:
    clock = SimClock()
    sim = Simulator(SimConfig(), clock=clock)
    client = Client(sim.app)
    user = sim.state.create_user()
    code = authorize(client, user.oa_openid)
    assert exchange(client, code, secret="wrong")["errcode"] == 40125
    assert exchange(client, code, appid="wxnope")["errcode"] == 40013
    answer = exchange(client, code)
    assert answer["openid"] == user.oa_openid and answer["scope"] == "snsapi_base" and "unionid" not in answer
    assert answer["expires_in"] == 7200 and answer["refresh_token"]
    assert exchange(client, code)["errcode"] == 40163  # used
    late = authorize(client, user.oa_openid)
    clock.advance(301)
    assert exchange(client, late)["errcode"] == 40029  # expired after 5 minutes
    assert exchange(client, "made-up")["errcode"] == 40029


def test_userinfo_scope_needs_consent_and_returns_unionid() -> None:
    sim = Simulator(SimConfig())
    client = Client(sim.app)
    user = sim.state.create_user(nickname="王五")
    consent = client.get("/connect/oauth2/authorize", query_string={
        "appid": APP_ID, "redirect_uri": "https://h.example/cb", "response_type": "code",
        "scope": "snsapi_userinfo", "state": "xyz", "sim_openid": user.oa_openid})
    assert consent.status_code == 200 and "允许" in consent.get_data(as_text=True)
    code = authorize(client, user.oa_openid, scope="snsapi_userinfo", sim_consent="1")
    answer = exchange(client, code)
    assert answer["unionid"] == user.unionid
    info = client.get("/sns/userinfo", query_string={"access_token": answer["access_token"],
                                                     "openid": user.oa_openid}).json
    assert info["nickname"] == "王五" and info["unionid"] == user.unionid


@pytest.mark.parametrize("override, message", [
    ({"appid": "wxnope"}, "appid 参数错误"),
    ({"scope": "snsapi_login"}, "scope"),
    ({"redirect_uri": "not a url"}, "redirect_uri 参数错误"),
    ({"response_type": "token"}, "response_type"),
])
def test_authorize_errors(override: dict[str, str], message: str) -> None:
    client = Client(Simulator(SimConfig()).app)
    res = client.get("/connect/oauth2/authorize", query_string={
        "appid": APP_ID, "redirect_uri": "https://h.example/cb", "response_type": "code", "scope": "snsapi_base",
        "state": "s", **override})
    assert res.status_code == 400 and message in res.get_data(as_text=True)


def jscode(client: Client, code: str, secret: str | None = None, appid: str | None = None) -> dict:
    cfg = SimConfig()
    return client.get("/sns/jscode2session", query_string={
        "appid": appid or cfg.mp_app_id, "secret": secret or cfg.mp_app_secret, "js_code": code,
        "grant_type": "authorization_code"}).json


def test_jscode2session() -> None:
    clock = SimClock()
    sim = Simulator(SimConfig(jscode2session_per_minute=3), clock=clock)
    client = Client(sim.app)
    user = sim.state.create_user(unionid=False)
    code = sim.phone.mp_login(user.mp_openid)
    assert jscode(client, code, secret="bad")["errcode"] == 40125
    assert jscode(client, code, appid=APP_ID)["errcode"] == 40013  # the OA's app id is not a mini program
    ok = jscode(client, code)
    assert ok == {"openid": user.mp_openid, "session_key": user.session_key}  # no unionid for this user
    assert jscode(client, code)["errcode"] == 40163
    assert jscode(client, "bogus")["errcode"] == 40029
    stale = sim.phone.mp_login(user.mp_openid)
    clock.advance(301)
    assert jscode(client, stale)["errcode"] == 40029
    for _ in range(3):
        assert "openid" in jscode(client, sim.phone.mp_login(user.mp_openid))
    assert jscode(client, sim.phone.mp_login(user.mp_openid))["errcode"] == 45011  # 3 per minute here
    clock.advance(61)
    assert "openid" in jscode(client, sim.phone.mp_login(user.mp_openid))
    risky = sim.state.create_user(risky=True)
    assert jscode(client, sim.phone.mp_login(risky.mp_openid))["errcode"] == 40226


def _mp_token(client: Client) -> str:
    cfg = SimConfig()
    return str(client.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": cfg.mp_app_id, "secret": cfg.mp_app_secret}).json["access_token"])


def test_wxacode_unlimit_png_decodes_to_payload() -> None:
    sim = Simulator(SimConfig())
    client = Client(sim.app)
    token = _mp_token(client)
    res = client.post("/wxa/getwxacodeunlimit", query_string={"access_token": token},
                      json={"scene": "m=7&s=a/b", "page": "pages/index/index", "width": 100})
    assert res.mimetype == "image/png"
    text = decode_png(res.get_data())
    assert text == wxacode_payload(sim.config.mp_app_id, "m=7&s=a/b", "pages/index/index")
    assert text == ("https://mp.weixin.qq.com/a/~m%3D7%26s%3Da%2Fb?appid=wxsim0b0000000002"
                    "&page=pages/index/index&env_version=release")
    assert parse_wxacode_payload(text) == {"appid": "wxsim0b0000000002", "scene": "m=7&s=a/b",
                                           "page": "pages/index/index", "env_version": "release"}
    assert Image.open(io.BytesIO(res.get_data())).size == (280, 280)  # width is clamped to 280-1280
    scanned = sim.phone.scan("o-anyone", png=res.get_data())
    assert scanned.wxacode and scanned.wxacode["scene"] == "m=7&s=a/b"


@pytest.mark.parametrize("body, code", [
    ({"scene": "x" * 33}, 40169),
    ({"scene": "会议"}, 40169),
    ({"scene": "a b"}, 40169),
    ({"scene": "ok", "page": "/pages/index/index"}, 41030),
    ({"scene": "ok", "page": "pages/index/index?x=1"}, 41030),
    ({"scene": "ok", "page": "pages/unpublished/index"}, 41030),
    ({"scene": "ok", "env_version": "beta"}, 40097),
])
def test_wxacode_errors(body: dict, code: int) -> None:
    client = Client(Simulator(SimConfig()).app)
    res = client.post("/wxa/getwxacodeunlimit", query_string={"access_token": _mp_token(client)}, json=body)
    assert res.mimetype == "application/json" and res.json["errcode"] == code


def test_wxacode_unpublished_page_with_check_path_false_and_token_required() -> None:
    client = Client(Simulator(SimConfig()).app)
    ok = client.post("/wxa/getwxacodeunlimit", query_string={"access_token": _mp_token(client)},
                     json={"scene": "ok", "page": "pages/new/index", "check_path": False, "env_version": "develop"})
    assert ok.mimetype == "image/png"
    assert client.post("/wxa/getwxacodeunlimit", json={"scene": "ok"}).json["errcode"] == 41001


def test_standalone_server_over_real_http() -> None:
    from scripts.wechat_sim import BackgroundServer

    sim = Simulator(SimConfig())
    with BackgroundServer(sim.app) as base:
        res = requests.get(f"{base}/cgi-bin/token", params={"grant_type": "client_credential",
                                                            "appid": APP_ID, "secret": SimConfig().app_secret},
                           timeout=5)
        assert res.json()["expires_in"] == 7200
        assert "模拟手机" in requests.get(f"{base}/_sim/phone", timeout=5).text
