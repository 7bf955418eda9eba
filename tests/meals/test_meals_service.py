"""Meals and buses through their services: sittings, tables, routes and cars checked; the plan
never over capacity; the kitchen's diet counts; the card's current or next meal and bus; moves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.cards.allocated import Allocated
from app.services.logistics import buses, meals
from app.services.logistics.placing import LogisticsError
from app.services.meetings.invitees import remove_invitees
from models import AuditLog, BusAssignment, Invitee, MealAssignment, MealSitting, MealTable
from tests.meals.conftest import register


def sitting(meeting, name="午餐", day="2026-12-03", starts="12:00", ends="13:00", place="2 楼宴会厅"):
    return meals.save_sitting(meeting, {"name": name, "day": day, "starts": starts, "ends": ends, "place": place},
                              actor="test")


def route(meeting, name="酒店—会场", day="2026-12-03", departs="07:30"):
    return buses.save_route(meeting, {"name": name, "day": day, "departs": departs, "from_place": "国宾馆",
                                      "to_place": "会议中心"}, actor="test")


def at(day: int, hm: str) -> datetime:
    """China time on 2026-12-<day> as aware UTC."""
    h, m = map(int, hm.split(":"))
    return datetime(2026, 12, day, h, m, tzinfo=UTC) - timedelta(hours=8)


def test_a_sitting_is_stored_in_utc_from_china_time(db, scene):
    s = sitting(scene.meeting)
    assert (s.starts_at, s.ends_at, s.place) == (at(3, "12:00"), at(3, "13:00"), "2 楼宴会厅")


def test_the_plan_puts_leaders_at_the_head_table_and_keeps_the_delegation_together(db, scene):
    s = sitting(scene.meeting)
    meals.add_tables(scene.meeting, s, {"label": "主桌", "seats": "2", "head": "1"}, actor="test")
    meals.add_tables(scene.meeting, s, {"count": "3", "seats": "4"}, actor="test")
    result = meals.auto_assign(scene.meeting, s, actor="test")
    assert (result.placed, result.unplaced) == (11, [])
    view = meals.views(scene.meeting)[0]
    by_label = {t.label: [p.name for p in t.people] for t in view.tables}
    assert sorted(by_label["主桌"]) == ["书记", "县长"]
    assert sorted(next(names for names in by_label.values() if "甲一" in names)) == ["甲一", "甲三", "甲二"]
    assert all(len(t.people) <= t.table.seats for t in view.tables)
    # The head table is listed first (the kitchen reads it first) whatever order it was added in.
    assert [t.label for t in view.tables] == ["主桌", "1", "2", "3"]


def test_the_kitchen_counts_each_diet_tag_per_table_and_in_total(db, scene):
    s = sitting(scene.meeting)
    meals.add_tables(scene.meeting, s, {"count": "1", "seats": "5"}, actor="test")
    meals.auto_assign(scene.meeting, s, actor="test")
    view = meals.views(scene.meeting)[0]
    # 书记 清真; 甲一 素食; 甲二 清真+素食; 乙一 清真; the other seven have none.
    assert view.tags == ["清真", "素食", "常规"]
    assert dict(view.total) == {"清真": 3, "素食": 2, "常规": 7}
    assert view.people == 11 and len(view.unseated.people) == 6
    table = view.tables[0]
    assert sum(table.diet.values()) >= len(table.people) and len(table.people) == 5
    assert sum(t.diet["清真"] for t in [*view.tables, view.unseated]) == 3


def test_keep_then_replace(db, scene):
    s = sitting(scene.meeting)
    t1, t2 = meals.add_tables(scene.meeting, s, {"count": "2", "seats": "6"}, actor="test")
    meals.move(scene.meeting, s, scene.people["乙二"], t2.id, actor="contact:1")
    result = meals.auto_assign(scene.meeting, s, actor="test")
    assert (result.kept, result.placed, result.unplaced) == (1, 10, [])
    row = db.session.scalar(select(MealAssignment).where(MealAssignment.contact_id == scene.people["乙二"]))
    assert (row.table_id, row.assigned_by) == (t2.id, "contact:1")
    meals.update_table(scene.meeting, t1, {"label": "1", "seats": "6"}, actor="test")
    again = meals.auto_assign(scene.meeting, s, actor="test", replace=True)
    assert (again.kept, again.placed, again.unplaced) == (0, 11, [])
    assert db.session.scalar(select(MealAssignment.assigned_by).where(
        MealAssignment.contact_id == scene.people["乙二"])) == "auto"


def test_a_move_never_goes_over_the_seats(db, scene):
    s = sitting(scene.meeting)
    (table,) = meals.add_tables(scene.meeting, s, {"label": "主桌", "seats": "1"}, actor="test")
    meals.move(scene.meeting, s, scene.people["书记"], table.id, actor="test")
    with pytest.raises(LogisticsError) as err:
        meals.move(scene.meeting, s, scene.people["县长"], table.id, actor="test")
    assert err.value.code == "place_full" and "主桌" in err.value.message
    # Moving the one already there to where they are is no change; taking them off frees the seat.
    meals.move(scene.meeting, s, scene.people["书记"], table.id, actor="test")
    meals.move(scene.meeting, s, scene.people["书记"], "", actor="test")
    meals.move(scene.meeting, s, scene.people["县长"], table.id, actor="test")
    with pytest.raises(LogisticsError) as err:
        meals.update_table(scene.meeting, table, {"label": "主桌", "seats": "0"}, actor="test")
    assert err.value.code == "seats_invalid"


def test_fewer_seats_than_people_there_is_refused(db, scene):
    s = sitting(scene.meeting)
    (table,) = meals.add_tables(scene.meeting, s, {"seats": "10"}, actor="test")
    meals.auto_assign(scene.meeting, s, actor="test")
    with pytest.raises(LogisticsError) as err:
        meals.update_table(scene.meeting, table, {"label": "1", "seats": "9"}, actor="test")
    assert err.value.code == "seats_below_taken"


def test_someone_not_on_the_list_or_a_table_of_another_sitting_is_refused(db, scene, factory):
    s1, s2 = sitting(scene.meeting), sitting(scene.meeting, name="晚餐", starts="18:00", ends="19:00")
    (t2,) = meals.add_tables(scene.meeting, s2, {"seats": "10"}, actor="test")
    for contact_id, table_id, code in [(scene.console.stranger.id, "", "person_not_invited"),
                                       ("abc", "", "person_not_invited"), ("99999999999999", "", "person_not_invited"),
                                       (scene.people["书记"], t2.id, "table_not_found"),
                                       (scene.people["书记"], "x", "table_not_found")]:
        with pytest.raises(LogisticsError) as err:
            meals.move(scene.meeting, s1, contact_id, table_id, actor="test")
        assert err.value.code == code
    other = factory.meeting("OTHER1")
    with pytest.raises(LogisticsError) as err:
        meals.get_sitting(other, s1.id)
    assert err.value.code == "sitting_not_found" and err.value.status == 404
    with pytest.raises(LogisticsError):
        meals.get_table(other, t2.id)


def test_buses_keep_a_unit_in_one_car(db, scene):
    r = route(scene.meeting)
    buses.add_cars(scene.meeting, r, {"count": "3", "seats": "5", "plate": "京a12345"}, actor="test")
    result = buses.auto_assign(scene.meeting, r, actor="test")
    assert (result.placed, result.unplaced) == (11, [])
    view = buses.views(scene.meeting)[0]
    assert [c.label for c in view.cars] == ["1 号车", "2 号车", "3 号车"]
    assert view.cars[0].car.plate == "京A12345"
    units = {}
    for car in view.cars:
        assert len(car.people) <= car.car.seats
        for p in car.people:
            units.setdefault(p.unit_id, set()).add(car.label)
    assert all(len(cars) == 1 for cars in units.values())


def test_card_fields_pick_the_current_or_next_sitting_and_route(db, scene):
    m = scene.meeting
    lunch, dinner = sitting(m), sitting(m, name="晚餐", starts="18:00", ends="19:30", place="1 楼餐厅")
    next_day = sitting(m, name="早餐", day="2026-12-04", starts="07:00", ends="08:00")
    for s in (lunch, dinner, next_day):
        meals.add_tables(m, s, {"label": "主桌" if s is dinner else "", "seats": "20"}, actor="test")
        meals.auto_assign(m, s, actor="test")
    morning, evening = route(m), route(m, name="会场—酒店", departs="17:30")
    for r in (morning, evening):
        buses.add_cars(m, r, {"label": "1 号车", "seats": "40", "plate": "京A12345"}, actor="test")
        buses.auto_assign(m, r, actor="test")
    who = scene.people["甲一"]
    fields = meals.card_fields(m.id, at(3, "09:00"))[who]
    assert fields == {"meal_name": "午餐", "meal_place": "2 楼宴会厅", "meal_time": "12月3日 12:00–13:00",
                      "meal_table": "1", "bus_route": "会场—酒店", "bus_time": "12月3日 17:30",
                      "bus_car": "1 号车（京A12345）"}
    assert meals.card_fields(m.id, at(3, "07:50"))[who]["bus_route"] == "酒店—会场"  # on the bus
    assert meals.card_fields(m.id, at(3, "12:59"))[who]["meal_name"] == "午餐"      # still eating
    assert meals.card_fields(m.id, at(3, "13:01"))[who]["meal_table"] == "主桌"     # dinner next
    late = meals.card_fields(m.id, at(3, "20:00"))[who]
    assert late["meal_name"] == "早餐" and "bus_route" not in late
    assert meals.card_fields(m.id, at(5, "09:00")) == {}
    assert scene.console.stranger.id not in meals.card_fields(m.id, at(3, "09:00"))
    # The card's allocation layer reads the whole timeline once and picks by the hour itself: the
    # same answer as card_fields at every moment.
    book = Allocated(timed=meals.card_timeline(m.id))
    for moment in (at(3, "07:50"), at(3, "09:00"), at(3, "12:59"), at(3, "13:01"), at(3, "20:00"), at(5, "09:00")):
        for person in scene.people.values():
            assert book.fields_at(person, moment) == meals.card_fields(m.id, moment).get(person, {}), moment
    # One person at the door: only their row is read.
    assert meals.card_fields(m.id, at(3, "09:00"), [who]) == {who: fields}
    assert meals.card_fields(m.id, at(3, "09:00"), []) == {}


def test_card_fields_fit_the_cards_limits(db, scene):
    from app.services.cards.fields import clean_value

    m = scene.meeting
    s = meals.save_sitting(m, {"name": "工" * 16, "day": "2026-12-03", "starts": "12:00", "ends": "13:00",
                               "place": "地" * 100}, actor="test")
    meals.add_tables(m, s, {"label": "桌" * 16, "seats": "20"}, actor="test")
    meals.auto_assign(m, s, actor="test")
    r = buses.save_route(m, {"name": "线" * 64, "day": "2026-12-03", "departs": "23:59"}, actor="test")
    buses.add_cars(m, r, {"label": "车" * 16, "plate": "P" * 16, "seats": "20"}, actor="test")
    buses.auto_assign(m, r, actor="test")
    for values in meals.card_fields(m.id, at(3, "00:00")).values():
        assert values == {key: clean_value(key, value) for key, value in values.items()}


def test_tables_and_cars_are_numbered_after_the_highest(db, scene):
    s = sitting(scene.meeting)
    meals.add_tables(scene.meeting, s, {"count": "2", "seats": "10"}, actor="test")
    meals.add_tables(scene.meeting, s, {"label": "主桌", "seats": "10", "head": "on"}, actor="test")
    meals.add_tables(scene.meeting, s, {"count": "2", "seats": "10"}, actor="test")
    db.session.expire_all()
    assert [t.label for t in s.tables] == ["主桌", "1", "2", "3", "4"]
    with pytest.raises(LogisticsError) as err:
        meals.add_tables(scene.meeting, s, {"label": "3", "seats": "10"}, actor="test")
    assert err.value.code == "label_taken"


HOSTILE_SITTINGS = [
    ({"name": ""}, "text_required"), ({"name": "午" * 17}, "text_too_long"), ({"name": "午\x00餐"}, "text_invalid"),
    ({"name": "午\x1b餐"}, "text_invalid"), ({"name": ["a"]}, "text_invalid"),
    ({"day": "2026-13-40"}, "day_invalid"), ({"day": "tomorrow"}, "day_invalid"), ({"day": ""}, "text_required"),
    ({"day": "9" * 5000}, "text_too_long"), ({"starts": "25:00"}, "time_invalid"), ({"starts": "12"}, "time_invalid"),
    ({"ends": "11:00"}, "time_order"), ({"ends": "12:00"}, "time_order"), ({"place": "x" * 101}, "text_too_long"),
    ({"notes": "x" * 201}, "text_too_long"), ({"place": "a\x7fb"}, "text_invalid"),
]


@pytest.mark.parametrize(("change", "code"), HOSTILE_SITTINGS)
def test_a_bad_sitting_is_refused_and_nothing_is_written(db, scene, change, code):
    form = {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00", "place": "", "notes": ""}
    before = db.session.scalar(select(func.count()).select_from(MealSitting))
    with pytest.raises(LogisticsError) as err:
        meals.save_sitting(scene.meeting, {**form, **change}, actor="test")
    assert err.value.code == code and err.value.message
    assert db.session.scalar(select(func.count()).select_from(MealSitting)) == before


HOSTILE_TABLES = [
    ({"seats": "0"}, "seats_invalid"), ({"seats": "-3"}, "seats_invalid"), ({"seats": "81"}, "seats_invalid"),
    ({"seats": "1e3"}, "seats_invalid"), ({"seats": "8.5"}, "seats_invalid"), ({"seats": ""}, "seats_invalid"),
    ({"seats": "９"}, "seats_invalid"), ({"seats": "9" * 400}, "seats_invalid"), ({"count": "201"}, "count_invalid"),
    ({"count": "0"}, "count_invalid"), ({"count": "2", "label": "主桌"}, "count_invalid"),
    ({"label": "桌" * 17}, "text_too_long"), ({"reserved_group": "没有的团"}, "group_unknown"),
    ({"label": "\x00"}, "text_invalid"),
]


@pytest.mark.parametrize(("change", "code"), HOSTILE_TABLES)
def test_a_bad_table_is_refused_and_nothing_is_written(db, scene, change, code):
    s = sitting(scene.meeting)
    with pytest.raises(LogisticsError) as err:
        meals.add_tables(scene.meeting, s, {"seats": "10", **change}, actor="test")
    assert err.value.code == code
    assert db.session.scalar(select(func.count()).select_from(MealTable)) == 0


HOSTILE_CARS = [({"driver_phone": "call me"}, "phone_invalid"), ({"plate": "京" * 17}, "text_too_long"),
                ({"driver_name": "x" * 33}, "text_too_long"), ({"seats": "100"}, "seats_invalid")]


@pytest.mark.parametrize(("change", "code"), HOSTILE_CARS)
def test_a_bad_car_or_route_is_refused(db, scene, change, code):
    r = route(scene.meeting)
    with pytest.raises(LogisticsError) as err:
        buses.add_cars(scene.meeting, r, {"seats": "45", **change}, actor="test")
    assert err.value.code == code
    with pytest.raises(LogisticsError) as err:
        buses.save_route(scene.meeting, {"name": "x", "day": "2026-12-03", "departs": "7.30"}, actor="test")
    assert err.value.code == "time_invalid"


def test_every_change_is_in_the_audit_log(db, scene):
    s = sitting(scene.meeting)
    meals.add_tables(scene.meeting, s, {"seats": "10"}, actor="contact:7")
    meals.auto_assign(scene.meeting, s, actor="contact:7")
    r = route(scene.meeting)
    buses.add_cars(scene.meeting, r, {"seats": "45"}, actor="contact:7")
    buses.auto_assign(scene.meeting, r, actor="contact:7")
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.actor == "contact:7")))
    assert {"meal.tables_add", "meal.auto_assign", "bus.cars_add", "bus.auto_assign"} <= actions
    assert db.session.scalar(select(func.count()).select_from(BusAssignment)) == 11


def test_who_is_not_there_that_day_is_neither_seated_nor_cooked_for(db, scene, factory):
    m = scene.meeting
    late, early = factory.contact(name="后到"), factory.contact(name="先走")
    for contact, dates in ((late, {"arrival": date(2026, 12, 4)}), (early, {"departure": date(2026, 12, 3)})):
        factory.invitee(m, contact)
        register(db, m, contact, diet=("清真",), **dates)
    first, second = sitting(m), sitting(m, name="午餐", day="2026-12-04")
    for s in (first, second):
        meals.add_tables(m, s, {"count": "2", "seats": "10"}, actor="test")
        meals.auto_assign(m, s, actor="test")
    views = meals.views(m)
    names = [{p.name for t in [*v.tables, v.unseated] for p in t.people} for v in views]
    assert "后到" not in names[0] and "先走" in names[0]
    assert "后到" in names[1] and "先走" not in names[1]
    assert [v.total["清真"] for v in views] == [4, 4] and [v.people for v in views] == [12, 12]
    # Someone placed who then leaves the list gives the seat back at the next plan.
    invitee = db.session.scalar(select(Invitee).where(Invitee.meeting_id == m.id, Invitee.contact_id == late.id))
    remove_invitees(m, [invitee.id], actor="test")
    again = meals.auto_assign(m, second, actor="test")
    assert (again.kept, again.placed) == (11, 0)
    assert late.id not in meals.placing.placed(meals.KIND, second.id)
