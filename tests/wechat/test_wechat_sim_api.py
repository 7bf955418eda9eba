"""wechatpy's own WeChatClient against the simulator: documented shapes and error codes."""

from __future__ import annotations

import pytest
import requests
from wechatpy import WeChatClient
from wechatpy.exceptions import WeChatClientException

from scripts.wechat_sim import SimClock, Simulator

BASE = "https://api.weixin.qq.com/cgi-bin"


def errcode(excinfo: pytest.ExceptionInfo[WeChatClientException]) -> int:
    return int(excinfo.value.errcode)


def subscribed_user(sim: Simulator) -> str:
    return sim.state.create_user(subscribed=True).oa_openid


# -- tokens ---------------------------------------------------------------------------------------

def test_wechatpy_fetches_token_via_cgi_bin_token(wx: WeChatClient, sim: Simulator) -> None:
    result = wx.fetch_access_token()
    assert result["expires_in"] == 7200 and len(result["access_token"]) >= 100
    assert sim.state.token_issues("token") == 1


def test_bad_appid_and_secret(sim: Simulator, sim_http: requests.Session) -> None:
    bad_secret = WeChatClient(sim.config.app_id, "nope", auto_retry=False)
    bad_secret._http = sim_http
    with pytest.raises(WeChatClientException) as exc:
        bad_secret.fetch_access_token()
    assert errcode(exc) == 40125
    bad_app = WeChatClient("wxunknown", "nope", auto_retry=False)
    bad_app._http = sim_http
    with pytest.raises(WeChatClientException) as exc:
        bad_app.fetch_access_token()
    assert errcode(exc) == 40013


def test_errors_are_http_200_json(sim_http: requests.Session) -> None:
    res = sim_http.get(f"{BASE}/token", params={"grant_type": "client_credential", "appid": "x", "secret": "y"})
    assert res.status_code == 200
    body = res.json()
    assert body["errcode"] == 40013 and body["errmsg"].startswith("invalid appid rid: ")


def test_token_refetch_keeps_old_token_for_grace_period(
    wx: WeChatClient, sim: Simulator, sim_clock: SimClock, sim_http: requests.Session
) -> None:
    old = wx.fetch_access_token()["access_token"]
    new = wx.fetch_access_token()["access_token"]
    assert old != new and sim.state.token_issues("token") == 2

    def tags_with(token: str) -> int:
        return int(sim_http.get(f"{BASE}/tags/get", params={"access_token": token}).json().get("errcode", 0))

    assert tags_with(old) == 0 and tags_with(new) == 0
    sim_clock.advance(301)
    assert tags_with(old) == 42001  # the grace period is over
    assert tags_with(new) == 0
    sim_clock.advance(7200)
    assert tags_with(new) == 42001


def test_bad_and_missing_tokens(sim_http: requests.Session) -> None:
    def code(params: dict[str, str]) -> int:
        return int(sim_http.get(f"{BASE}/menu/get", params=params).json()["errcode"])

    assert code({}) == 41001
    assert code({"access_token": "short!"}) == 40014
    assert code({"access_token": "A" * 120}) == 40001


def test_stable_token_is_idempotent_and_force_refresh_is_limited(
    sim: Simulator, sim_http: requests.Session, sim_clock: SimClock
) -> None:
    body = {"grant_type": "client_credential", "appid": sim.config.app_id, "secret": sim.config.app_secret}
    first = sim_http.post(f"{BASE}/stable_token", json=body).json()
    again = sim_http.post(f"{BASE}/stable_token", json=body).json()
    assert first["access_token"] == again["access_token"]
    assert sim.state.token_issues("stable") == 1
    forced = sim_http.post(f"{BASE}/stable_token", json={**body, "force_refresh": True}).json()
    assert forced["access_token"] != first["access_token"]
    old = sim_http.get(f"{BASE}/tags/get", params={"access_token": first["access_token"]}).json()
    assert old["errcode"] == 40001  # force refresh kills the previous token at once
    too_soon = sim_http.post(f"{BASE}/stable_token", json={**body, "force_refresh": True}).json()
    assert too_soon["errcode"] == 45011
    sim_clock.advance(7200 - 299)  # inside the last 5 minutes a new token is handed out early
    renewed = sim_http.post(f"{BASE}/stable_token", json=body).json()
    assert renewed["access_token"] != forced["access_token"] and renewed["expires_in"] == 7200
    # /cgi-bin/token tokens are independent of stable tokens
    sim_http.get(f"{BASE}/token", params={"grant_type": "client_credential", **{
        "appid": sim.config.app_id, "secret": sim.config.app_secret}})
    assert sim_http.get(f"{BASE}/tags/get", params={"access_token": renewed["access_token"]}).json()["tags"]


