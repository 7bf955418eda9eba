"""The numbers agree with the database: after sign-ins, revokes, a burst, and Redis losing its data."""

from __future__ import annotations

from sqlalchemy import func, select

from app.services.live import headcount
from app.services.signin.rules import get_session
from app.services.signin.write import revoke, sign_in
from models import SignIn


def _check_against_db(db, meeting, session):
    n = headcount.numbers(meeting, session)
    arrived_db = db.session.scalar(select(func.count()).select_from(SignIn).where(
        SignIn.session_id == session.id, SignIn.revoked_at.is_(None)))
    assert n.arrived == arrived_db
    assert (n.arrived, n.late) == headcount.database_truth(session.id)
    assert n.expected == len(headcount._load_roster(headcount.SessionRef.of(meeting, session)))
    assert sum(u.arrived for u in n.units) == n.arrived
    assert n.missing_count == n.expected - n.arrived
    return n


def test_numbers_follow_signins_and_revokes(db, live, redis_client):
    meeting, people = live.meeting, live.people
    session = get_session(meeting)
    n = headcount.numbers(meeting, session)
    assert (n.expected, n.arrived, n.rate) == (6, 0, 0.0)
    for p in people[:4]:
        sign_in(meeting, session, p, method="scan", check_window=False)
    db.session.commit()  # counters are fed after the commit
    n = _check_against_db(db, meeting, session)
    assert (n.arrived, n.rate) == (4, 66.7)
    by_unit = {u.name: (u.expected, u.arrived) for u in n.units}
    assert by_unit == {"区发展和改革局": (3, 2), "区财政局": (3, 2)}
    groups = {g.name: (g.expected, g.arrived) for g in n.groups}
    assert groups == {"第一代表团": (3, 3), "第二代表团": (3, 1)}
    assert [r.name for r in n.recent][:2] == ["代表3", "代表2"]
    missing = sorted(m["name"] for u in n.units for m in u.missing)
    assert missing == ["代表4", "代表5"]

    revoke(meeting, session, people[0], actor=live.organizer, reason="误签")
    db.session.commit()
    n = _check_against_db(db, meeting, session)
    assert n.arrived == 3
    # A replayed event (a retry of the publish) must not count anyone twice.
    headcount.record_signins([{"session_id": session.id, "contact_id": people[1].id, "unit_id": people[1].unit_id,
                               "late": False}])
    assert headcount.numbers(meeting, session).arrived == 3


def test_flushed_redis_rebuilds_exact_numbers(db, live, redis_client):
    # Redis losing everything, as after a restart without persistence. FLUSHDB, never FLUSHALL: the
    # run owns only the database it claimed (tests/backends.py); the others belong to other runs.
    meeting, session = live.meeting, get_session(live.meeting)
    for p in live.people[:5]:
        sign_in(meeting, session, p, method="scan", check_window=False)
    db.session.commit()
    before = headcount.numbers(meeting, session).to_dict()
    redis_client.flushdb()
    after = headcount.numbers(meeting, session).to_dict()
    assert after == before and after["arrived"] == 5
    assert redis_client.exists(headcount.built_key(session.id))
    # A sign-in arriving right after the flush, before anyone read, is still counted once.
    redis_client.flushdb()
    sign_in(meeting, session, live.people[5], method="scan", check_window=False)
    db.session.commit()
    n = _check_against_db(db, meeting, session)
    assert (n.arrived, n.rate) == (6, 100.0)


def test_units_admission_counts_active_unit_members(db, factory, redis_client):
    unit = factory.unit(name="区教育局")
    ppl = [factory.contact(unit) for _ in range(3)]
    factory.contact(unit, active=False)
    meeting = factory.meeting("UNITS1", admission="units", unit_codes=[unit.code])
    guest = factory.invitee(meeting).contact
    session = get_session(meeting)
    sign_in(meeting, session, ppl[0], method="scan", check_window=False)
    sign_in(meeting, session, guest, method="scan", check_window=False)
    db.session.commit()
    n = _check_against_db(db, meeting, session)
    assert (n.expected, n.arrived) == (4, 2)


def test_mask_name():
    assert headcount.mask_name("张三") == "张*"
    assert headcount.mask_name("欧阳娜娜") == "欧***"
    assert headcount.mask_name("王") == "王*"
