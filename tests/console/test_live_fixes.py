"""The organizer's live page: the recent sign-ins survive the stream's first snapshot and move live,
a read of numbers.json never shows an answer older than the stream, missing people show their 职务,
people on leave are counted and listed, 代签 / 撤销 say what happened (or the server's refusal), and
every JSON address carries the session. Real Chromium against a live server, CSRF on."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.services.meetings.organizers import add_organizer
from app.services.signin.rules import get_session
from app.services.signin.write import revoke, sign_in
from models import Leave, MeetingSession, OrganizerRight
from tests.browser import ARTIFACTS, wait_js
from tests.console.conftest import login_as

CODE = "LIVEFIX"
NAMES = ["参会甲", "参会乙", "参会丙", "参会丁", "参会戊", "参会己", "参会庚", "参会辛"]
TITLES = ["局长", "副局长", None, "科长", None, "办公室主任", None, "科员"]
PC = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
LIVE_JS = Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "live" / "live.js"
#: Counts the stream's numbers messages the page receives (wraps EventSource before the page runs).
COUNT_SNAPSHOTS = """
window.__snapshots = 0;
(function () {
  var Real = window.EventSource;
  window.EventSource = function (url, opts) {
    var es = new Real(url, opts);
    es.addEventListener("numbers", function () { window.__snapshots++; });
    return es;
  };
})();
"""


@pytest.fixture
def seeded(committed_db):
    from tests.factories import Factory

    f = Factory(committed_db)
    units = [f.unit(name="区发展和改革局"), f.unit(name="区财政局")]
    meeting = f.meeting(CODE, title="全区安全生产工作会议", venue="区政府三楼大会议室")
    people = []
    for i, (name, title) in enumerate(zip(NAMES, TITLES, strict=True)):
        c = f.contact(units[i % 2], name=name, title=title)
        f.invitee(meeting, c, group_name="第一组" if i < 4 else "第二组")
        people.append(c)
    organizer = f.contact(units[0], name="会务李")
    add_organizer(CODE, organizer.phone, actor="test", right=OrganizerRight.STAFF)
    identity = f.identity(organizer, oa_openid="o_livefix_org")
    # 参会辛 is excused (请假); 参会甲 and 参会乙 have signed in before the page opens.
    committed_db.session.add(Leave(meeting_id=meeting.id, contact_id=people[7].id, reason="赴省里参加培训",
                                   approver="王主任", recorded_by="test"))
    committed_db.session.commit()
    session = get_session(meeting)
    for p in people[:2]:
        sign_in(meeting, session, p, method="scan", check_window=False)
    return {"meeting": meeting, "session": session, "people": people, "identity": identity.id,
            "organizer": organizer}


def revoke_now(db, data: dict, person, reason: str) -> None:
    """撤销 elsewhere (another organizer's page), committed: its live event follows the commit."""
    revoke(data["meeting"], data["session"], person, actor=data["organizer"], reason=reason)
    db.session.commit()


def open_console(app, browser, base_url: str, identity_id: int, viewport: dict, *, init_script: str = ""):
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1,
                                  is_mobile=viewport["width"] < 600, has_touch=viewport["width"] < 600)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    if init_script:
        page.add_init_script(init_script)
    return page


