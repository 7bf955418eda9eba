"""Concurrent writers on PostgreSQL: the sitting's (route's) row lock, not luck, keeps a table
(car) within its seats and one place per person, when organizers move people at the same moment
and the automatic plan runs beside them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.services.logistics import buses, meals
from app.services.logistics.placing import LogisticsError
from models import BusAssignment, MealAssignment
from tests.factories import Factory
from tests.meals.conftest import build_scene

pytestmark = [pytest.mark.slow, pytest.mark.pg_only(reason="row locks between connections")]


def seed(db):
    scene = build_scene(Factory(db), code="MLOCK")
    m = scene.meeting
    s = meals.save_sitting(m, {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00"}, actor="t")
    (table,) = meals.add_tables(m, s, {"seats": "5"}, actor="t")
    r = buses.save_route(m, {"name": "酒店—会场", "day": "2026-12-03", "departs": "07:30"}, actor="t")
    (car,) = buses.add_cars(m, r, {"seats": "4"}, actor="t")
    db.session.commit()
    return m.code, s.id, table.id, r.id, car.id, list(scene.people.values())


def in_own_context(app, barrier, work) -> str:
    from app.extensions import db
    from app.services.meetings.meetings import get_meeting

    with app.app_context():
        barrier.wait()
        try:
            work(db, get_meeting)
            db.session.commit()
            return "ok"
        except LogisticsError as exc:
            db.session.rollback()
            return exc.code
        finally:
            db.session.remove()


def test_many_moves_into_one_table_never_overfill_it(app, committed_db):
    code, sitting_id, table_id, route_id, car_id, people = seed(committed_db)
    barrier = threading.Barrier(len(people))

    def mover(contact_id, parent_id, place_id, service, getter):
        def work(db, get_meeting):
            meeting = get_meeting(code)
            service.move(meeting, getter(meeting, parent_id), contact_id, place_id, actor="t")
        return work

    with ThreadPoolExecutor(len(people)) as pool:
        outcomes = list(pool.map(lambda cid: in_own_context(
            app, barrier, mover(cid, sitting_id, table_id, meals, meals.get_sitting)), people))
    assert sorted(set(outcomes)) == ["ok", "place_full"] and outcomes.count("ok") == 5
    assert committed_db.session.scalar(select(func.count()).select_from(MealAssignment)) == 5

    barrier = threading.Barrier(len(people))
    with ThreadPoolExecutor(len(people)) as pool:
        outcomes = list(pool.map(lambda cid: in_own_context(
            app, barrier, mover(cid, route_id, car_id, buses, buses.get_route)), people))
    assert outcomes.count("ok") == 4
    assert committed_db.session.scalar(select(func.count()).select_from(BusAssignment)) == 4


def test_the_automatic_plan_racing_moves_and_itself(app, committed_db):
    code, sitting_id, table_id, _route_id, _car_id, people = seed(committed_db)

    def more_tables(db, get_meeting):
        meeting = get_meeting(code)
        meals.add_tables(meeting, meals.get_sitting(meeting, sitting_id), {"count": "1", "seats": "4"}, actor="t")

    in_own_context(app, threading.Barrier(1), more_tables)
    workers = 8
    barrier = threading.Barrier(workers)

    def job(i):
        def work(db, get_meeting):
            meeting = get_meeting(code)
            s = meals.get_sitting(meeting, sitting_id)
            if i % 2:
                meals.auto_assign(meeting, s, actor="t", replace=i % 4 == 1)
            else:
                meals.move(meeting, s, people[i], table_id, actor="t")
        return in_own_context(app, barrier, work)

    with ThreadPoolExecutor(workers) as pool:
        outcomes = list(pool.map(job, range(workers)))
    assert set(outcomes) <= {"ok", "place_full"}, outcomes
    rows = committed_db.session.execute(select(MealAssignment.table_id, func.count())
                                        .group_by(MealAssignment.table_id)).all()
    seats = {table_id: 5}
    for tid, count in rows:
        assert count <= seats.get(tid, 4)
    assert committed_db.session.scalar(select(func.count(func.distinct(MealAssignment.contact_id)))) == \
        committed_db.session.scalar(select(func.count()).select_from(MealAssignment))
