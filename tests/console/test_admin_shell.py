"""The vote, survey and document admin pages inside the console shell: the meeting's tabs lead back to
the console, the page's own tab is highlighted, what a right may not do is not offered, and the admin
routes log in the console's way (desktop: scan page; WeChat: OAuth) while attendee pages keep WeChat's."""

from __future__ import annotations

import re

import pytest

from app.services.documents import materials as documents
from app.services.documents.convert import process_version
from app.services.votes import surveys, votes
from tests.browser import ARTIFACTS
from tests.console.conftest import build_console, login_as
from tests.documents.conftest import make_pdf

WECHAT_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50"


def _tab_on(html: str) -> str:
    found = re.findall(r'<a href="[^"]*" class="on">([^<]+)</a>', html)
    return found[0] if found else ""


def _pages(console) -> dict[str, tuple[str, str]]:
    """Every admin page of the three areas: url -> (its tab, a text only that page has)."""
    m = console.meeting
    vote = votes.create_vote(m, actor=console.owner, title="关于<议程>的表决", kind="motion")
    survey = surveys.create_survey(m, actor=console.owner, title="满意度调查",
                                   questions=[{"kind": "rating", "text": "会务评分", "options": [], "required": True}])
    version = documents.upload(m, console.owner, data=make_pdf(1), file_name="议程.pdf", title="会议议程")
    process_version(version.id)
    return {
        f"/admin/{m.code}/votes": ("投票", "投票列表"),
        f"/admin/{m.code}/votes/{vote.id}": ("投票", "关于&lt;议程&gt;的表决"),
        f"/admin/{m.code}/surveys": ("问卷", "问卷列表"),
        f"/admin/{m.code}/surveys/{survey.id}": ("问卷", "会务评分"),
        f"/admin/{m.code}/documents": ("会议材料", "已上传材料"),
        f"/admin/{m.code}/documents/{version.document_id}/log": ("会议材料", "阅读记录"),
    }


def test_admin_pages_sit_in_the_console_shell(db, client, console):
    pages = _pages(console)
    db.session.commit()
    login_as(client, console, "staff")
    for url, (tab, text) in pages.items():
        res = client.get(url)
        assert res.status_code == 200, url
        html = res.get_data(as_text=True)
        assert text in html, url
        assert _tab_on(html) == tab, url
        assert f'href="/admin/{console.meeting.code}"' in html, url  # back to the live page
        assert 'class="topbar"' in html and "会务李" in html, url
        assert "<script>" not in html, url  # scripts come from static files only


def test_a_viewer_sees_the_pages_but_not_the_actions(db, client, console):
    pages = _pages(console)
    db.session.commit()
    login_as(client, console, "viewer")
    for url in pages:
        if "/documents" in url:  # materials are for staff: the tab is not even shown to a viewer
            assert client.get(url).status_code == 403, url
            continue
        html = client.get(url).get_data(as_text=True)
        assert client.get(url).status_code == 200, url
        for action in ('id="create-vote"', 'id="create-survey"', 'id="open-vote"', 'id="close-vote"', "导出 Excel",
                       "开始问卷"):
            assert action not in html, (url, action)
        tabs = re.search(r'<div class="tabs">(.*?)</div>', html, re.S).group(1)
        assert "投票" not in tabs and "会议材料" not in tabs, url  # the tabs follow the right too


def test_outsiders_are_refused_and_logins_go_the_consoles_way(db, client, console):
    pages = _pages(console)
    db.session.commit()
    for url in pages:
        res = client.get(url)
        assert res.status_code == 302 and res.headers["Location"].startswith("/admin/login?next="), url
        res = client.get(url, headers={"User-Agent": WECHAT_UA})
        assert res.status_code == 302 and "/connect/oauth2/authorize" in res.headers["Location"], url
    code = console.meeting.code
    # attendee pages still sign in through WeChat, on a desktop as well
    for url in (f"/m/{code}/votes", f"/m/{code}/documents"):
        res = client.get(url)
        assert res.status_code == 302 and "/admin/login" not in res.headers["Location"], url
    login_as(client, console, "outsider")
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert client.post(f"/admin/{code}/votes", data={"title": "越权", "kind": "motion"}).status_code == 403
    assert client.post(f"/admin/{code}/surveys", data={"title": "越权"}).status_code == 403


def test_a_refused_vote_form_keeps_the_shell_and_the_input(db, client, console):
    login_as(client, console, "staff")
    res = client.post(f"/admin/{console.meeting.code}/votes", data={"title": "", "kind": "single",
                                                                     "options": "甲\n乙"})
    html = res.get_data(as_text=True)
    assert res.status_code == 400 and "请填写投票标题" in html and _tab_on(html) == "投票"
    assert "甲\n乙" in html and 'value="single" selected' in html


@pytest.fixture
def shown(committed_db):
    from tests.factories import Factory

    console = build_console(Factory(committed_db), code="SHELL1")
    m = console.meeting
    vote = votes.create_vote(m, actor=console.owner, title="关于《2027年区级重点项目计划》的表决", kind="motion",
                             results_visibility="live")
    votes.open_vote(m, vote, actor=console.owner)
    for title in ("会议议程", "2027年区级重点项目计划（草案）"):
        version = documents.upload(m, console.owner, data=make_pdf(2), file_name=f"{title}.pdf", title=title)
        process_version(version.id)
    committed_db.session.commit()
    return console, vote.id


@pytest.mark.browser
def test_vote_and_documents_admin_read_well_on_a_phone_and_a_pc(app, live_server, browser, shown):
    from app.web.auth import SESSION_KEY

    console, vote_id = shown
    code = console.meeting.code
    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: console.identities["staff"].id})
    ARTIFACTS.mkdir(exist_ok=True)
    for viewport in ({"width": 390, "height": 844}, {"width": 1366, "height": 768}):
        context = browser.new_context(viewport=viewport, locale="zh-CN", is_mobile=viewport["width"] < 600)
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
        for name, path in (("vote", f"/admin/{code}/votes/{vote_id}"), ("documents", f"/admin/{code}/documents")):
            page.goto(live_server + path)
            assert page.locator(".tabs a.on").inner_text() == ("投票" if name == "vote" else "会议材料")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), (name, viewport)
            page.screenshot(path=str(ARTIFACTS / f"console-{name}-admin-{viewport['width']}.png"), full_page=True)
        page.goto(f"{live_server}/admin/{code}/votes/{vote_id}")
        assert page.locator("#v-state").inner_text() == "进行中"
        page.wait_for_timeout(1300)  # the bars' first poll has been applied without an error
        assert page.locator("#v-state").inner_text() == "进行中" and not errors
        # back to the live page through the tabs
        page.locator(".tabs a", has_text="实时签到").click()
        page.wait_for_url(f"**/admin/{code}")
        context.close()
