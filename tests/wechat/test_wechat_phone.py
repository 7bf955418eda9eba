"""The phone: scans, messages and menu taps become the callbacks WeChat would post."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from wechatpy.events import ScanEvent, SubscribeScanEvent
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.test import Client

from scripts.wechat_sim import SimClock, SimConfig, Simulator, WsgiTransport
from scripts.wechat_sim.phone import UNAVAILABLE
from scripts.wechat_sim.qrcodes import create_qrcode
from scripts.wechat_sim.xmlmsg import parse_xml

from .receiver import Receiver

CALLBACK = "http://oa.test/wechat/callback"


def greet(msg: object) -> str | None:
    kind = getattr(msg, "event", None) or getattr(msg, "type", None)
    return {"subscribe_scan": "欢迎关注，签到成功", "scan": "签到成功", "click": "议程如下",
            "text": "收到"}.get(str(kind))


def make(receiver: Receiver, clock: SimClock | None = None, **config: object) -> Simulator:
    cfg = SimConfig(token=receiver.token, app_id=receiver.app_id, callback_url=CALLBACK, **config)  # type: ignore[arg-type]
    return Simulator(cfg, clock=clock, transport=WsgiTransport(receiver.wsgi()))


def qr(sim: Simulator, scene: str, expire: int = 3600) -> str:
    body = {"expire_seconds": expire, "action_name": "QR_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
    return create_qrcode(sim.state, body).ticket


def not_found(environ: dict, start_response: Callable[..., object]) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


@pytest.fixture
def receiver() -> Receiver:
    return Receiver("tok", "wxsim0a0000000001", answer=greet)


def test_first_scan_subscribes_then_scan(receiver: Receiver) -> None:
    sim = make(receiver)
    ticket = qr(sim, "m:1")
    user = sim.state.create_user()
    first = sim.phone.scan(user.oa_openid, ticket=ticket)
    assert first.text == "欢迎关注，签到成功" and first.attempts == 1
    msg = receiver.received[0].message
    assert isinstance(msg, SubscribeScanEvent) and msg.scene_id == "m:1" and msg.ticket == ticket
    assert msg.source == user.oa_openid and msg.target == sim.config.original_id
    raw = parse_xml(receiver.received[0].body)
    assert raw["Event"] == "subscribe" and raw["EventKey"] == "qrscene_m:1"
    assert user.subscribed

    second = sim.phone.scan(user.oa_openid, ticket=ticket)
    assert second.text == "签到成功"
    msg = receiver.received[1].message
    assert isinstance(msg, ScanEvent) and msg.scene_id == "m:1"
    assert parse_xml(receiver.received[1].body)["EventKey"] == "m:1"
    assert [i["content"] for i in user.inbox] == ["欢迎关注，签到成功", "签到成功"]


def test_scan_by_png_and_by_url(receiver: Receiver) -> None:
    sim = make(receiver)
    ticket = qr(sim, "m:png")
    png = Client(sim.app).get("/cgi-bin/showqrcode", query_string={"ticket": ticket}).get_data()
    user = sim.state.create_user(subscribed=True)
    assert sim.phone.scan(user.oa_openid, png=png).text == "签到成功"
    url = sim.state.qrcodes[ticket].url
    assert sim.phone.scan(user.oa_openid, url=url).text == "签到成功"
    assert all(parse_xml(r.body)["EventKey"] == "m:png" for r in receiver.received)
    other = sim.phone.scan(user.oa_openid, url="https://example.com/page")
    assert other.opened_url == "https://example.com/page" and len(receiver.received) == 2


def test_expired_and_unknown_codes_post_nothing(receiver: Receiver) -> None:
    clock = SimClock()
    sim = make(receiver, clock)
    ticket = qr(sim, "m:old", expire=60)
    clock.advance(61)
    assert sim.phone.scan("o-someone", ticket=ticket).error == "二维码已过期"
    assert sim.phone.scan("o-someone", url="http://weixin.qq.com/q/02nope").error == "无法识别的二维码"
    assert receiver.received == []


def test_text_click_view(receiver: Receiver) -> None:
    sim = make(receiver)
    openid = sim.state.create_user(subscribed=True).oa_openid
    text = sim.phone.send_text(openid, "你好")
    assert text.text == "收到"
    raw = parse_xml(receiver.received[0].body)
    assert raw["MsgType"] == "text" and raw["Content"] == "你好" and raw["MsgId"].isdigit()
    assert sim.phone.click_menu(openid, "AGENDA").text == "议程如下"
    assert receiver.received[1].message.key == "AGENDA"
    view = sim.phone.view_menu(openid, "https://h.example/m")
    assert view.opened_url == "https://h.example/m"
    assert parse_xml(receiver.received[2].body)["Event"] == "VIEW"
    assert sim.state.get_user(openid).last_interaction is not None


def test_identical_retries_when_the_server_is_slow() -> None:
    slow = Receiver("tok", "wxsim0a0000000001", answer=greet, delay=1.0)
    sim = make(slow, callback_timeout=0.3)
    openid = sim.state.create_user(subscribed=True).oa_openid
    started = time.monotonic()
    reply = sim.phone.send_text(openid, "在吗")
    assert 0.85 < time.monotonic() - started < 1.5
    assert reply.attempts == 3 and reply.error == UNAVAILABLE and reply.shown == UNAVAILABLE
    time.sleep(0.2)
    assert len(slow.received) == 3
    assert all(r.args == slow.received[0].args and r.body == slow.received[0].body for r in slow.received)
    assert sim.state.get_user(openid).inbox[-1]["kind"] == "system"


def test_fast_server_gets_one_post(receiver: Receiver) -> None:
    sim = make(receiver, callback_timeout=0.3)
    sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "hi")
    assert len(receiver.received) == 1


def test_replies_are_checked_like_wechat() -> None:
    def fixed(body: bytes):  # noqa: ANN202 - a tiny WSGI app answering a fixed body
        def wsgi(environ, start_response):  # noqa: ANN001, ANN202
            start_response("200 OK", [("Content-Type", "text/xml")])
            return [body]
        return wsgi

    cfg = SimConfig(callback_url=CALLBACK)
    wrong_user = b"<xml><ToUserName>o-someone-else</ToUserName><FromUserName>gh_5imhuiyi0001</FromUserName>" \
                 b"<CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>"
    sim = Simulator(cfg, transport=WsgiTransport(fixed(wrong_user)))
    reply = sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "x")
    assert reply.error == "回复的 ToUserName/FromUserName 不符" and reply.shown == reply.error
    sim = Simulator(cfg, transport=WsgiTransport(fixed(b'{"ok": true}')))
    assert sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "x").error == "回复不是 XML"
    sim = Simulator(cfg, transport=WsgiTransport(fixed(b"success")))
    silent = sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "x")
    assert silent.delivered and silent.shown is None and silent.message is None


def test_template_job_finish_event(receiver: Receiver) -> None:
    sim = make(receiver, template_job_finish_events=True)
    user = sim.state.create_user(subscribed=True)
    client = Client(sim.app)
    token = client.post("/cgi-bin/stable_token", json={
        "grant_type": "client_credential", "appid": sim.config.app_id, "secret": sim.config.app_secret}).json
    res = client.post("/cgi-bin/message/template/send", query_string={"access_token": token["access_token"]},
                      json={"touser": user.oa_openid, "template_id": "T", "data": {"a": {"value": "b"}}}).json
    sim.phone.wait_idle()
    raw = parse_xml(receiver.received[-1].body)
    assert raw["Event"] == "TEMPLATESENDJOBFINISH" and raw["MsgID"] == str(res["msgid"]) and raw["Status"] == "success"


def test_http_endpoints(receiver: Receiver) -> None:
    sim = make(receiver)
    client = Client(sim.app)
    user = client.post("/_sim/users", json={"nickname": "张三"}).json
    ticket = qr(sim, "m:http")
    reply = client.post("/_sim/scan", json={"openid": user["oa_openid"], "ticket": ticket}).json
    assert reply["shown"] == "欢迎关注，签到成功" and reply["attempts"] == 1
    inbox = client.get(f"/_sim/users/{user['oa_openid']}/inbox").json
    assert inbox[0]["kind"] == "reply" and inbox[0]["content"] == "欢迎关注，签到成功"
    assert client.get(f"/_sim/users/{user['oa_openid']}/inbox?since={inbox[0]['id']}").json == []
    assert client.post("/_sim/text", json={"openid": user["oa_openid"], "content": "hi"}).json["shown"] == "收到"
    code = client.post("/_sim/mp/login", json={"openid": user["oa_openid"]}).json["code"]
    assert sim.state.codes[code].openid == user["mp_openid"]
    counters = client.get("/_sim/counters").json
    assert counters["stable_token_issued"] == 0 and counters["calls"]["/_sim/scan"] == 1


def test_mounted_under_a_prefix(receiver: Receiver) -> None:
    sim = make(receiver)
    qr(sim, "m:mounted")
    host = DispatcherMiddleware(not_found, {"/_wechat": sim.app})
    client = Client(host)
    page = client.get("/_wechat/_sim/phone").get_data(as_text=True)
    assert 'const BASE = "/_wechat";' in page and "扫一扫" in page
    codes = client.get("/_wechat/_sim/qrcodes").json
    assert codes[0]["image_url"].startswith("/_wechat/cgi-bin/showqrcode?ticket=")
    assert client.get(codes[0]["image_url"]).mimetype == "image/png"

    # OAuth through the mounted simulator: first choose a user (cookie set), then silent redirects.
    authorize = ("/_wechat/connect/oauth2/authorize?appid=wxsim0a0000000001&response_type=code&scope=snsapi_base"
                 "&state=s1&redirect_uri=https%3A%2F%2Fh.example%2Fm%2Fbind")
    choose = client.get(authorize)
    assert choose.status_code == 200 and "选择当前微信用户" in choose.get_data(as_text=True)
    user = sim.state.create_user(nickname="<b>李四</b>")
    assert "&lt;b&gt;李四&lt;/b&gt;" in client.get(authorize).get_data(as_text=True)
    first = client.get(authorize + f"&sim_openid={user.oa_openid}")
    assert first.status_code == 302 and "Path=/_wechat/" in first.headers["Set-Cookie"]
    again = client.get(authorize)  # the cookie now says who is browsing
    assert again.status_code == 302 and again.headers["Location"].startswith("https://h.example/m/bind?code=")


def test_inline_callbacks_and_external_base_url(receiver: Receiver) -> None:
    sim = make(receiver, callback_in_thread=False, external_base_url="https://demo.example/_wechat")
    openid = sim.state.create_user(subscribed=True).oa_openid
    assert sim.phone.send_text(openid, "hi").text == "收到"
    qr(sim, "m:ext")
    host = DispatcherMiddleware(not_found, {"/_wechat": sim.app})
    codes = Client(host).get("/_wechat/_sim/qrcodes").json
    assert codes[0]["image_url"].startswith("https://demo.example/_wechat/cgi-bin/showqrcode?ticket=")
