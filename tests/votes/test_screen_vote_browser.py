"""The big screen in vote mode, in real Chromium against a live server with CSRF on: the organizer
opens a vote and puts it on the screen, attendees vote on the H5 page and through the service, the
screen's bars and counts follow live (pushed by the stream, not by the page's 15 s re-read), a vote
whose results wait for the close shows only the turnout until then, a late ballot is refused, and
the screen goes back to the headcount."""

from __future__ import annotations

import time

import pytest

from tests.browser import ARTIFACTS, wait_js
from tests.votes.test_vote_browser import cast_by_service, logged_in_page

CODE = "VOTESCR"
#: The screen follows a change through the live stream: within a second on an idle machine (each
#: wait prints how long it took). The bound is 3 s so that a loaded 2-core machine does not fail it,
#: and still far below the page's 15 s vote.json re-read (static/live/screen.js): only a pushed update
#: passes in time.
LIVE_WITHIN_S = 3.0


@pytest.fixture
def seeded(committed_db):
    from app.services.votes.votes import create_vote
    from tests.factories import Factory
    from tests.votes.conftest import build

    f = Factory(committed_db)
    vm = build(f, CODE, delegates=6, observers=0)
    attendee, latecomer = f.identity(vm.delegates[0]).id, f.identity(vm.delegates[5]).id
    motion = create_vote(vm.meeting, actor=vm.organizer, title="关于<b>《工作要点》</b>的表决", kind="motion",
                         results_visibility="live")
    secret = create_vote(vm.meeting, actor=vm.organizer, title="推选监票人", kind="single",
                         options=["张三", "李四"], results_visibility="after_close")
    committed_db.session.commit()
    return {"motion": motion.id, "options": [o.id for o in motion.options], "secret": secret.id,
            "secret_options": [o.id for o in secret.options], "organizer": vm.organizer_identity_id,
            "organizer_contact": vm.organizer.id, "attendee": attendee, "latecomer": latecomer, "voters": [c.id for c in vm.delegates]}


def screen_url(app, base: str) -> str:
    from app.services.live.headcount import screen_key

    return f"{base}/screen/{CODE}?k={screen_key(app.config['SECRET_KEY'], CODE)}"