def recent_names(page) -> list[str]:
    return page.locator("#recent li .name").all_inner_texts()


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
def test_recent_signins_survive_the_first_snapshot_and_move_live(app, live_server, browser, seeded, committed_db):
    meeting, session, people = seeded["meeting"], seeded["session"], seeded["people"]
    page = open_console(app, browser, live_server, seeded["identity"], PC, init_script=COUNT_SNAPSHOTS)
    page.goto(f"{live_server}/admin/{CODE}")
    # At once, from the page itself: the two sign-ins, each with 撤销.
    assert recent_names(page) == ["参会乙", "参会甲"]
    assert page.locator("#recent button", has_text="撤销").count() == 2
    # The stream's first snapshot (its "recent" is empty) has arrived and the list is still there.
    wait_js(page, "window.__snapshots >= 1 && !document.body.classList.contains('offline')", timeout=5000)
    assert recent_names(page) == ["参会乙", "参会甲"]
    page.wait_for_timeout(3000)
    assert recent_names(page) == ["参会乙", "参会甲"]

    # A new sign-in appears from its live event alone: the re-read of numbers.json is cut off.
    page.route("**/numbers.json**", lambda route: route.abort())
    sign_in(meeting, session, people[2], method="scan", check_window=False)
    wait_js(page, "document.querySelector('#recent li .name').textContent === '参会丙'", timeout=2000)
    assert recent_names(page) == ["参会丙", "参会乙", "参会甲"]
    assert page.locator("#recent li").first.locator("button", has_text="撤销").count() == 1
    wait_js(page, "document.getElementById('n-arrived').textContent === '3'", timeout=2000)
    page.wait_for_timeout(500)  # the snapshot that follows the event keeps the list
    assert recent_names(page) == ["参会丙", "参会乙", "参会甲"]

    # A revoke leaves the list at once, as well.
    revoke_now(committed_db, seeded, people[0], "测试")
    wait_js(page, "document.querySelectorAll('#recent li .name').length === 2", timeout=2000)
    assert recent_names(page) == ["参会丙", "参会乙"]
    assert not page.errors


@pytest.mark.browser
def test_a_read_overtaken_by_the_stream_is_not_shown(browser):
    """live.js on its own, with a stand-in EventSource and XMLHttpRequest the test answers by hand."""
    page = browser.new_page()
    page.set_content("<!doctype html><html><body></body></html>")
    page.evaluate("""() => {
      window.__xhrs = [];
      window.XMLHttpRequest = function () { window.__xhrs.push(this); };
      XMLHttpRequest.prototype.open = function (method, url) { this.url = url; };
      XMLHttpRequest.prototype.setRequestHeader = function () {};
      XMLHttpRequest.prototype.send = function () {};
      window.__answer = function (i, body) {
        var x = window.__xhrs[i]; x.status = 200; x.responseText = JSON.stringify(body); x.onload();
      };
      window.EventSource = function () { this.l = {}; window.__es = this; };
      EventSource.prototype.addEventListener = function (n, f) { (this.l[n] = this.l[n] || []).push(f); };
      window.__emit = function (n, d) { (window.__es.l[n] || []).forEach(function (f) { f({data: JSON.stringify(d)}); }); };
    }""")
    page.add_script_tag(path=str(LIVE_JS))
    result = page.evaluate("""() => {
      var shown = [];
      var live = HuiyiLive.connect({events: "/e", numbers: "/n", resyncMs: 1e9, extraEvents: ["vote"],
        onNumbers: function (n, source) { shown.push([n.arrived, source]); }, onEvent: function () {}});
      live.resync();                             // read 0 goes out
      __emit("numbers", {arrived: 5});           // the stream moves on meanwhile
      __answer(0, {arrived: 4});                 // read 0's answer may be older: not shown, asked again
      var afterStale = __xhrs.length;
      __answer(1, {arrived: 5});                 // read 1, nothing heard meanwhile: shown
      live.resync(); live.resync();              // reads 2 and 3
      __answer(3, {arrived: 6});
      __answer(2, {arrived: 5});                 // older than read 3: never shown
      live.resync();                             // read 4
      __emit("signin", {type: "signin", contact_id: 9});
      __answer(4, {arrived: 6});                 // overtaken by an event: asked again once (read 5)
      __emit("numbers", {arrived: 7});
      __answer(5, {arrived: 6});                 // overtaken again: dropped, no third try
      var settled = __xhrs.length;
      live.resync();                             // read 6
      __emit("vote", {type: "vote", vote_id: 1});  // a vote's event does not change the numbers
      __answer(6, {arrived: 7});
      return {shown: shown, afterStale: afterStale, settled: settled, total: __xhrs.length};
    }""")
    assert result["shown"] == [[5, "stream"], [5, "read"], [6, "read"], [7, "stream"], [7, "read"]]
    assert result["afterStale"] == 2 and result["settled"] == 6 and result["total"] == 7


