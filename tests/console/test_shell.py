"""The console shell: who gets in, and how a visitor without a session is sent to log in."""

from __future__ import annotations

from tests.console.conftest import login_as

WECHAT_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50"


def test_desktop_visitor_is_sent_to_the_scan_login(client, console):
    res = client.get(f"/admin/{console.meeting.code}")
    assert res.status_code == 302
    assert res.headers["Location"].startswith("/admin/login?next=")


def test_wechat_visitor_goes_through_oauth(client, console):
    res = client.get(f"/admin/{console.meeting.code}", headers={"User-Agent": WECHAT_UA})
    assert res.status_code == 302 and "/connect/oauth2/authorize" in res.headers["Location"]


def test_unit_organizer_owns_the_units_meetings_and_no_other(client, console, factory):
    other_meeting = factory.meeting("CON2", title="组织部会议")
    other_meeting.unit_id = console.other_unit.id
    factory.db.session.commit()
    login_as(client, console, "owner")
    page = client.get(f"/admin/{console.meeting.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "区委常委扩大会议" in html and "参会人员" in html and "会务人员" in html
    assert client.get("/admin/CON2").status_code == 403
    login_as(client, console, "outsider")
    assert client.get("/admin/CON2").status_code == 200
    assert client.get(f"/admin/{console.meeting.code}").status_code == 403


def test_every_organizer_menu_item_answers_200(app, client, console, sim):
    """会务管理's entries: the view buttons open pages that answer 200; the click buttons are answered
    by the official account (tests/live/test_organizer_commands.py)."""
    from app.services.codes.menus import organizer_menu

    base = app.config["PUBLIC_BASE_URL"]
    views = [b["url"] for top in organizer_menu(base) for b in (top.get("sub_button") or [top])
             if b.get("type") == "view"]
    assert base + "/admin" in views
    for who in ("owner", "staff"):
        login_as(client, console, who)
        for url in views:
            res = client.get(url.removeprefix(base), headers={"User-Agent": WECHAT_UA})
            assert res.status_code == 200, (who, url, res.status_code)
