"""Every HTML error page says what happened and what to do, in Chinese, and offers a way back that fits
the door it was reached through (attendee, console, unit office, big screen); the stable code is small
print, never the heading. JSON answers keep their shape and text."""

from __future__ import annotations

import html
import re

import pytest
from werkzeug.exceptions import abort

from app.services.errors import DomainError
from app.web.error_pages import HINTS
from tests.console.conftest import build_console, login_as

STATUSES = (400, 401, 403, 404, 405, 413, 429, 500, 503)
TITLES = {400: "请求有误", 401: "需要登录", 403: "没有访问权限", 404: "找不到该页面", 405: "不支持该操作方式",
          413: "上传的内容太大", 429: "操作过于频繁", 500: "服务器出错了", 503: "服务暂时不可用"}
CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         413: "payload_too_large", 429: "rate_limited", 500: "internal_error", 503: "http_error"}
#: door: (a page of it, its endpoint, the door's own way back (label, href))
DOORS = {
    "attendee": ("/m/ERR1/votes", "votes.attendee_list", ("我的会议", "/m/my")),
    "console": ("/admin/ERR1/settings", "console_meetings.settings", ("会议列表", "/admin")),
    "units": ("/units/history", "units_office.history", ("通讯录管理首页", "/units/")),
}
#: The meeting the page was about, where the door links to it (not after a 401 or a 404).
MEETING_LINKS = {"attendee": ("查看会议", "/m/ERR1"), "console": ("返回会议", "/admin/ERR1")}
CJK = re.compile(r"[\u4e00-\u9fff]")


def _failing(status: int):
    def view(**_kwargs):
        if status == 500:
            raise RuntimeError("a bug")
        abort(status)
    return view


def _heading(page: str) -> str:
    headings = re.findall(r"<h1>(.*?)</h1>", page, re.S)
    assert len(headings) == 1, headings
    return html.unescape(headings[0]).strip()


def _links(page: str) -> list[tuple[str, str, bool]]:
    """(label, href, is 返回上一页) of the page's ways on, in order."""
    nav = re.search(r'<nav class="actions"[^>]*>(.*?)</nav>', page, re.S).group(1)
    return [(html.unescape(label), html.unescape(href), "data-back" in attrs)
            for href, attrs, label in re.findall(r'<a href="([^"]*)"([^>]*)>([^<]*)</a>', nav)]


def assert_error_page(response, *, status: int, code: str, title: str, hint: str) -> list[tuple[str, str, bool]]:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    heading = _heading(page)
    assert heading == title and CJK.search(heading), heading
    assert code not in heading and not re.fullmatch(r"[\x00-\x7f]*", heading)  # no bare English code as heading
    assert f'<p class="hint">{hint}</p>' in page and "请" in hint  # a sentence of what to do
    # The code stays for support, as small print and a data attribute.
    assert f'data-error-code="{code}"' in page and f'<p class="code">错误代码 {status} · {code}</p>' in page
    # The one script runs under this response's CSP nonce; nothing inline outside it.
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    assert page.count("<script") == 1 and f'<script nonce="{nonce}">' in page and "onclick" not in page
    links = _links(page)
    back = [link for link in links if link[2]]
    assert len(back) == 1 and back[0][0] == "返回上一页" and back[0] == links[-1]
    assert back[0][1].startswith("/")  # a plain link for when there is no history to go back to
    return links


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize("door", DOORS)
def test_every_error_page_of_every_door_says_what_happened_what_to_do_and_links_back(
        app, client, monkeypatch, door, status):
    path, endpoint, home = DOORS[door]
    monkeypatch.setitem(app.view_functions, endpoint, _failing(status))
    res = client.get(path + "?x=1", headers={"Accept": "text/html"})
    hint = HINTS[status].get(door) or HINTS[status][None]
    links = assert_error_page(res, status=status, code=CODES[status], title=TITLES[status], hint=hint)
    labels = [(label, href) for label, href, back in links if not back]
    assert home in labels
    meeting = MEETING_LINKS.get(door)
    if meeting:
        assert (meeting in labels) == (status not in (401, 404))
    if status == 401 and door == "console":
        assert labels[0] == ("扫码登录", "/admin/login?next=/admin/ERR1/settings?x%3D1")
    if status == 401 and door == "units":
        assert labels[0] == ("重新登录", "/units/login?next=/units/history")
    if status in (500, 503):
        assert ("刷新重试", path + "?x=1") in labels
    # 返回上一页 falls back to the door's home (or the meeting), never to the failing page.
    assert links[-1][1] in {href for _label, href in labels} - {path + "?x=1"}