@pytest.mark.browser
def test_missing_titles_leave_and_layout_at_both_widths(app, live_server, browser, seeded):
    for viewport, per_row in ((PC, 6), (PHONE, 3)):
        page = open_console(app, browser, live_server, seeded["identity"], viewport)
        page.goto(f"{live_server}/admin/{CODE}")
        missing = page.locator("#missing").inner_text()
        # 职务 after the name; nobody's title shown where there is none; 请假 is not missing
        rows = {li.locator(".name").inner_text(): li for li in page.locator("#missing li").all()}
        assert rows["参会丁"].locator(".who").inner_text() == "参会丁科长"  # 职务 right after the name
        assert rows["参会丁"].locator(".title").inner_text() == "科长"
        assert rows["参会丙"].locator(".title").count() == 0
        assert "参会辛" not in missing
        assert page.locator("#n-leave").inner_text() == "1"
        leave = page.locator("#leave-card")
        assert leave.is_visible() and "参会辛" in leave.inner_text() and "赴省里参加培训" in leave.inner_text()
        # the six numbers: one row on the PC, rows of three on the phone
        tops = [round(box["y"]) for box in (d.bounding_box() for d in page.locator(".nums > div").all())]
        assert len(tops) == 6 and tops.count(tops[0]) == per_row, tops
        assert fits_width(page), f"the live page scrolls sideways at {viewport['width']} px"
        # the tabs replace the old links card; the codes and the screen link stay
        assert page.locator("#manage").count() == 0
        for text in ("签到海报（PDF）", "签到二维码（PNG）"):
            assert page.locator("a", has_text=text).count() == 1
        assert page.locator("#screen-url").input_value().startswith(f"{live_server}/screen/{CODE}?k=")
        wait_js(page, "!document.body.classList.contains('offline')", timeout=5000)
        page.wait_for_timeout(300)  # the stream's snapshot, with the same fields, has been shown
        assert rows["参会丁"].locator(".title").inner_text() == "科长" and page.locator("#n-leave").inner_text() == "1"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"console-live-{viewport['width']}.png"), full_page=True)
        assert not page.errors
        page.context.close()


@pytest.mark.browser
def test_the_page_works_without_titles_or_leave_in_the_numbers(app, live_server, browser, seeded):
    """Numbers and lists from a server without 职务 and 请假 (the shape before they were added)."""

    def old_shape(data: dict) -> dict:
        data.pop("leave", None)
        data.pop("on_leave", None)
        for unit in data.get("units", []):
            unit.pop("leave", None)
        for m in data.get("people", []):  # a list of who is missing
            m.pop("title", None)
        return data

    def page_without(route):
        response = route.fetch()
        html = response.text()
        match = re.search(r'(<script type="application/json" id="console-config">)(.*?)(</script>)', html, re.S)
        config = json.loads(match.group(2))
        old_shape(config["initial"])
        old_shape(config["missing"])
        text = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
        route.fulfill(response=response, body=html[:match.start(2)] + text + html[match.end(2):])

    def numbers_without(route):
        response = route.fetch()
        route.fulfill(response=response, json=old_shape(response.json()))

    page = open_console(app, browser, live_server, seeded["identity"], PHONE)
    page.route(f"{live_server}/admin/{CODE}", page_without)
    page.route("**/numbers.json**", numbers_without)
    page.route("**/missing.json**", numbers_without)
    page.route("**/events**", lambda route: route.abort())  # no stream: the page lives on reads
    page.goto(f"{live_server}/admin/{CODE}")
    assert page.locator("#missing .title").count() == 0
    assert "参会丁" in page.locator("#missing").inner_text() and "undefined" not in page.content()
    assert page.locator("#n-leave").inner_text() == "0"
    assert page.locator("#leave-card").is_hidden()
    assert recent_names(page) == ["参会乙", "参会甲"]
    assert not page.errors


