"""Concurrent writers on PostgreSQL: the room's row lock, not luck, keeps a room within its beds and
its roommates of one gender, when organizers put people in it at the same moment and the one-click
allocation runs beside them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.services.logistics import lodging
from models import Room, RoomAssignment, RoomType
from tests.console.conftest import build_console
from tests.factories import Factory
from tests.lodging.conftest import D1, add_hotels, add_people, register

pytestmark = [pytest.mark.slow, pytest.mark.pg_only(reason="row locks between connections")]


def seed(db):
    console = build_console(Factory(db), "RLOCK")
    factory = Factory(db)
    people = add_people(factory, console.meeting)
    unit = factory.unit(name="并发单位")
    for i in range(8):  # eight more: four men, four women
        c = factory.contact(unit, name=f"并发{i}")
        factory.invitee(console.meeting, c)
        register(db, console.meeting, c, gender="男" if i < 4 else "女", arrival=D1)
        people[c.name] = c.id
    _hotels, rooms = add_hotels(console.meeting)
    db.session.commit()
    return console.meeting.code, people, rooms


def in_own_context(app, barrier, work) -> str:
    from app.extensions import db
    from app.services.meetings.meetings import get_meeting

    with app.app_context():
        barrier.wait()
        try:
            work(get_meeting)
            db.session.commit()
            return "ok"
        except lodging.LodgingError as exc:
            db.session.rollback()
            return exc.code
        finally:
            db.session.remove()


def occupants(db, room_id) -> list[int]:
    return list(db.session.scalars(select(RoomAssignment.contact_id).where(RoomAssignment.room_id == room_id)))


def test_many_people_into_one_double_never_overfill_or_mix_it(app, committed_db):
    code, people, rooms = seed(committed_db)
    movers = [people[f"并发{i}"] for i in range(8)]
    barrier = threading.Barrier(len(movers))

    def work_for(contact_id):
        return lambda get_meeting: lodging.assign(get_meeting(code), contact_id, rooms["A1203"], actor="t", acting=None)

    with ThreadPoolExecutor(len(movers)) as pool:
        outcomes = list(pool.map(lambda cid: in_own_context(app, barrier, work_for(cid)), movers))
    assert outcomes.count("ok") == 2, outcomes
    assert set(outcomes) - {"ok"} <= {"room_full", "gender_mixed"}
    inside = occupants(committed_db, rooms["A1203"])
    assert len(inside) == 2
    genders = {"男" if movers.index(cid) < 4 else "女" for cid in inside}
    assert len(genders) == 1


def test_the_allocation_racing_hand_assignments(app, committed_db):
    code, people, rooms = seed(committed_db)
    barrier = threading.Barrier(5)
    movers = [people[f"并发{i}"] for i in range(4)]

    def allocation(get_meeting):
        lodging.run_allocation(get_meeting(code), actor="t", acting=None)

    def work_for(contact_id):
        return lambda get_meeting: lodging.assign(get_meeting(code), contact_id, rooms["B301"], actor="t", acting=None)

    with ThreadPoolExecutor(5) as pool:
        outcomes = list(pool.map(lambda w: in_own_context(app, barrier, w),
                                 [allocation, *(work_for(cid) for cid in movers)]))
    assert outcomes[0] == "ok"
    beds = dict(committed_db.session.execute(select(Room.id, RoomType.beds).join(RoomType, RoomType.id == Room.type_id)).all())
    taken = dict(committed_db.session.execute(select(RoomAssignment.room_id, func.count()).group_by(RoomAssignment.room_id)).all())
    assert all(n <= beds[room_id] for room_id, n in taken.items())
    assert committed_db.session.scalar(select(func.count()).select_from(RoomAssignment)) == len(
        set(committed_db.session.scalars(select(RoomAssignment.contact_id))))
