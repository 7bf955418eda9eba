"""Lodging's services: allocation on the database, hand changes with every rule, publication and
its notices, the service card's fields."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.logistics import lodging
from models import Notice, NoticeRecipient, Room, RoomAssignment


def rooms_of(db, meeting) -> dict[int, int]:
    return dict(db.session.execute(select(RoomAssignment.contact_id, RoomAssignment.room_id)
                                   .where(RoomAssignment.meeting_id == meeting.id)).all())


def test_one_click_allocation_keeps_every_rule(db, scene):
    run = lodging.run_allocation(scene.meeting, actor="test", acting=scene.console.owner)
    placed = rooms_of(db, scene.meeting)
    p, r = scene.people, scene.rooms
    assert "丁一" in p and p["丁一"] not in placed  # needs no room
    assert placed[p["书记"]] in (r["A1201"], r["A1202"]) and placed[p["县长"]] in (r["A1201"], r["A1202"])
    assert placed[p["丙一"]] == r["A1206"]  # accessible
    assert placed[p["甲一"]] == placed[p["甲二"]] and placed[p["甲三"]] == placed[p["甲四"]]
    assert placed[p["甲一"]] != placed[p["甲三"]]
    alone = placed[p["乙一"]]
    assert list(placed.values()).count(alone) == 1
    assert run.placed == 8 and run.unplaced == [] and run.kept == 0


def test_unplaced_say_why(db, scene):
    # No accessible room: the accessible delegate finds nothing, though a double is left.
    for room_id in [v for k, v in scene.rooms.items() if k not in ("A1201", "A1202", "A1203", "A1204", "B301", "B302")]:
        db.session.delete(db.session.get(Room, room_id))
    db.session.flush()
    run = lodging.run_allocation(scene.meeting, actor="test", acting=None)
    codes = {u["name"]: u["code"] for u in run.unplaced}
    assert codes == {"丙一": "no_accessible_room"} and run.placed == 7
    assert all(u["message"] for u in run.unplaced)


def test_hand_assignment_checks_every_rule(db, scene):
    m, p, r = scene.meeting, scene.people, scene.rooms
    lodging.assign(m, p["甲一"], r["A1203"], actor="test", acting=None)
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["甲三"], r["A1203"], actor="test", acting=None)
    assert e.value.code == "gender_mixed"
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["乙一"], r["A1203"], actor="test", acting=None)
    assert e.value.code == "gender_unknown_shared"
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["丙一"], r["A1203"], actor="test", acting=None)
    assert e.value.code == "room_not_accessible"
    lodging.assign(m, p["甲二"], r["A1203"], actor="test", acting=None)
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["书记"], r["A1203"], actor="test", acting=None)
    assert e.value.code == "room_full"
    lodging.assign(m, p["乙一"], r["A1204"], actor="test", acting=None)
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["书记"], r["A1204"], actor="test", acting=None)
    assert e.value.code == "room_alone"
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, 999999, r["A1205"], actor="test", acting=None)
    assert e.value.code == "person_not_invited"
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["书记"], "x", actor="test", acting=None)
    assert e.value.code == "room_not_found"


def test_room_gender_and_role(db, scene):
    m, p = scene.meeting, scene.people
    hotel = lodging.get_hotel(m, scene.hotels["B"])
    leaders = lodging.add_type(m, hotel, {"name": "套房", "beds": "1"}, actor="t", roles=["领导"])
    suite = lodging.add_rooms(m, hotel, {"type_id": leaders.id, "number": "888"}, actor="t")[0]
    women = lodging.add_rooms(m, hotel, {"type_id": leaders.id, "number": "889", "gender": "女"}, actor="t")[0]
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["甲一"], suite.id, actor="t", acting=None)
    assert e.value.code == "room_role"
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["书记"], women.id, actor="t", acting=None)
    assert e.value.code == "room_gender"
    lodging.assign(m, p["书记"], suite.id, actor="t", acting=None)


def test_allocation_keeps_hand_made_and_redoes_the_rest(db, scene):
    m, p, r = scene.meeting, scene.people, scene.rooms
    lodging.assign(m, p["甲一"], r["B301"], actor="test", acting=None)
    lodging.run_allocation(m, actor="test", acting=None)
    first = rooms_of(db, m)
    assert first[p["甲一"]] == r["B301"]
    lodging.run_allocation(m, actor="test", acting=None)
    assert rooms_of(db, m) == first  # deterministic, and the hand-made one stays


def test_publication_tells_people_and_shows_rooms_on_the_card(db, scene):
    m, p, r = scene.meeting, scene.people, scene.rooms
    lodging.run_allocation(m, actor="test", acting=None)
    assert lodging.card_fields(m.id) == {}  # a draft is the organizers' only
    told = lodging.publish(m, actor="test", acting=scene.console.owner)
    assert told == 8
    fields = lodging.card_fields(m.id)
    assert fields[p["丙一"]] == {"hotel_name": "会议中心酒店", "hotel_room": "1206"}
    with pytest.raises(lodging.LodgingError) as e:
        lodging.assign(m, p["甲一"], r["B301"], actor="cli", acting=None)
    assert e.value.code == "published_no_actor"
    message = lodging.assign(m, p["甲一"], r["B301"], actor="test", acting=scene.console.owner)
    assert "通知" in message
    notice = db.session.scalars(select(Notice).where(Notice.meeting_id == m.id).order_by(Notice.id.desc())).first()
    assert notice.title == "住宿安排变更" and "迎宾馆 301" in notice.body and notice.status == "sent"
    assert [x.contact_id for x in db.session.scalars(select(NoticeRecipient).where(
        NoticeRecipient.notice_id == notice.id))] == [p["甲一"]]
    lodging.unassign(m, p["甲一"], actor="test", acting=scene.console.owner)
    assert p["甲一"] not in lodging.card_fields(m.id)
    with pytest.raises(lodging.LodgingError) as e:
        lodging.publish(m, actor="test", acting=scene.console.owner)
    assert e.value.code == "already_published"


def test_published_allocation_only_fills_the_rest(db, scene):
    m, p = scene.meeting, scene.people
    lodging.assign(m, p["书记"], scene.rooms["A1201"], actor="test", acting=None)
    lodging.publish(m, actor="test", acting=scene.console.owner)
    run = lodging.run_allocation(m, actor="test", acting=scene.console.owner)
    assert run.kept == 1 and run.placed == 7 and run.notified == 7
    with pytest.raises(lodging.LodgingError) as e:
        lodging.run_allocation(m, actor="cli", acting=None)
    assert e.value.code == "published_no_actor"


def test_deleting_what_is_in_use_is_refused(db, scene):
    m, p, r = scene.meeting, scene.people, scene.rooms
    lodging.assign(m, p["甲一"], r["B301"], actor="test", acting=None)
    for call, code in ((lambda: lodging.delete_room(m, lodging.get_room(m, r["B301"]), actor="t"), "room_in_use"),
                       (lambda: lodging.delete_hotel(m, lodging.get_hotel(m, scene.hotels["B"]), actor="t"),
                        "hotel_in_use")):
        with pytest.raises(lodging.LodgingError) as e:
            call()
        assert e.value.code == code
    lodging.unassign(m, p["甲一"], actor="t", acting=None)
    lodging.delete_hotel(m, lodging.get_hotel(m, scene.hotels["B"]), actor="t")
    assert db.session.get(Room, r["B301"]) is None


@pytest.mark.parametrize("form, code", [
    ({"name": ""}, "text_required"), ({"name": "x" * 65}, "text_too_long"), ({"name": "a\x00b"}, "text_invalid"),
    ({"name": "会议中心酒店"}, "hotel_exists"), ({"name": "新", "phone": "<script>"}, "phone_invalid"),
])
def test_hotel_form_refusals(db, scene, form, code):
    with pytest.raises(Exception) as e:
        lodging.save_hotel(scene.meeting, form, actor="t")
    assert e.value.code == code


@pytest.mark.parametrize("form, code", [
    ({"type_id": "x", "number": "1"}, "type_not_found"), ({"number": "1"}, "type_not_found"),
    ({"number": "", "type": 1}, "type_not_found"), ({"number": "12 01"}, "number_invalid"),
    ({"number": "1-999"}, "range_too_long"), ({"number": "<b>"}, "number_invalid"), ({"number": "9-1"}, "number_invalid"),
    ({"number": "1201"}, "room_exists"), ({"number": "7", "floor": "abc"}, "floor_invalid"),
    ({"number": "7", "floor": "9999"}, "floor_invalid"), ({"number": "7", "gender": "X"}, "gender_invalid"),
])
def test_room_form_refusals(db, scene, form, code):
    m = scene.meeting
    hotel = lodging.get_hotel(m, scene.hotels["A"])
    form = dict(form)
    if "type_id" not in form and code != "type_not_found":
        form["type_id"] = lodging.overview(m).hotels[0].types[0].id
    before = db.session.scalar(select(Room.id).order_by(Room.id.desc()).limit(1))
    with pytest.raises(Exception) as e:
        lodging.add_rooms(m, hotel, form, actor="t")
    assert e.value.code == code
    assert db.session.scalar(select(Room.id).order_by(Room.id.desc()).limit(1)) == before


@pytest.mark.parametrize("beds", ["0", "9", "-1", "2.5", "", "1e3", "二"])
def test_type_beds_refused(db, scene, beds):
    hotel = lodging.get_hotel(scene.meeting, scene.hotels["A"])
    with pytest.raises(lodging.LodgingError) as e:
        lodging.add_type(scene.meeting, hotel, {"name": "新房型", "beds": beds}, actor="t")
    assert e.value.code == "beds_invalid"


def test_type_roles_refused(db, scene):
    hotel = lodging.get_hotel(scene.meeting, scene.hotels["A"])
    with pytest.raises(lodging.LodgingError) as e:
        lodging.add_type(scene.meeting, hotel, {"name": "新房型", "beds": "1"}, actor="t", roles=["国王"])
    assert e.value.code == "role_invalid"


def test_overview_lists_the_unplaced_with_rooms_that_fit(db, scene):
    view = lodging.overview(scene.meeting)
    assert len(view.people) == 8 and len(view.unplaced) == 8
    first = view.unplaced[0]
    assert first["code"] == "pending" and first["fits"]
    accessible = next(u for u in view.unplaced if u["person"].name == "丙一")
    assert [label for _id, label in accessible["fits"]] == ["会议中心酒店 1206（标准间，空 2 床，无障碍）"]


def test_the_service_card_shows_the_room_once_published(db, scene):
    from datetime import UTC, datetime

    from app.services.cards.resolve import card_for

    m, p = scene.meeting, scene.people
    lodging.run_allocation(m, actor="test", acting=None)
    db.session.commit()
    assert "hotel_room" not in card_for(m, p["丙一"], now=datetime.now(UTC)).fields
    lodging.publish(m, actor="test", acting=scene.console.owner)
    db.session.commit()
    card = card_for(m, p["丙一"], now=datetime.now(UTC))
    assert card.fields["hotel_name"] == "会议中心酒店" and card.fields["hotel_room"] == "1206"
