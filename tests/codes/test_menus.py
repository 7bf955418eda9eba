"""Menus and the organizer tag, checked against the simulator's state and menu/trymatch."""

from __future__ import annotations

import json

import pytest

from app.services.codes import menus
from app.services.identity.binding import bind, get_or_create_identity
from app.services.meetings.organizers import add_organizer
from app.wechat import oa_api


def names(buttons) -> list[str]:
    out = []
    for b in buttons:
        out.append(b["name"])
        out.extend(names(b.get("sub_button") or []))
    return out


@pytest.fixture
def people(db, factory, sim):
    unit = factory.unit("ZFB", "区政府办公室", aliases=["区府办"])
    factory.meeting("MENUS", title="全区工作会议")
    factory.contact(unit, name="周敏", phone="13905710006")
    factory.contact(unit, name="刘洋", phone="13905710004")
    add_organizer("MENUS", "13905710006", actor="test")
    for openid, name, phone in (("o-org", "周敏", "13905710006"), ("o-att", "刘洋", "13905710004")):
        sim.state.ensure_user(openid, subscribed=True)
        bind(get_or_create_identity(oa_openid=openid), unit_text="区府办", name=name, phone=phone, ip=None)


def test_sync_menus_creates_default_and_organizer_menus(db, sim, people):
    result = menus.sync_menus()
    assert result["changed"] is True
    tag = next(t for t in sim.state.tags.values() if t.name == "会务组")
    assert result["tag_id"] == tag.id
    assert names(sim.state.default_menu.button) == ["我的会议", "会议资料", "使用帮助"]
    (conditional,) = sim.state.conditional_menus
    assert conditional.matchrule == {"tag_id": str(tag.id)}
    assert sim.state.default_menu.button[0]["url"] == "http://huiyi.test/m/my"

    menus.sync_organizer_tags()
    organizer_sees = names(oa_api().try_match_menu("o-org")["button"])
    attendee_sees = names(oa_api().try_match_menu("o-att")["button"])
    assert {"会议管理", "实时人数", "未到名单", "签到二维码", "我的会议"} <= set(organizer_sees)
    assert "会议管理" not in attendee_sees and attendee_sees == ["我的会议", "会议资料", "使用帮助"]
    org_leaf = {b["name"]: b for b in conditional.button[1]["sub_button"]}
    assert org_leaf["会议管理"]["url"] == "http://huiyi.test/admin"
    assert org_leaf["实时人数"]["key"] == menus.ORG_HEADCOUNT


def test_sync_menus_is_idempotent(db, sim, people):
    first = menus.sync_menus()
    writes = sim.state.calls["/cgi-bin/menu/create"] + sim.state.calls["/cgi-bin/menu/addconditional"]
    second = menus.sync_menus()
    assert second == {**first, "changed": False}
    assert sim.state.calls["/cgi-bin/menu/create"] + sim.state.calls["/cgi-bin/menu/addconditional"] == writes
    assert len(sim.state.conditional_menus) == 1
    assert sum(1 for t in sim.state.tags.values() if t.name == "会务组") == 1


def test_a_changed_menu_is_rewritten(app, db, sim, people, monkeypatch):
    menus.sync_menus()
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://meet.example.gov.cn")
    assert menus.sync_menus()["changed"] is True
    assert len(sim.state.conditional_menus) == 1
    assert sim.state.conditional_menus[0].button[0]["url"] == "https://meet.example.gov.cn/m/my"


def test_menus_respect_wechat_limits():
    for menu in (menus.default_menu("https://x.cn"), menus.organizer_menu("https://x.cn")):
        menus.check_limits(menu)
    with pytest.raises(ValueError):
        menus.check_limits([{"type": "click", "name": "会议管理中心入口", "key": "K"}])  # 24 bytes on top


def test_tag_sync_adds_and_removes(db, sim, people, factory):
    result = menus.sync_organizer_tags()
    tag_id = result["tag_id"]
    assert result["added"] == ["o-org"] and result["removed"] == []
    assert tag_id in sim.state.get_user("o-org").tags and tag_id not in sim.state.get_user("o-att").tags

    # Someone tagged by hand who is no organizer, and 60 stale openids (more than one batch of 50).
    stale = [f"o-stale-{i}" for i in range(60)]
    for openid in [*stale, "o-att"]:
        sim.state.ensure_user(openid, subscribed=True)
    oa_api().tag_users(tag_id, [*stale, "o-att"])
    again = menus.sync_organizer_tags()
    assert sorted(again["removed"]) == sorted([*stale, "o-att"]) and again["added"] == []
    assert oa_api().tag_members(tag_id) == ["o-org"]
    assert menus.sync_organizer_tags() == {**again, "removed": []}


def test_cli_commands_print_json(app, db, sim, people, runner):
    out = runner.invoke(args=["wechat", "sync-menus", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["changed"] is True
    out = runner.invoke(args=["wechat", "sync-organizer-tags", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["added"] == ["o-org"]


def test_cli_reports_wechat_errors(app, db, sim, runner):
    sim.state.inject_error("/cgi-bin/tags/get", 45009)
    out = runner.invoke(args=["wechat", "sync-menus", "--json"])
    assert out.exit_code == 1
    assert json.loads(out.output.splitlines()[0])["error"]["errcode"] == 45009


def test_tag_sync_goes_on_past_an_openid_wechat_refuses(db, sim, people, factory):
    """One organizer whose openid WeChat refuses (they unfollowed: unknown to the account) must not
    keep every other organizer from getting the organizer menu."""
    gone = factory.contact(name="已取关", phone="13905710099")
    add_organizer("MENUS", "13905710099", actor="test")
    factory.identity(gone, oa_openid="o-unfollowed")  # never a follower in the simulator
    result = menus.sync_organizer_tags()
    assert result["added"] == ["o-org"]
    assert set(result["refused"]) == {"o-unfollowed"} and result["refused"]["o-unfollowed"]
    assert oa_api().tag_members(result["tag_id"]) == ["o-org"]
