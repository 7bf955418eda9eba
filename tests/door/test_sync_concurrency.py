"""Desks syncing at the same moment: the database's unique index and the conditional UPDATE, not
luck, leave one sign-in per person at their earliest scan."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.services.signin import desk_sync
from models import Desk, SignIn
from tests.door.conftest import build_door

pytestmark = pytest.mark.slow


def test_five_desks_at_once_on_the_same_people(app, committed_db):
    from tests.factories import Factory

    door = build_door(Factory(committed_db), people=20, desks_n=5)
    committed_db.session.commit()
    desk_ids = [d.id for d in door.desks]
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    # Desk k saw everyone k minutes after base: desk 0 has the earliest times, whoever syncs first.
    batches = {k: [door.scan(p, base + timedelta(minutes=k, seconds=i), scan_id=f"k{k}-{i}")
                   for i, p in enumerate(door.people)] for k in range(5)}
    want = {p.id: base + timedelta(seconds=i) for i, p in enumerate(door.people)}
    barrier = threading.Barrier(5)

    def run(k: int) -> None:
        from app.extensions import db

        with app.app_context():
            barrier.wait()
            try:
                # Latest desks first in each thread's batch order, twice: resends race too.
                desk_sync.sync(db.session.get(Desk, desk_ids[k]), list(reversed(batches[k])))
                desk_sync.sync(db.session.get(Desk, desk_ids[k]), batches[k])
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=5) as pool:
        list(pool.map(run, [4, 3, 2, 1, 0]))
    committed_db.session.rollback()
    live = committed_db.session.scalars(select(SignIn).where(SignIn.revoked_at.is_(None))).all()
    assert sorted(s.contact_id for s in live) == sorted(want)
    assert {s.contact_id: s.signed_at for s in live} == want
    assert len(desk_sync.conflicts(door.meeting)) == len(want)