# -- QR codes -------------------------------------------------------------------------------------

def test_qrcode_shapes(wx: WeChatClient) -> None:
    temp = wx.qrcode.create({"expire_seconds": 604800, "action_name": "QR_STR_SCENE",
                             "action_info": {"scene": {"scene_str": "meeting:42"}}})
    assert set(temp) == {"ticket", "expire_seconds", "url"} and temp["expire_seconds"] == 604800
    assert temp["url"].startswith("http://weixin.qq.com/q/")
    default = wx.qrcode.create({"action_name": "QR_SCENE", "action_info": {"scene": {"scene_id": 7}}})
    assert default["expire_seconds"] == 60
    capped = wx.qrcode.create({"expire_seconds": 9_999_999, "action_name": "QR_SCENE",
                               "action_info": {"scene": {"scene_id": 7}}})
    assert capped["expire_seconds"] == 2_592_000
    permanent = wx.qrcode.create({"action_name": "QR_LIMIT_STR_SCENE",
                                  "action_info": {"scene": {"scene_str": "poster"}}})
    assert set(permanent) == {"ticket", "url"}


@pytest.mark.parametrize("body, code", [
    ({"expire_seconds": 60, "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": "x" * 65}}}, 40053),
    ({"expire_seconds": 60, "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": ""}}}, 40053),
    ({"action_name": "QR_LIMIT_SCENE", "action_info": {"scene": {"scene_id": 100001}}}, 40053),
    ({"action_name": "QR_NOPE", "action_info": {"scene": {"scene_id": 1}}}, 40052),
])
def test_qrcode_errors(wx: WeChatClient, body: dict, code: int) -> None:
    with pytest.raises(WeChatClientException) as exc:
        wx.qrcode.create(body)
    assert errcode(exc) == code


# -- menus ----------------------------------------------------------------------------------------

MENU = {"button": [
    {"type": "click", "name": "签到", "key": "SIGN_IN"},
    {"name": "会议", "sub_button": [
        {"type": "view", "name": "我的会议", "url": "https://huiyi.example/m/meetings"},
        {"type": "click", "name": "议程", "key": "AGENDA"},
    ]},
]}


def test_menu_create_get_delete(wx: WeChatClient) -> None:
    assert wx.menu.get() is None  # wechatpy maps 46003 (menu no exist) to None
    assert wx.menu.create(MENU)["errcode"] == 0
    got = wx.menu.get()
    assert got["menu"]["button"][0] == {"type": "click", "name": "签到", "key": "SIGN_IN", "sub_button": []}
    assert got["menu"]["button"][1]["sub_button"][1]["key"] == "AGENDA"
    wx.menu.delete()
    assert wx.menu.get() is None


@pytest.mark.parametrize("buttons, code", [
    ([{"type": "click", "name": f"b{i}", "key": "k"} for i in range(4)], 40016),
    ([], 40016),
    ([{"type": "click", "name": "一二三四五六", "key": "k"}], 40018),  # 18 bytes > 16
    ([{"type": "click", "name": "ok", "key": "k" * 129}], 40019),
    ([{"type": "view", "name": "ok", "url": "https://a.example/" + "x" * 1020}], 40020),
    ([{"type": "bogus", "name": "ok", "key": "k"}], 40017),
    ([{"name": "ok"}], 65308),
    ([{"name": "ok", "sub_button": [{"type": "click", "name": f"s{i}", "key": "k"} for i in range(6)]}], 40023),
    ([{"name": "ok", "sub_button": [{"type": "click", "name": "名" * 21, "key": "k"}]}], 40025),
    ([{"name": "ok", "sub_button": [{"type": "view", "name": "s", "url": f"https://d{i}.example/"}
                                    for i in range(4)]}], 65316),
])
def test_menu_validation(wx: WeChatClient, buttons: list, code: int) -> None:
    with pytest.raises(WeChatClientException) as exc:
        wx.menu.create({"button": buttons})
    assert errcode(exc) == code


