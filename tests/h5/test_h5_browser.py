"""The binding flow in real Chromium against a live server, with CSRF on, as a phone would see it."""

from __future__ import annotations

import html
import re

import pytest

from app.services.codes.scenes import make_scene
from tests.browser import ARTIFACTS

IPHONE_SE = {"width": 375, "height": 667}


@pytest.fixture
def phone(app, live_server):
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.transport import RequestsTransport

    config = SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                       token=app.config["WECHAT_TOKEN"], callback_url=live_server + "/wechat/callback")
    return Simulator(config, transport=RequestsTransport())


@pytest.fixture
def committed_meeting(committed_db):
    from tests.factories import Factory

    f = Factory(committed_db)
    unit = f.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    m = f.meeting("H5LIVE", title="全区经济工作会议暨2027年度重点项目推进会", venue="区政府三楼大会议室",
                  intro="一、传达上级精神\n二、部署明年工作")
    f.invitee(m, f.contact(unit, name="张三", phone="13800138000"))
    committed_db.session.commit()
    return m.code


def scan(phone, openid: str, code: str):
    return phone.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])


@pytest.mark.browser
def test_bind_and_sign_in_in_chromium(live_server, phone, browser, committed_meeting):
    reply = scan(phone, "o-chromium-user", committed_meeting)
    assert reply.delivered and "首次签到需核对身份" in reply.text
    link = html.unescape(re.search(r'href="([^"]+/m/bind\?t=[^"]+)"', reply.text).group(1))
    assert link.startswith(live_server)

    context = browser.new_context(viewport=IPHONE_SE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    page = context.new_page()
    sizes: list[int] = []
    page.on("response", lambda r: sizes.append(len(r.body())) if r.request.resource_type == "document" else None)
    page.goto(link)
    assert page.locator("h1").inner_text().startswith("全区经济工作会议")
    assert _fits_width(page), "binding page scrolls sideways at 375 px"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "h5-bind-form.png"), full_page=True)
    page.fill("input[name=unit_text]", "发改局")
    page.fill("input[name=name]", "张三")
    page.fill("input[name=phone]", "13800138000")
    page.click("text=确认并签到")
    page.wait_for_url("**/m/H5LIVE/done?s=1")
    text = page.locator("main").inner_text()
    assert "签到成功" in text and "第 1 位" in text and "张三" in text and "区发展和改革局" in text
    assert _fits_width(page), "result page scrolls sideways at 375 px"
    page.screenshot(path=str(ARTIFACTS / "h5-bind-success.png"), full_page=True)
    # Every page is one small HTML document: no stylesheet, script, font or image requests.
    assert all(size < 8_000 for size in sizes), sizes
    print("H5 document sizes (bytes):", sizes)

    page.click("text=查看会议详情")
    page.wait_for_url("**/m/H5LIVE")
    assert "您已于" in page.locator("main").inner_text()
    assert _fits_width(page), "meeting page scrolls sideways at 375 px"
    page.screenshot(path=str(ARTIFACTS / "h5-meeting.png"), full_page=True)
    context.close()

    phone.clock.advance(2)  # a later scan, not a retry of the first
    again = scan(phone, "o-chromium-user", committed_meeting)
    assert again.text.startswith("您已签到，无需重复扫码") and "第 1 位" in again.text


def _fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
