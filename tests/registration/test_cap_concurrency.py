"""The cap holds under concurrency on PostgreSQL: twenty offices at once for the last places."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.services.registration.errors import RegistrationError
from app.services.registration.submit import Caller, submit
from models.registrations import Registration

pytestmark = [pytest.mark.slow, pytest.mark.pg_only(reason="row lock (SELECT … FOR UPDATE) on the form")]


def test_cap_never_exceeded_by_concurrent_batches(app, committed_db):
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import get_meeting
    from app.services.registration import forms
    from tests.factories import Factory

    db = committed_db
    meeting = Factory(db).meeting("REGCONC", title="并发报名")
    units = [add_unit(f"CONC{i:02d}", f"并发单位{i}", actor="test") for i in range(20)]
    form = forms.create_form(meeting, actor="test", title="限额", invite_code="CONC2345", cap=7, published=True)
    db.session.commit()
    form_id, unit_codes = form.id, [u.code for u in units]
    db.session.remove()
    barrier = threading.Barrier(20)

    def office(i: int) -> str:
        with app.app_context():
            try:
                m = get_meeting("REGCONC")
                f = forms.get_form(m, form_id)
                people = [{"name": f"并发{i}-{k}", "phone": f"1370{i:03d}{k:04d}"} for k in range(2)]
                barrier.wait()
                submit(m, f, people, caller=Caller(f"h5:conc{i}"), invite_code="CONC2345", unit_code=unit_codes[i])
                db.session.commit()
                return "ok"
            except RegistrationError as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(office, range(20)))
    assert outcomes.count("ok") == 3, outcomes  # 3 batches of two fit under 7, the fourth would make 8
    assert set(outcomes) == {"ok", "cap_reached"}
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Registration)) == 6
        db.session.remove()