def test_conditional_menus_by_tag(wx: WeChatClient, sim: Simulator) -> None:
    organizer = sim.state.create_user(subscribed=True).oa_openid
    attendee = sim.state.create_user(subscribed=True).oa_openid
    tag_id = wx.tag.create("会务组")["id"]
    admin_menu = {"button": [{"type": "view", "name": "会务控制台", "url": "https://huiyi.example/admin"}],
                  "matchrule": {"tag_id": str(tag_id)}}
    with pytest.raises(WeChatClientException) as exc:
        wx.menu.add_conditional(admin_menu)
    assert errcode(exc) == 65303  # needs a default menu first
    wx.menu.create(MENU)
    with pytest.raises(WeChatClientException) as exc:
        wx.menu.add_conditional({**admin_menu, "matchrule": {"sex": "1"}})
    assert errcode(exc) == 65320
    menuid = wx.menu.add_conditional(admin_menu)["menuid"]
    wx.tag.tag_user(tag_id, organizer)
    assert wx.menu.try_match(organizer)["button"][0]["name"] == "会务控制台"
    assert wx.menu.try_match(attendee)["button"][0]["name"] == "签到"
    assert wx.menu.get()["conditionalmenu"][0]["menuid"] == int(menuid)
    wx.menu.delete()  # deleting the default menu deletes conditional menus too
    wx.menu.create(MENU)
    assert "conditionalmenu" not in wx.menu.get()
    with pytest.raises(WeChatClientException) as exc:
        wx.menu.del_conditional(menuid)
    assert errcode(exc) == 65301


# -- tags -----------------------------------------------------------------------------------------

def test_tags(wx: WeChatClient, sim: Simulator) -> None:
    users = [sim.state.create_user(subscribed=True).oa_openid for _ in range(51)]
    tag = wx.tag.create("会务组")
    assert tag["id"] >= 100
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.create("会务组")
    assert errcode(exc) == 45157
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.create("名" * 31)
    assert errcode(exc) == 45158
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.tag_user(tag["id"], users)  # 51 > 50
    assert errcode(exc) == 40032
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.tag_user(tag["id"], ["o-not-a-user"])
    assert errcode(exc) == 40003
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.tag_user(99999, users[:1])
    assert errcode(exc) == 45159
    wx.tag.tag_user(tag["id"], users[:3])
    assert wx.tag.get_user_tag(users[0]) == [tag["id"]]
    counts = {t["id"]: t["count"] for t in wx.tag.get()}
    assert counts[tag["id"]] == 3 and counts[2] == 0
    assert sorted(wx.tag.get_tag_users(tag["id"])["data"]["openid"]) == sorted(users[:3])
    wx.tag.untag_user(tag["id"], users[0])
    assert wx.tag.get_user_tag(users[0]) == []
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.update(2, "x")
    assert errcode(exc) == 45058
    wx.tag.delete(tag["id"])
    assert wx.tag.get_user_tag(users[1]) == []


def test_tag_limits(wx: WeChatClient, sim: Simulator) -> None:
    user = sim.state.create_user(subscribed=True).oa_openid
    ids = [wx.tag.create(f"t{i}")["id"] for i in range(100)]
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.create("one too many")
    assert errcode(exc) == 45056
    for tag_id in ids[:20]:
        wx.tag.tag_user(tag_id, user)
    with pytest.raises(WeChatClientException) as exc:
        wx.tag.tag_user(ids[20], user)
    assert errcode(exc) == 45059


