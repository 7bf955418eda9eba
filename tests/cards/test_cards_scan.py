"""The scan reply carries the service card's headline (issue 17), through the WeChat simulator: a
person with a seat, a meal and a next item hears them first; a person without gets today's reply."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.cards import store
from app.services.codes.scenes import make_scene
from app.services.identity.binding import bind, get_or_create_identity
from app.services.meetings.sessions import set_agenda
from app.services.timeutil import local


@pytest.fixture
def door(factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    meeting = factory.meeting("CARDSCAN", title="全区经济工作会议")  # opens now, starts in 30 min
    zhang = factory.contact(unit, name="张三", phone="13800138000")
    li = factory.contact(unit, name="李四", phone="13900139000")
    factory.invitee(meeting, zhang, seat="3 排 12 号", group_name="第一代表团")
    factory.invitee(meeting, li)
    # Within the meeting's own China day (tests/factories.meeting_times), after now whatever the hour.
    next_at = local(meeting.starts_at + timedelta(minutes=60))
    set_agenda(meeting, [{"time": f"{local(meeting.starts_at):%H:%M}", "title": "全体会议"},
                         {"time": f"{next_at:%H:%M}", "title": "分组讨论"}], actor="test")
    store.set_fields(meeting, "group", "第一代表团", {"meal_name": "午餐", "meal_place": "2 楼宴会厅"}, actor="test")
    for openid, name, phone in (("o-zhang", "张三", "13800138000"), ("o-li", "李四", "13900139000")):
        bind(get_or_create_identity(oa_openid=openid), unit_text="发改局", name=name, phone=phone, ip=None)
    factory.db.session.commit()
    return meeting


def scan(sim, openid, meeting):
    return sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(meeting.code, 1))])


def when(meeting, minutes: int) -> str:
    """The headline's time of the item: HH:MM today, with the date on another day (a test run late
    at night meets a meeting that starts after midnight)."""
    at = local(meeting.starts_at + timedelta(minutes=minutes))
    return f"{at:%H:%M}" if at.date() == local(datetime.now(UTC)).date() else f"{at.month}月{at.day}日 {at:%H:%M}"


def test_the_first_line_is_the_cards_headline(db, sim, door):
    reply = scan(sim, "o-zhang", door)
    first, second, link = reply.text.split("\n")
    assert first == f"签到成功，第 1 位 · 座位 3 排 12 号 · 午餐 2 楼宴会厅 · 下一项 {when(door, 0)} 全体会议"
    assert second.startswith("张三（区发展和改革局），") and second.endswith("签到")
    assert "http://huiyi.test/m/CARDSCAN" in link

    sim.clock.advance(2)  # a real second scan: the card's line comes after "您已签到"
    again = scan(sim, "o-zhang", door).text.split("\n")
    assert again[0].startswith("您已签到，无需重复扫码。张三") and again[1].startswith("座位 3 排 12 号 · 午餐")


def test_a_person_without_card_data_gets_todays_reply(db, sim, door):
    door.agenda = []  # no next item either
    db.session.commit()
    reply = scan(sim, "o-li", door)
    assert reply.text.startswith("签到成功！李四（区发展和改革局），您是第 1 位签到，")
    assert "·" not in reply.text and "座位" not in reply.text


def test_only_the_next_item_when_that_is_all_the_person_has(db, sim, door):
    reply = scan(sim, "o-li", door)
    assert reply.text.split("\n")[0] == f"签到成功，第 1 位 · 下一项 {when(door, 0)} 全体会议"


def test_a_change_to_the_card_is_in_the_next_reply(db, sim, door):
    assert "2 楼宴会厅" in scan(sim, "o-zhang", door).text  # the door's copy is filled
    store.set_fields(door, "group", "第一代表团", {"meal_place": "3 楼小宴会厅"}, actor="test")
    db.session.commit()
    sim.clock.advance(2)
    assert "午餐 3 楼小宴会厅" in scan(sim, "o-zhang", door).text