@pytest.mark.browser
def test_proxy_and_undo_say_what_happened_and_refusals_show_the_servers_message(app, live_server, browser, seeded,
                                                                                committed_db):
    page = open_console(app, browser, live_server, seeded["identity"], PHONE)
    page.on("dialog", lambda d: d.accept("点错了") if d.type == "prompt" else d.accept())
    page.goto(f"{live_server}/admin/{CODE}")
    wait_js(page, "!document.body.classList.contains('offline')", timeout=5000)

    page.locator("#missing li", has_text="参会丙").locator("button", has_text="代签").click()
    wait_js(page, "document.getElementById('status').textContent.indexOf('代签') >= 0", timeout=3000)
    assert page.locator("#status").inner_text() == "已为 参会丙 代签，第 3 位签到"
    assert "bad" not in page.locator("#status").get_attribute("class")
    wait_js(page, "document.querySelector('#recent li .name').textContent === '参会丙'", timeout=3000)
    assert "代签" in page.locator("#recent li").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-live-proxy-390.png"))

    page.locator("#recent li", has_text="参会丙").locator("button", has_text="撤销").click()
    wait_js(page, "document.getElementById('status').textContent.indexOf('撤销') >= 0", timeout=3000)
    assert page.locator("#status").inner_text() == "已撤销 参会丙 的签到（原因：点错了），其已回到未到名单"
    wait_js(page, "document.getElementById('missing').textContent.indexOf('参会丙') >= 0", timeout=3000)

    # A page that missed a change (its stream cut): 撤销 of someone already revoked elsewhere.
    stale = open_console(app, browser, live_server, seeded["identity"], PHONE)
    stale.on("dialog", lambda d: d.accept("重复"))
    stale.route("**/events**", lambda route: route.abort())
    stale.route("**/numbers.json**", lambda route: route.abort())
    stale.goto(f"{live_server}/admin/{CODE}")
    revoke_now(committed_db, seeded, seeded["people"][1], "在别处撤销")
    stale.locator("#recent li", has_text="参会乙").locator("button", has_text="撤销").click()
    wait_js(stale, "document.getElementById('status').classList.contains('bad')", timeout=3000)
    assert stale.locator("#status").inner_text() == "该人员尚未签到"  # error.message of the JSON answer
    assert not page.errors and not stale.errors


def test_every_json_address_carries_the_session(client, db, console):
    meeting = console.meeting
    first = meeting.sessions[0]
    meeting.sessions.append(MeetingSession(position=2, title="下午场", starts_at=first.starts_at,
                                           ends_at=first.ends_at, signin_opens_at=first.signin_opens_at,
                                           signin_closes_at=first.signin_closes_at))
    db.session.commit()
    login_as(client, console, "owner")
    html = client.get(f"/admin/{meeting.code}?s=2").get_data(as_text=True)
    assert 'class="on">下午场</a>' in html
    config = json.loads(re.search(r'id="console-config">(.*?)</script>', html, re.S).group(1))
    urls = {k: v for k, v in config.items() if isinstance(v, str)}
    assert set(urls) == {"events", "numbers", "missingList", "proxy", "revoke", "remind", "reminderList"}
    assert all(re.search(r"[?&]s=2(&|$)", u) for u in urls.values()), urls


def missing_names(page) -> list[str]:
    return page.locator("#missing li .name").all_inner_texts()


@pytest.mark.browser
def test_few_missing_are_all_listed_and_filtered_here_by_title(app, live_server, browser, seeded):
    page = open_console(app, browser, live_server, seeded["identity"], PC)
    page.goto(f"{live_server}/admin/{CODE}")
    assert missing_names(page) == ["参会丙", "参会戊", "参会庚", "参会丁", "参会己"]
    page.fill("#filter", "主任")  # 职务
    assert missing_names(page) == ["参会己"]
    page.fill("#filter", "财政")  # a unit: all its missing
    assert missing_names(page) == ["参会丁", "参会己"]
    page.fill("#filter", "没有这个人")
    assert page.locator("#missing").inner_text() == "没有符合条件的未到人员"
    page.fill("#filter", "")
    page.locator("#missing .unit-toggle").first.click()  # a unit's list closes and opens
    assert missing_names(page) == ["参会丁", "参会己"]
    page.locator("#missing .unit-toggle").first.click()
    assert len(missing_names(page)) == 5
    assert not page.errors