# -- messages -------------------------------------------------------------------------------------

def test_template_send(wx: WeChatClient, sim: Simulator) -> None:
    openid = subscribed_user(sim)
    body = {"touser": openid, "template_id": "TPL_SIGNED_IN", "url": "https://huiyi.example/m/1",
            "data": {"thing1": {"value": "年度工作会议"}}, "client_msg_id": "signin-1"}
    first = wx.post("message/template/send", data=body)
    assert first["errcode"] == 0 and isinstance(first["msgid"], int)
    again = wx.post("message/template/send", data=body)  # same client_msg_id within 10 minutes
    assert again["msgid"] == first["msgid"]
    inbox = sim.state.get_user(openid).inbox
    assert len(inbox) == 1 and inbox[0]["kind"] == "template" and inbox[0]["data"]["thing1"]["value"] == "年度工作会议"
    sim.clock.advance(601)
    assert wx.post("message/template/send", data=body)["msgid"] != first["msgid"]


def test_template_send_errors(wx: WeChatClient, sim: Simulator) -> None:
    unsubscribed = sim.state.create_user().oa_openid
    blocked = subscribed_user(sim)
    sim.state.fail_template_for(blocked, 43101)
    data = {"thing1": {"value": "x"}}
    for touser, code in ((unsubscribed, 43004), ("o-unknown", 40003), (blocked, 43101)):
        with pytest.raises(WeChatClientException) as exc:
            wx.message.send_template(touser, "TPL", data)
        assert errcode(exc) == code
    with pytest.raises(WeChatClientException) as exc:
        wx.message.send_template(subscribed_user(sim), "", data)
    assert errcode(exc) == 40037


def test_custom_message_needs_recent_interaction(wx: WeChatClient, sim: Simulator) -> None:
    openid = subscribed_user(sim)
    with pytest.raises(WeChatClientException) as exc:
        wx.message.send_text(openid, "你好")
    assert errcode(exc) == 45015
    sim.state.get_user(openid).last_interaction = sim.clock()
    assert wx.message.send_text(openid, "你好")["errcode"] == 0
    assert sim.state.get_user(openid).inbox[-1] == {**sim.state.get_user(openid).inbox[-1],
                                                    "kind": "custom", "content": "你好"}
    sim.clock.advance(48 * 3600 + 1)
    with pytest.raises(WeChatClientException):
        wx.message.send_text(openid, "还在吗")


def test_media_upload(wx: WeChatClient) -> None:
    res = wx.media.upload("image", ("poster.png", b"\x89PNG fake"))
    assert res["type"] == "image" and res["media_id"]


def test_subscribe_message_needs_acceptance(sim: Simulator, sim_http: requests.Session) -> None:
    mp = WeChatClient(sim.config.mp_app_id, sim.config.mp_app_secret, auto_retry=False)
    mp._http = sim_http
    user = sim.state.create_user()
    data = {"thing1": {"value": "会议即将开始"}}
    with pytest.raises(WeChatClientException) as exc:
        mp.wxa.send_subscribe_message(user.mp_openid, "TPL_SUB", data)
    assert errcode(exc) == 43101
    sim.phone.accept_subscribe(user.mp_openid, "TPL_SUB")
    assert mp.wxa.send_subscribe_message(user.mp_openid, "TPL_SUB", data, page="pages/index/index")["errcode"] == 0
    assert user.inbox[-1]["kind"] == "subscribe"
    with pytest.raises(WeChatClientException) as exc:  # one acceptance, one message
        mp.wxa.send_subscribe_message(user.mp_openid, "TPL_SUB", data)
    assert errcode(exc) == 43101


def test_mini_program_token_is_refused_by_oa_apis(sim: Simulator, sim_http: requests.Session) -> None:
    mp = WeChatClient(sim.config.mp_app_id, sim.config.mp_app_secret, auto_retry=False)
    mp._http = sim_http
    with pytest.raises(WeChatClientException) as exc:
        mp.menu.create(MENU)
    assert errcode(exc) == 48001
