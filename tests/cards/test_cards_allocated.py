"""The allocation's layer of the card: fixed fields always, timed ones until they are over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.cards.allocated import Allocated

T0 = datetime(2026, 12, 3, 4, 0, tzinfo=UTC)


def test_the_next_meal_and_bus_not_over_are_shown_with_the_room():
    lunch = {"meal_name": "午餐", "meal_place": "2 楼宴会厅", "meal_table": "5"}
    dinner = {"meal_name": "晚餐", "meal_place": "1 楼中餐厅", "meal_table": "8"}
    bus = {"bus_route": "酒店—会场", "bus_car": "3 号车", "bus_time": "13:30"}
    a = Allocated(fixed={7: {"hotel_name": "西湖宾馆", "hotel_room": "1208", "seat": "3 排 12 号"}},
                  timed={7: [(T0 + timedelta(hours=1), lunch), (T0 + timedelta(hours=2), bus),
                             (T0 + timedelta(hours=8), dinner)]})
    at_noon = a.fields_at(7, T0)
    assert at_noon["meal_name"] == "午餐" and at_noon["bus_car"] == "3 号车" and at_noon["hotel_room"] == "1208"
    after_lunch = a.fields_at(7, T0 + timedelta(hours=1))
    assert after_lunch["meal_name"] == "晚餐" and after_lunch["meal_table"] == "8"
    evening = a.fields_at(7, T0 + timedelta(hours=9))
    assert "meal_name" not in evening and "bus_car" not in evening and evening["seat"] == "3 排 12 号"
    assert a.fields_at(8, T0) == {} and not Allocated()


def test_the_door_sees_a_bulk_written_meal_plan_and_room_allocation_at_once(db, factory):
    """The meal plan and the room allocation write their rows in bulk, yet the door's per-process
    copy of the cards (app/services/cards/book.py) learns of each at once."""
    from app.services import meeting_cache
    from app.services.cards import book
    from app.services.logistics import lodging, meals
    from app.services.timeutil import local
    from tests.lodging.conftest import build_scene

    scene = build_scene(factory, code="BULKCARD")
    meeting, who = scene.meeting, scene.people["甲一"]
    day = (local(T0) + timedelta(days=1)).date().isoformat()
    lunch = meals.save_sitting(meeting, {"name": "午餐", "day": day, "starts": "12:00", "ends": "13:00",
                                         "place": "2 楼宴会厅"}, actor="t")
    meals.add_tables(meeting, lunch, {"count": "2", "seats": "10"}, actor="t")

    def fields() -> dict[str, str]:
        meeting_cache.meeting_with_sessions(meeting.code, lambda _code: meeting)
        return book.for_door(meeting, lambda _m, b: b.allocated.fields_at(who, T0))

    assert fields() == {}
    meals.auto_assign(meeting, lunch, actor="t")
    assert fields()["meal_place"] == "2 楼宴会厅"
    lodging.run_allocation(meeting, actor="t", acting=None)
    lodging.publish(meeting, actor="t", acting=scene.console.owner)
    assert fields()["hotel_name"] in ("会议中心酒店", "迎宾馆")
