"""Desktop login by WeChat scan in real Chromium: an office PC shows the code, the simulator's phone
scans it off the page, WeChat's browser on the phone confirms (OAuth through the simulator, CSRF on),
and the PC lands in the console. A third browser with the same link gets nowhere."""

from __future__ import annotations

import html
import re
import time

import pytest

from tests.browser import ARTIFACTS, DESKTOP, fits_width, wait_js, wechat_page
from tests.console.conftest import build_console


@pytest.fixture
def console_data(committed_db):
    from tests.factories import Factory

    data = build_console(Factory(committed_db))
    return {who: identity.oa_openid for who, identity in data.identities.items()}


@pytest.mark.browser
def test_scan_login_in_chromium(app, live_server, browser, wechat, console_data):
    sim, sim_base = wechat
    ARTIFACTS.mkdir(exist_ok=True)

    desk = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    pc = desk.new_page()
    pc.goto(live_server + "/admin/login")
    assert "请使用微信扫码登录会务后台" in pc.locator("main").inner_text()
    img = pc.locator("#login-qr-img")
    img.wait_for()
    assert pc.evaluate("document.getElementById('login-qr-img').naturalWidth") > 100  # the PNG loaded
    countdown = pc.locator("#login-countdown").inner_text()
    assert re.fullmatch(r"[45]:\d\d", countdown), countdown
    pc.screenshot(path=str(ARTIFACTS / "console-login-desktop.png"))
    src = img.get_attribute("src")
    aid = re.search(r"a=([0-9a-f]{8})", src).group(1)
    png = desk.request.get(live_server + src).body()  # the image's bytes, with the PC's cookie

    reply = sim.phone.scan(console_data["owner"], png=png)
    assert reply.delivered and "确认登录到电脑端？" in reply.text, reply.public()
    link = html.unescape(re.search(r'href="([^"]+)"', reply.text).group(1))
    assert link.startswith(live_server + "/admin/login/confirm?t=")
    wait_js(pc, "document.getElementById('login-qr').dataset.state === 'scanned'", timeout=3000)
    assert "请在手机微信上点“确认登录”" in pc.locator("#login-status").inner_text()

    mobile, phone = wechat_page(browser, sim_base, console_data["owner"])
    phone.goto(link)  # through WeChat OAuth (the simulator) and back
    assert phone.url.split("#")[0] == link  # WeChat's authorize URL ends in #wechat_redirect; browsers keep it
    body = phone.locator("main").inner_text()
    assert "会易 · 会务后台" in body and "主办王" in body and "时间" in body
    assert fits_width(phone), "the confirm page scrolls sideways at 390 px"
    phone.screenshot(path=str(ARTIFACTS / "console-login-confirm-phone.png"), full_page=True)
    started = time.monotonic()
    phone.get_by_role("button", name="确认登录").click()
    phone.wait_for_url(lambda url: url.split("#")[0] == link)
    assert "已确认登录" in phone.locator("main").inner_text()

    pc.wait_for_url(live_server + "/admin", timeout=3000)  # the meeting list (maybe still a stub)
    assert time.monotonic() - started < 3
    cookies = {c["name"] for c in desk.cookies()}
    assert "session" in cookies

    # A third browser with the same link: another WeChat cannot confirm, and no PC can poll it.
    other_ctx, other = wechat_page(browser, sim_base, console_data["staff"])
    sim.state.ensure_user(console_data["staff"])
    response = other.goto(link)
    assert response.status == 403
    assert "只有扫描该登录二维码的微信才能确认此次登录" in other.locator("main").inner_text()
    assert other.get_by_role("button", name="确认登录").count() == 0
    third = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    answer = third.request.get(f"{live_server}/admin/login/poll?a={aid}").json()
    assert answer == {"state": "expired"}
    assert desk.request.get(f"{live_server}/admin/login/poll?a={aid}").json() == {"state": "expired"}
    # The scanner's phone coming back to the link: the code is spent.
    phone.goto(link)
    assert "已确认登录" in phone.locator("main").inner_text()
    assert phone.get_by_role("button", name="确认登录").count() == 0

    # The third PC's own code runs out (its attempt dropped from Redis): the page says so and offers
    # a fresh one.
    from app.extensions import get_redis

    late = third.new_page()
    late.goto(live_server + "/admin/login")
    first_src = late.locator("#login-qr-img").get_attribute("src")
    redis = get_redis(app)
    for key in redis.scan_iter("huiyi:login:*"):
        redis.delete(key)
    wait_js(late, "document.getElementById('login-qr').dataset.state === 'expired'", timeout=3000)
    assert late.locator("#login-mask").is_visible() and "二维码已失效" in late.locator("#login-mask").inner_text()
    late.screenshot(path=str(ARTIFACTS / "console-login-expired.png"))
    late.get_by_role("link", name="刷新二维码").click()
    wait_js(late, "document.getElementById('login-qr-img').naturalWidth > 100")
    assert late.locator("#login-qr-img").get_attribute("src") != first_src
    assert not late.locator("#login-mask").is_visible()
    for context in (desk, mobile, other_ctx, third):
        context.close()
