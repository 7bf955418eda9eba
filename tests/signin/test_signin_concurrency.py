"""Concurrency: the database, not luck, keeps sign-ins unique and order numbers gapless."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.services.signin.write import sign_in
from models import Contact, Meeting, SignIn

pytestmark = pytest.mark.slow


def _seed(db, n_people: int):
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import create_meeting, invite_contact

    unit = add_unit("CONC", "并发测试单位", actor="test")
    starts = datetime.now(UTC) + timedelta(minutes=30)
    meeting = create_meeting("CONCUR", "并发测试", actor="test", starts_at=starts,
                             ends_at=starts + timedelta(hours=2), publish=True)
    contacts = [Contact(unit=unit, name=f"并发{i}", phone=f"1370000{i:04d}") for i in range(n_people)]
    db.session.add_all(contacts)
    db.session.flush()
    for c in contacts:
        invite_contact(meeting, c, actor="test")
    db.session.commit()
    return meeting.id, meeting.sessions[0].id, [c.id for c in contacts]


def _sign_in_in_own_context(app, meeting_id, session_id, contact_id, barrier=None):
    from app.extensions import db

    with app.app_context():
        if barrier is not None:
            barrier.wait()
        try:
            meeting = db.session.get(Meeting, meeting_id)
            session = next(s for s in meeting.sessions if s.id == session_id)
            outcome = sign_in(meeting, session, db.session.get(Contact, contact_id), method="scan")
            db.session.commit()
            return outcome.seq  # taken by the database as the sign-in commits
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def test_same_person_fifty_times_at_once(app, committed_db):
    meeting_id, session_id, (contact_id,) = _seed(committed_db, 1)
    barrier = threading.Barrier(25)
    with ThreadPoolExecutor(max_workers=25) as pool:
        seqs = list(pool.map(lambda _: _sign_in_in_own_context(app, meeting_id, session_id, contact_id, barrier),
                             range(50)))
    rows = committed_db.session.scalars(select(SignIn)).all()
    assert len(rows) == 1
    assert set(seqs) == {rows[0].seq} == {1}


def test_thousand_people_get_one_to_thousand(app, committed_db):
    meeting_id, session_id, contact_ids = _seed(committed_db, 1000)
    with ThreadPoolExecutor(max_workers=24) as pool:
        seqs = list(pool.map(lambda cid: _sign_in_in_own_context(app, meeting_id, session_id, cid), contact_ids))
    assert sorted(seqs) == list(range(1, 1001))
    stored = committed_db.session.scalars(select(SignIn.seq).order_by(SignIn.seq)).all()
    assert stored == list(range(1, 1001))
    assert len(set(committed_db.session.scalars(select(SignIn.contact_id)).all())) == 1000
