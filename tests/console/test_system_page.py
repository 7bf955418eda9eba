"""/admin/system: only system administrators; each action through the grants service."""

from __future__ import annotations

from sqlalchemy import select

from app.services.meetings import grants
from models import Unit, UnitOrganizer
from tests.console.conftest import login_as


def test_only_admins_open_the_system_page(client, console, db):
    for who in ("owner", "staff", "stranger"):
        login_as(client, console, who)
        assert client.get("/admin/system").status_code == 403, who
        assert client.post("/admin/system/units", data={"code": "X1", "name": "x"}).status_code == 403, who
    assert db.session.scalar(select(Unit).where(Unit.code == "X1")) is None
    grants.add_system_admin(console.stranger.phone, actor="test")
    db.session.commit()
    login_as(client, console, "stranger")
    html = client.get("/admin/system").get_data(as_text=True)
    assert "区委办公室" in html and "主办王" in html and "系统管理员" in html


def test_admin_grants_an_organizer_and_bad_input_is_flashed(client, console, db):
    grants.add_system_admin(console.stranger.phone, actor="test")
    db.session.commit()
    login_as(client, console, "stranger")
    res = client.post("/admin/system/organizers", data={"unit": "ZZB", "phone": console.staff.phone})
    assert res.status_code == 302
    assert db.session.get(UnitOrganizer, (console.other_unit.id, console.staff.id)) is not None
    res = client.post("/admin/system/organizers", data={"unit": "ZZB", "phone": "123"}, follow_redirects=True)
    assert "手机号格式不正确" in res.get_data(as_text=True)
    res = client.post("/admin/system/units", data={"code": "中文", "name": "新单位"}, follow_redirects=True)
    assert "单位代码只能包含" in res.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.name == "新单位")) is None
