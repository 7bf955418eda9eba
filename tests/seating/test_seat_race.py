"""Two organizers put two people on one free seat at the same moment, on PostgreSQL: both find it
free, both write; the database's unique key lets one win and the other is told ``seat_taken``, and
the plan holds exactly the winner."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from app.services.logistics import seating
from app.services.logistics.seating import SeatingError
from models import SeatAssignment
from tests.seating.helpers import invite_people

pytestmark = [pytest.mark.pg_only(reason="two connections racing for one row's unique key")]


def test_two_sessions_racing_for_one_seat(app, committed_db):
    from app.services.meetings.meetings import get_meeting
    from tests.factories import Factory

    db = committed_db
    factory = Factory(db)
    meeting = factory.meeting("SEATRACE", title="抢座测试")
    a, b = invite_people(factory, meeting, 2)
    plan = seating.create_plan(meeting, {"name": "会场", "rows": "2", "seats_per_row": "4"}, actor="test")
    db.session.commit()
    plan_id, ids = plan.id, {"a": a.id, "b": b.id}
    db.session.remove()
    first_wrote = threading.Event()
    outcomes: dict[str, str] = {}

    def organizer(who: str) -> None:
        with app.app_context():
            try:
                m = get_meeting("SEATRACE")
                p = seating.get_plan(m, plan_id)
                if who == "b":
                    first_wrote.wait(5)  # a's row is written, not yet committed: b still sees the seat free
                seating.move(m, p, ids[who], 1, 2, actor=f"test:{who}")
                if who == "a":
                    first_wrote.set()
                    time.sleep(0.5)  # b is now blocked on the unique key, waiting for a's outcome
                db.session.commit()
                outcomes[who] = "ok"
            except SeatingError as exc:
                db.session.rollback()
                outcomes[who] = exc.code
                first_wrote.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=organizer, args=(who,)) for who in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert outcomes == {"a": "ok", "b": "seat_taken"}
    with app.app_context():
        rows = db.session.execute(select(SeatAssignment.contact_id, SeatAssignment.row, SeatAssignment.seat)
                                  .where(SeatAssignment.plan_id == plan_id)).all()
        assert [tuple(r) for r in rows] == [(ids["a"], 1, 2)]
        db.session.remove()


def test_the_database_refuses_two_on_one_seat_and_one_on_two(app, committed_db):
    """The guard itself, below the services: raw inserts that break either rule fail."""
    from sqlalchemy.exc import IntegrityError

    from tests.factories import Factory

    db = committed_db
    factory = Factory(db)
    meeting = factory.meeting("SEATUQ")
    a, b = invite_people(factory, meeting, 2)
    plan = seating.create_plan(meeting, {"name": "会场", "rows": "2", "seats_per_row": "4"}, actor="test")
    db.session.add(SeatAssignment(plan_id=plan.id, row=1, seat=1, contact_id=a.id))
    db.session.commit()
    for row, seat, cid in ((1, 1, b.id), (1, 2, a.id)):
        db.session.add(SeatAssignment(plan_id=plan.id, row=row, seat=seat, contact_id=cid))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
