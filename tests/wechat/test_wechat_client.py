"""WeChatApi: the app's seam, against the in-process simulator."""

from __future__ import annotations

import threading

import fakeredis
import pytest
import requests

from app.wechat import (
    WeChatApi,
    WeChatCodeError,
    WeChatCredentialError,
    WeChatError,
    WeChatQuotaError,
    WeChatRecipientError,
    WeChatTokenError,
    WeChatUnavailable,
)
from scripts.wechat_sim import SimClock, Simulator
from scripts.wechat_sim.images import decode_png

from .conftest import SIM_BASE


def test_qrcode_and_image(oa: WeChatApi) -> None:
    code = oa.create_qrcode_str_scene("m:2024-001", 86400)
    assert code.expire_seconds == 86400 and code.url.startswith("http://weixin.qq.com/q/")
    png = oa.qrcode_image(code.ticket)
    assert png.startswith(b"\x89PNG")
    assert decode_png(png) == code.url
    assert oa.qrcode_image_url(code.ticket).startswith(f"{SIM_BASE}/cgi-bin/showqrcode?ticket=")
    assert oa.create_permanent_qrcode_str_scene("poster").expire_seconds is None
    with pytest.raises(WeChatError):
        oa.qrcode_image("no-such-ticket")


def test_real_hosts_by_default(fake_redis: fakeredis.FakeRedis) -> None:
    api = WeChatApi("wx1", "s", redis=fake_redis)
    assert api.qrcode_image_url("t/1").startswith("https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=t%2F1")
    assert api.oauth_authorize_url("https://h/cb", "s1").startswith("https://open.weixin.qq.com/connect/oauth2/")
    assert api.wechatpy.API_BASE_URL == "https://api.weixin.qq.com/cgi-bin/"
    assert api.wechatpy.wxa.API_BASE_URL == "https://api.weixin.qq.com/"


def test_wechatpy_groups_point_at_the_simulator(oa: WeChatApi, sim: Simulator) -> None:
    assert oa.wechatpy.wxa.API_BASE_URL == f"{SIM_BASE}/"
    assert oa.wechatpy.menu.get() is None
    tag = oa.wechatpy.tag.create("嘉宾")
    assert tag["name"] == "嘉宾"


def test_menus_and_tags(oa: WeChatApi, sim: Simulator) -> None:
    organizers = [sim.state.create_user(subscribed=True).oa_openid for _ in range(120)]
    assert oa.get_menu() is None
    oa.create_menu([{"type": "click", "name": "签到", "key": "SIGN"}])
    tag_id = oa.create_tag("会务组")
    oa.tag_users(tag_id, organizers)  # batched by 50
    assert all(oa.get_user_tags(o) == [tag_id] for o in organizers[::37])
    menuid = oa.add_conditional_menu([{"type": "view", "name": "控制台", "url": "https://h.example/admin"}],
                                     {"tag_id": str(tag_id)})
    assert oa.try_match_menu(organizers[0])["button"][0]["name"] == "控制台"
    menu = oa.get_menu()
    assert menu is not None and menu["conditionalmenu"][0]["menuid"] == int(menuid)
    oa.untag_users(tag_id, organizers)
    assert oa.try_match_menu(organizers[0])["button"][0]["name"] == "签到"
    assert {t["name"] for t in oa.get_tags()} == {"星标组", "会务组"}
    oa.delete_conditional_menu(menuid)
    oa.delete_menu()
    assert oa.get_menu() is None


def test_messages(oa: WeChatApi, sim: Simulator) -> None:
    user = sim.state.create_user(subscribed=True)
    msgid = oa.send_template(user.oa_openid, "TPL", {"thing1": "年度工作会议", "time2": {"value": "9:00"}},
                             url="https://h.example/m/1", client_msg_id="c1")
    assert oa.send_template(user.oa_openid, "TPL", {"thing1": "x"}, client_msg_id="c1") == msgid
    assert user.inbox[0]["data"] == {"thing1": {"value": "年度工作会议"}, "time2": {"value": "9:00"}}
    with pytest.raises(WeChatRecipientError) as exc:
        oa.send_custom_text(user.oa_openid, "hi")  # no interaction yet
    assert exc.value.errcode == 45015
    with pytest.raises(WeChatRecipientError) as exc:
        oa.send_template("o-unknown", "TPL", {"a": "b"})
    assert exc.value.errcode == 40003
    assert oa.upload_media("image", "a.png", b"\x89PNG")


def test_retry_once_after_token_invalidated(oa: WeChatApi, sim: Simulator) -> None:
    oa.get_tags()
    assert sim.state.token_issues("stable") == 1
    sim.state.invalidate_tokens()
    assert oa.get_tags()  # 40001, new token, one retry
    assert sim.state.token_issues("stable") == 2
    assert sim.state.calls["/cgi-bin/tags/get"] == 3


def test_expired_token_is_refreshed_once(oa: WeChatApi, sim: Simulator) -> None:
    oa.get_tags()
    sim.state.expire_tokens()  # WeChat says 42001 although our copy looks fresh
    oa.get_tags()
    assert sim.state.token_issues("stable") == 2


def test_gives_up_after_one_retry(oa: WeChatApi, sim: Simulator) -> None:
    oa.get_tags()
    sim.state.inject_error("/cgi-bin/tags/get", 40001, times=5)
    with pytest.raises(WeChatTokenError) as exc:
        oa.get_tags()
    assert exc.value.errcode == 40001
    assert sim.state.calls["/cgi-bin/tags/get"] == 3  # first call, then exactly one retry