@pytest.mark.parametrize("status", STATUSES)
def test_json_answers_keep_their_shape_and_text(app, client, monkeypatch, status):
    monkeypatch.setitem(app.view_functions, "console_meetings.settings", _failing(status))
    res = client.get("/admin/ERR1/settings", headers={"Accept": "application/json"})
    assert res.status_code == status and res.mimetype == "application/json"
    body = res.get_json()
    assert list(body) == ["error"] and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == CODES[status]
    if status != 503:  # werkzeug's own description, as before
        assert body["error"]["message"] == {
            400: "请求格式有误", 401: "请先登录", 403: "您没有权限访问此页面", 404: "页面不存在",
            405: "不支持该请求方式", 413: "上传的内容太大", 429: "操作过于频繁，请稍后再试",
            500: "服务器开小差了，请稍后再试"}[status]


def test_a_domain_error_shows_its_own_message_under_the_heading(app, client, monkeypatch):
    def view(**_kwargs):
        raise DomainError("conflict")
    monkeypatch.setitem(app.view_functions, "console_meetings.settings", view)
    res = client.get("/admin/ERR1/settings")
    assert_error_page(res, status=409, code="conflict", title="数据已发生变化", hint="请刷新页面查看最新数据后再操作。")
    assert '<p class="detail">数据已被修改，请刷新后重试</p>' in res.text


def test_an_english_description_never_becomes_the_page_text(app, client, monkeypatch):
    monkeypatch.setitem(app.view_functions, "units_office.history", _failing(503))
    page = client.get("/units/history").get_data(as_text=True)
    assert "temporarily" not in page and 'class="detail"' not in page


@pytest.fixture
def con(factory):
    return build_console(factory, "ERRC1")


def test_an_attendee_asking_for_an_unknown_meeting(client, con):
    login_as(client, con, "stranger")
    res = client.get("/m/NOSUCH")
    links = assert_error_page(res, status=404, code="meeting_not_found", title="找不到该页面",
                              hint=HINTS[404]["attendee"])
    assert "找不到会议：NOSUCH" in res.text
    assert [(label, href) for label, href, _ in links] == [("我的会议", "/m/my"), ("返回上一页", "/m/my")]


def test_an_organizer_of_another_meeting_is_sent_to_the_meeting_list(client, con):
    login_as(client, con, "stranger")
    res = client.get(f"/admin/{con.meeting.code}/settings")
    links = assert_error_page(res, status=403, code="not_organizer", title="没有访问权限", hint=HINTS[403]["console"])
    assert "您不是本次会议的会务人员" in res.text
    # The meeting would refuse them the same way: no link to it.
    assert [(label, href) for label, href, _ in links] == [("会议列表", "/admin"), ("返回上一页", "/admin")]


def test_a_viewer_refused_an_action_may_go_back_to_the_meeting(client, con):
    login_as(client, con, "viewer")
    res = client.post(f"/admin/{con.meeting.code}/door/guest", data={"name": "来宾"})
    links = assert_error_page(res, status=403, code="right_missing", title="没有访问权限", hint=HINTS[403]["console"])
    assert ("返回会议", f"/admin/{con.meeting.code}", False) in links


def test_a_big_screen_with_a_stale_key_points_to_the_console(client, con):
    res = client.get(f"/screen/{con.meeting.code}?k=stale")
    links = assert_error_page(res, status=403, code="forbidden", title="没有访问权限", hint=HINTS[403]["screen"])
    assert links[0][:2] == ("打开会务后台", f"/admin/{con.meeting.code}")


def test_a_method_the_route_does_not_take_still_says_what_it_allows(client):
    res = client.put("/units/history")
    assert_error_page(res, status=405, code="method_not_allowed", title="不支持该操作方式", hint=HINTS[405][None])
    assert "GET" in res.headers["Allow"]


def test_a_page_outside_every_door_offers_both_entrances(client):
    res = client.get("/no/such/page")
    links = assert_error_page(res, status=404, code="not_found", title="找不到该页面", hint=HINTS[404][None])
    assert [(label, href) for label, href, _ in links[:2]] == [("我的会议", "/m/my"), ("会务后台", "/admin")]


def test_a_stale_form_says_the_page_expired(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    res = client.post("/units/login", data={"username": "x", "password": "y"})
    assert_error_page(res, status=400, code="csrf_failed", title="页面已过期",
                      hint="页面停留太久或已在别处更新，请返回上一页，刷新后重新提交。")