def wait_text(page, selector: str, text: str, *, within: float = LIVE_WITHIN_S) -> float:
    """Wait (at most ``within``) until ``selector`` shows ``text``; returns how long it took."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    shows = "([s, t]) => { const e = document.querySelector(s); return e && e.textContent === t; }"
    started = time.monotonic()
    try:
        wait_js(page, shows, arg=[selector, text], timeout=within * 1000, polling=20)
    except PlaywrightTimeoutError:
        shown = page.evaluate("s => { const e = document.querySelector(s); return e && e.textContent; }", selector)
        pytest.fail(f"{selector} still showed {shown!r}, not {text!r}, after {within} s")
    took = time.monotonic() - started
    print(f"screen showed {selector}={text!r} after {took * 1000:.0f} ms")
    return took


def counts(page) -> dict[str, tuple[str, str]]:
    return {li.get_attribute("data-id"): (li.locator(".v-count").inner_text(), li.locator(".v-pct").inner_text())
            for li in page.locator("#v-bars li").all()}


def set_screen(app, vote_id: int | None, organizer_contact: int) -> None:
    from app.extensions import db
    from app.services.votes.votes import show_on_screen
    from models import Contact, Meeting, Vote

    with app.app_context():
        try:
            meeting = db.session.query(Meeting).filter_by(code=CODE).one()
            show_on_screen(meeting, db.session.get(Vote, vote_id) if vote_id else None,
                           actor=db.session.get(Contact, organizer_contact))
            db.session.commit()
        finally:
            db.session.remove()


@pytest.mark.browser
def test_screen_follows_vote_live(app, live_server, browser, seeded):
    ARTIFACTS.mkdir(exist_ok=True)
    motion, (yes, no, abstain) = seeded["motion"], seeded["options"]
    screen = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN").new_page()
    screen.goto(screen_url(app, live_server))
    assert screen.evaluate("document.body.classList.contains('mode-vote')") is False
    assert screen.locator("#n-arrived").inner_text() == "6"

    # The organizer opens the vote and puts it on the screen through the organizer page.
    organizer = logged_in_page(app, browser, live_server, seeded["organizer"])
    organizer.goto(f"{live_server}/admin/{CODE}/votes/{motion}")
    organizer.click("#open-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{motion}")
    organizer.click("#screen-toggle")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{motion}")
    wait_text(screen, "#v-state", "进行中")
    assert screen.evaluate("document.body.classList.contains('mode-vote')")
    # The title is text, not markup.
    assert screen.locator("#v-title").inner_text() == "关于<b>《工作要点》</b>的表决"
    assert screen.locator("#v-title b").count() == 0
    assert screen.locator("#v-eligible").inner_text() == "6"
    assert screen.locator("#v-ballots").inner_text() == "0"
    assert len(counts(screen)) == 3

    # An attendee votes on the H5 page: the screen shows the ballot within a second.
    phone = logged_in_page(app, browser, live_server, seeded["attendee"])
    phone.goto(f"{live_server}/m/{CODE}/votes/{motion}")
    phone.click("button:has-text('赞成')")
    phone.click("text=确认提交")  # a ballot asks once before it is cast
    assert "投票成功" in phone.locator("#result").inner_text()
    wait_text(screen, "#v-ballots", "1")
    assert counts(screen)[str(yes)] == ("1 票", "100.0%")

    # Three more through the service (the mini program's path).
    for contact_id, option in zip(seeded["voters"][1:4], (yes, no, abstain), strict=True):
        cast_by_service(app, motion, contact_id, option)
    wait_text(screen, "#v-ballots", "4")
    shown = counts(screen)
    assert shown == {str(yes): ("2 票", "50.0%"), str(no): ("1 票", "25.0%"), str(abstain): ("1 票", "25.0%")}
    assert screen.locator("#v-turnout").inner_text() == "66.7"
    width = screen.locator(f"#v-bars li[data-id='{yes}'] .fill").evaluate("e => e.style.width")
    assert width == "50%"
    screen.screenshot(path=str(ARTIFACTS / "screen-vote-live.png"))

    # The organizer closes the vote: the screen says so, a late ballot is refused on the page.
    late = logged_in_page(app, browser, live_server, seeded["latecomer"])
    late.goto(f"{live_server}/m/{CODE}/votes/{motion}")  # loaded while still open
    organizer.click("#close-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{motion}")
    wait_text(screen, "#v-state", "已结束")
    late.click("button:has-text('反对')")
    late.click("text=确认提交")
    assert "投票已结束" in late.locator("#result").inner_text()
    from app.services.votes.rules import VoteError

    with pytest.raises(VoteError) as refused:
        cast_by_service(app, motion, seeded["voters"][4], no)
    assert refused.value.message == "投票已结束"
    time.sleep(0.3)
    assert screen.locator("#v-ballots").inner_text() == "4"
    screen.screenshot(path=str(ARTIFACTS / "screen-vote-closed.png"))

    # A vote whose results wait for the close: the screen shows the turnout only, then the counts.
    secret, (zhang, li) = seeded["secret"], seeded["secret_options"]
    organizer.goto(f"{live_server}/admin/{CODE}/votes/{secret}")
    organizer.click("#open-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{secret}")
    set_screen(app, secret, seeded["organizer_contact"])
    wait_text(screen, "#v-title", "推选监票人")
    for contact_id, option in zip(seeded["voters"][:3], (zhang, zhang, li), strict=True):
        cast_by_service(app, secret, contact_id, option)
    wait_text(screen, "#v-ballots", "3")
    assert screen.locator("#v-hidden").is_visible()
    assert counts(screen) == {str(zhang): ("", ""), str(li): ("", "")}
    assert "2" not in screen.locator("#v-bars").inner_text()
    screen.screenshot(path=str(ARTIFACTS / "screen-vote-hidden.png"))
    organizer.click("#close-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{secret}")
    wait_text(screen, "#v-state", "已结束")
    assert counts(screen) == {str(zhang): ("2 票", "66.7%"), str(li): ("1 票", "33.3%")}
    assert not screen.locator("#v-hidden").is_visible()

    # Back to the headcount.
    set_screen(app, None, seeded["organizer_contact"])
    wait_js(screen, "!document.body.classList.contains('mode-vote')", timeout=LIVE_WITHIN_S * 1000)
    assert screen.locator("#n-arrived").is_visible()
    screen.screenshot(path=str(ARTIFACTS / "screen-vote-back-to-headcount.png"))
