"""A vote in real Chromium against a live server, CSRF on: the organizer opens it, attendees vote
(one arriving through the WeChat simulator and the H5 binding page, others on the H5 ballot page,
some through the service), the organizer's bars move, and after closing a late ballot is refused."""

from __future__ import annotations

import html
import re

import pytest

from app.services.codes.scenes import make_scene
from tests.browser import ARTIFACTS, wait_js

PHONE = {"width": 375, "height": 667}
CODE = "VOTEWEB"


@pytest.fixture
def seeded(committed_db):
    from app.services.votes.votes import create_vote
    from tests.factories import Factory
    from tests.votes.conftest import build

    f = Factory(committed_db)
    vm = build(f, CODE, delegates=6, observers=0)
    newcomer = f.contact(vm.delegates[0].unit, name="新来的", phone="13912345678")
    f.invitee(vm.meeting, newcomer, role="代表")
    identities = [f.identity(c).id for c in vm.delegates[:3]]
    vote = create_vote(vm.meeting, actor=vm.organizer, title="关于《2027年工作要点》的表决", kind="motion",
                       results_visibility="live")
    committed_db.session.commit()
    return {"vote_id": vote.id, "options": [o.id for o in vote.options], "organizer": vm.organizer_identity_id,
            "attendees": identities, "service_voters": [c.id for c in vm.delegates[3:]],
            "unit": vm.delegates[0].unit.name}


def logged_in_page(app, browser, base_url: str, identity_id: int):
    """A phone-sized browser whose session cookie says who it is (what WeChat OAuth would leave)."""
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])
    return context.new_page()


def cast_by_service(app, vote_id: int, contact_id: int, option_id: int) -> None:
    from app.extensions import db
    from app.services.votes.votes import cast_ballot
    from models import Contact, Vote

    with app.app_context():
        try:
            cast_ballot(db.session.get(Vote, vote_id), db.session.get(Contact, contact_id), [option_id])
            db.session.commit()
        finally:
            db.session.remove()


def ballots_shown(page) -> int:
    return int(page.locator("#n-ballots").inner_text())


@pytest.mark.browser
def test_vote_in_chromium(app, live_server, browser, seeded):
    ARTIFACTS.mkdir(exist_ok=True)
    vote_id, (yes, no, abstain) = seeded["vote_id"], seeded["options"]
    organizer = logged_in_page(app, browser, live_server, seeded["organizer"])
    organizer.set_viewport_size({"width": 1024, "height": 900})
    organizer.goto(f"{live_server}/admin/{CODE}/votes/{vote_id}")
    assert "未开始" in organizer.locator("#v-state").inner_text()
    organizer.click("#open-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{vote_id}")
    assert "进行中" in organizer.locator("#v-state").inner_text() and ballots_shown(organizer) == 0
    assert organizer.locator("#n-eligible").inner_text() == "6"

    # An attendee on the H5 ballot page: three big buttons, one tap.
    first = logged_in_page(app, browser, live_server, seeded["attendees"][0])
    first.goto(f"{live_server}/m/{CODE}/votes")
    first.click("text=关于《2027年工作要点》的表决")
    assert first.locator(".motion button").count() == 3
    first.screenshot(path=str(ARTIFACTS / "vote-h5-ballot.png"), full_page=True)
    first.click("button:has-text('赞成')")
    # A ballot cannot be changed: the tap asks first, and 返回修改 casts nothing.
    assert first.locator("#ballot-confirm .chosen").inner_text() == "赞成"
    first.screenshot(path=str(ARTIFACTS / "vote-h5-confirm.png"), full_page=True)
    first.click("text=返回修改")
    assert first.locator("#ballot").is_visible() and not first.locator("#ballot-confirm").is_visible()
    first.click("button:has-text('反对')")
    assert first.locator("#ballot-confirm .chosen").inner_text() == "反对"
    first.click("text=返回修改")
    assert ballots_shown(organizer) == 0
    first.click("button:has-text('赞成')")
    first.click("text=确认提交")
    assert "投票成功" in first.locator("#result").inner_text()
    first.screenshot(path=str(ARTIFACTS / "vote-h5-success.png"), full_page=True)
    wait_js(organizer, "document.getElementById('n-ballots').textContent === '1'", timeout=5000)

    # Trying again from a stale page is refused with a clear message.
    first.go_back()
    first.reload()
    assert "您已投票" in first.locator("main").inner_text()

    # A newcomer arrives through the WeChat simulator: scans, binds on the H5 page (signing in), votes.
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.transport import RequestsTransport

    sim = Simulator(SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                              token=app.config["WECHAT_TOKEN"], callback_url=live_server + "/wechat/callback"),
                    transport=RequestsTransport())
    reply = sim.phone.post_event("o-vote-newcomer", [("Event", "SCAN"), ("EventKey", make_scene(CODE, 1))])
    link = html.unescape(re.search(r'href="([^"]+/m/bind\?t=[^"]+)"', reply.text).group(1))
    newcomer = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-CN").new_page()
    newcomer.goto(link)
    newcomer.fill("input[name=unit_text]", seeded["unit"])
    newcomer.fill("input[name=name]", "新来的")
    newcomer.fill("input[name=phone]", "13912345678")
    newcomer.click("text=确认并签到")
    newcomer.wait_for_url(f"**/m/{CODE}/done?s=1")
    newcomer.goto(f"{live_server}/m/{CODE}/votes/{vote_id}")
    newcomer.click("button:has-text('反对')")
    newcomer.click("text=确认提交")
    assert "投票成功" in newcomer.locator("#result").inner_text()
    wait_js(organizer, "document.getElementById('n-eligible').textContent === '7'", timeout=8000)

    # Others through the service (as the mini program would).
    for contact_id, option in zip(seeded["service_voters"], (yes, yes, abstain), strict=True):
        cast_by_service(app, vote_id, contact_id, option)
    wait_js(organizer, "document.getElementById('n-ballots').textContent === '5'", timeout=5000)
    bars = {li.get_attribute("data-id"): li for li in organizer.locator("#bars li").all()}
    assert bars[str(yes)].locator(".c").inner_text() == "3"
    assert bars[str(no)].locator(".c").inner_text() == "1"
    assert bars[str(abstain)].locator(".c").inner_text() == "1"
    width = bars[str(yes)].locator(".fill").evaluate("e => e.style.width")
    assert width == "60%"
    organizer.screenshot(path=str(ARTIFACTS / "vote-organizer-live.png"), full_page=True)

    # A second attendee loads the ballot page, then the organizer closes the vote: the late ballot is refused.
    late = logged_in_page(app, browser, live_server, seeded["attendees"][1])
    late.goto(f"{live_server}/m/{CODE}/votes/{vote_id}")
    organizer.click("#close-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{vote_id}")
    assert "已结束" in organizer.locator("#v-state").inner_text()
    late.click("button:has-text('赞成')")
    late.click("text=确认提交")
    assert "投票已结束" in late.locator("#result").inner_text()
    late.screenshot(path=str(ARTIFACTS / "vote-h5-late.png"), full_page=True)
    assert ballots_shown(organizer) == 5
    organizer.screenshot(path=str(ARTIFACTS / "vote-organizer-closed.png"), full_page=True)
    fits = late.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "ballot result page scrolls sideways at 375 px"