@pytest.mark.browser
def test_many_missing_are_read_a_unit_at_a_time_kept_exact_by_events_and_searched_on_the_server(
        app, live_server, browser, seeded, committed_db, monkeypatch):
    from app.web import console as console_view

    monkeypatch.setattr(console_view, "MISSING_INLINE_MAX", 2)  # 5 missing: a "large" meeting
    monkeypatch.setattr(console_view, "MISSING_PAGE", 2)
    meeting, session, people = seeded["meeting"], seeded["session"], seeded["people"]
    page = open_console(app, browser, live_server, seeded["identity"], PHONE)
    page.on("dialog", lambda d: d.accept())
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "missing.json" in r.url else None)
    page.goto(f"{live_server}/admin/{CODE}")
    wait_js(page, "!document.body.classList.contains('offline')", timeout=5000)
    # Units closed, with their counts; no names until one is opened.
    toggles = page.locator("#missing .unit-toggle")
    assert toggles.all_text_contents() == ["区发展和改革局（1/4）未到 3", "区财政局（1/3，请假 1）未到 2"]
    assert missing_names(page) == [] and reads == []
    page.screenshot(path=str(ARTIFACTS / "console-live-many-closed-390.png"), full_page=True)

    toggles.first.click()
    wait_js(page, "document.querySelectorAll('#missing li').length === 2", timeout=3000)
    assert missing_names(page) == ["参会丙", "参会戊"]
    more = page.locator("#missing button.more")
    assert more.inner_text() == "显示更多（还有 1 人）"
    more.click()
    wait_js(page, "document.querySelectorAll('#missing li').length === 3", timeout=3000)
    assert missing_names(page) == ["参会丙", "参会戊", "参会庚"] and page.locator("#missing button.more").count() == 0
    assert len(reads) == 2 and "after=" in reads[1]

    # The box searches the server (职务), and an empty box shows the units again as they were.
    page.fill("#filter", "科长")
    wait_js(page, "document.getElementById('missing-note').textContent === '共 1 人符合'", timeout=3000)
    assert missing_names(page) == ["参会丁"] and page.locator("#missing li button", has_text="代签").count() == 1
    assert "q=%E7%A7%91%E9%95%BF" in reads[-1]
    page.fill("#filter", "")
    wait_js(page, "document.querySelectorAll('#missing li').length === 3", timeout=3000)

    # With no more reads of the lists, the open list follows sign-ins and revokes from their events.
    page.route("**/missing.json**", lambda route: route.abort())
    sign_in(meeting, session, people[4], method="scan", check_window=False)  # 参会戊, elsewhere
    wait_js(page, "document.querySelectorAll('#missing li').length === 2", timeout=3000)
    assert missing_names(page) == ["参会丙", "参会庚"]
    wait_js(page, "document.querySelector('#missing .unit-missing').textContent === '未到 2'", timeout=3000)
    revoke_now(committed_db, seeded, people[4], "误签")
    wait_js(page, "document.querySelectorAll('#missing li').length === 3", timeout=3000)
    assert missing_names(page) == ["参会丙", "参会戊", "参会庚"]  # back in its place

    # 代签 from the opened list.
    page.locator("#missing li", has_text="参会庚").locator("button", has_text="代签").click()
    wait_js(page, "document.getElementById('status').textContent.indexOf('代签') >= 0", timeout=3000)
    assert page.locator("#status").inner_text().startswith("已为 参会庚 代签")
    wait_js(page, "document.querySelectorAll('#missing li').length === 2", timeout=3000)
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "console-live-many-open-390.png"), full_page=True)
    assert not page.errors
