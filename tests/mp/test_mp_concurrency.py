"""Twenty taps at once, each with its own nonce: one sign-in record, every answer the same person."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.identity.mp_sessions import issue_token
from models import Contact, SignIn, WechatIdentity
from tests.mp.conftest import API, bearer

pytestmark = pytest.mark.slow


def test_twenty_concurrent_sign_ins_make_one_record(app, committed_db):
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import create_meeting, invite_contact

    db = committed_db
    unit = add_unit("CONCMP", "并发测试单位", actor="test")
    starts = datetime.now(UTC) + timedelta(minutes=30)
    meeting = create_meeting("MPCONC", "并发签到", actor="test", starts_at=starts,
                             ends_at=starts + timedelta(hours=2), publish=True)
    contact = Contact(unit=unit, name="并发", phone="13712345678")
    db.session.add(contact)
    db.session.flush()
    invite_contact(meeting, contact, actor="test")
    identity = WechatIdentity(mp_openid="mp-conc", contact=contact, bound_at=datetime.now(UTC))
    db.session.add(identity)
    db.session.commit()
    auth = bearer(issue_token(app.config["SECRET_KEY"], identity.id)[0])
    db.session.remove()

    barrier = threading.Barrier(20)

    def tap(i: int):
        client = app.test_client()
        barrier.wait()
        res = client.post(f"{API}/meetings/MPCONC/signin", json={"nonce": f"concurrent-{i:04d}"}, headers=auth)
        return res.status_code, res.json

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(tap, range(20)))
    winner = [f"concurrent-{i:04d}" for i, (_, body) in enumerate(answers) if body["status"] == "signed_in"]

    assert {status for status, _ in answers} == {200}, answers
    assert {body["seq"] for _, body in answers} == {1}
    assert sorted(body["status"] for _, body in answers).count("signed_in") == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
        assert [db.session.scalar(select(SignIn.nonce))] == winner
        db.session.remove()