def test_no_retry_on_quota(oa: WeChatApi, sim: Simulator) -> None:
    user = sim.state.create_user(subscribed=True)
    oa.access_token()
    sim.state.inject_error("/cgi-bin/message/template/send", 45009, times=5)
    with pytest.raises(WeChatQuotaError) as exc:
        oa.send_template(user.oa_openid, "TPL", {"a": "b"})
    assert exc.value.errcode == 45009
    assert sim.state.calls["/cgi-bin/message/template/send"] == 1
    assert sim.state.token_issues("stable") == 1


def test_token_refreshed_before_expiry(oa: WeChatApi, sim: Simulator, sim_clock: SimClock) -> None:
    first = oa.access_token()
    sim_clock.advance(7200 - 400)
    assert oa.access_token() == first
    sim_clock.advance(150)  # < 300 s left: refresh; the simulator renews early too
    second = oa.access_token()
    assert second != first and sim.state.token_issues("stable") == 2


def test_bad_secret_is_a_credential_error(sim: Simulator, sim_http: requests.Session,
                                          fake_redis: fakeredis.FakeRedis) -> None:
    api = WeChatApi(sim.config.app_id, "wrong", redis=fake_redis, base_url=SIM_BASE, http=sim_http)
    with pytest.raises(WeChatCredentialError) as exc:
        api.get_tags()
    assert exc.value.errcode == 40125


def test_unreachable_wechat_is_unavailable(fake_redis: fakeredis.FakeRedis) -> None:
    api = WeChatApi("wx1", "s", redis=fake_redis, base_url="http://127.0.0.1:9", timeout=0.5)
    with pytest.raises(WeChatUnavailable) as exc:
        api.get_tags()
    assert exc.value.errcode is None


def test_threads_share_one_refresh(sim: Simulator, sim_http: requests.Session,
                                   fake_redis: fakeredis.FakeRedis) -> None:
    sim.config.token_latency = 0.2
    apis = [WeChatApi(sim.config.app_id, sim.config.app_secret, redis=fake_redis, base_url=SIM_BASE,
                      http=sim_http) for _ in range(8)]
    tokens: list[str] = []
    barrier = threading.Barrier(len(apis))

    def work(api: WeChatApi) -> None:
        barrier.wait()
        tokens.append(api.access_token())

    threads = [threading.Thread(target=work, args=(api,)) for api in apis]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(tokens)) == 1 and len(tokens) == 8
    assert sim.state.token_issues("stable") == 1
    assert sim.state.calls["/cgi-bin/stable_token"] == 1


def test_oauth(oa: WeChatApi, sim: Simulator, sim_http: requests.Session) -> None:
    user = sim.state.create_user()
    url = oa.oauth_authorize_url("https://h.example/m/bind?x=1", "abc123")
    assert url.endswith("#wechat_redirect")
    res = sim_http.get(url.split("#")[0] + f"&sim_openid={user.oa_openid}", allow_redirects=False)
    assert res.status_code == 302
    location = res.headers["Location"]
    assert location.startswith("https://h.example/m/bind?x=1&code=") and location.endswith("&state=abc123")
    code = location.split("code=")[1].split("&")[0]
    identity = oa.oauth_exchange(code)
    assert identity.openid == user.oa_openid and identity.unionid is None and identity.scope == "snsapi_base"
    with pytest.raises(WeChatCodeError) as exc:
        oa.oauth_exchange(code)
    assert exc.value.errcode == 40163
    assert sim.state.token_issues("stable") == 0  # OAuth needs no access token


def test_mini_program(mp: WeChatApi, sim: Simulator) -> None:
    user = sim.state.create_user()
    session = mp.jscode2session(sim.phone.mp_login(user.mp_openid))
    assert (session.openid, session.unionid, session.session_key) == (user.mp_openid, user.unionid, user.session_key)
    with pytest.raises(WeChatCodeError):
        mp.jscode2session("bogus")
    png = mp.wxacode_unlimit("m=12&s=3", page="pages/index/index", check_path=True)
    assert decode_png(png).startswith("https://mp.weixin.qq.com/a/~m%3D12%26s%3D3?")
    with pytest.raises(WeChatError) as exc:
        mp.wxacode_unlimit("x" * 33)
    assert exc.value.errcode == 40169
    with pytest.raises(WeChatError) as exc:
        mp.wxacode_unlimit("ok", page="/pages/index/index")
    assert exc.value.errcode == 41030
    sim.phone.accept_subscribe(user.mp_openid, "SUB")
    mp.send_subscribe_message(user.mp_openid, "SUB", {"thing1": "会议提醒"}, page="pages/index/index")
    with pytest.raises(WeChatRecipientError):
        mp.send_subscribe_message(user.mp_openid, "SUB", {"thing1": "会议提醒"})


def test_init_app_builds_both_clients(fake_redis: fakeredis.FakeRedis) -> None:
    from flask import Flask

    from app.wechat import init_app, mp_api, oa_api

    flask_app = Flask("t")
    flask_app.config.update(WECHAT_APP_ID="wxoa", WECHAT_APP_SECRET="s1", MINIPROGRAM_APP_ID="wxmp",
                            MINIPROGRAM_APP_SECRET="s2", WECHAT_API_BASE_URL="http://127.0.0.1:8900/_wechat/")
    init_app(flask_app, fake_redis)
    with flask_app.app_context():
        assert (oa_api().app_id, oa_api().kind, mp_api().app_id, mp_api().kind) == ("wxoa", "oa", "wxmp", "mp")
        assert oa_api().base_url == "http://127.0.0.1:8900/_wechat"
        assert oa_api().oauth_authorize_url("http://x/cb", "s").startswith(
            "http://127.0.0.1:8900/_wechat/connect/oauth2/authorize?appid=wxoa&")
