"""Double-tapping the bind form (issue 21.4): identical POSTs at once, on the real PostgreSQL.

A newcomer taps 确认并签到 twice (or WeChat's browser resends): the requests race to create the
identity for the same openid and to bind it. The probe saw 302, 500, 500. Every one of them must
see the first one's binding and get the same success redirect, with one identity, one binding and
one sign-in in the database.
"""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import func, select

from app.services import links
from models import SignIn, WechatIdentity
from tests.factories import Factory

TAPS = 3
ROUNDS = 4


def _tap_together(app, data: dict) -> list[tuple[int, str]]:
    barrier = threading.Barrier(TAPS)
    answers: list[tuple[int, str]] = [(0, "")] * TAPS

    def tap(i: int) -> None:
        client = app.test_client()  # its own cookies; each request its own database session
        barrier.wait()
        res = client.post("/m/bind", data=data)
        answers[i] = (res.status_code, res.headers.get("Location", "") or res.get_data(as_text=True)[-1500:])

    threads = [threading.Thread(target=tap, args=(i,)) for i in range(TAPS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return answers


@pytest.mark.pg_only(reason="concurrent requests on their own connections; SQLite serialises writers")
def test_identical_bind_posts_at_once_all_succeed_with_one_binding(app, committed_db):
    db = committed_db
    factory = Factory(db)
    unit = factory.unit("FGJ", "区发展和改革局")
    meeting = factory.meeting("TAP1", title="双击测试会议")
    people = [factory.contact(unit, name=f"双击{i}", phone=f"1390000{i:04d}") for i in range(ROUNDS)]
    for person in people:
        factory.invitee(meeting, person)
    db.session.commit()

    for i, person in enumerate(people):  # a few rounds: each a newcomer's taps racing each other
        openid = f"o-double-tap-{i}"
        token = links.make_bind_token(app.config["SECRET_KEY"], oa_openid=openid, meeting_code="TAP1",
                                      session_position=1)
        answers = _tap_together(app, {"t": token, "unit_text": "区发展和改革局",
                                      "name": person.name, "phone": person.phone})
        assert answers == [(302, "/m/TAP1/done?s=1")] * TAPS, [(i, s, re.findall(r"role=\"alert\">([^<]*)", b) or b[:80]) for s, b in answers]
        db.session.expire_all()
        identities = db.session.scalars(select(WechatIdentity).where(WechatIdentity.oa_openid == openid)).all()
        assert [x.contact_id for x in identities] == [person.id]
        assert db.session.scalar(select(func.count()).select_from(SignIn).where(SignIn.contact_id == person.id)) == 1


@pytest.mark.pg_only(reason="concurrent requests on their own connections; SQLite serialises writers")
def test_two_wechats_binding_one_person_at_once_one_wins_the_other_is_told(app, committed_db):
    """Two WeChat accounts submit the same person at the same moment (a shared phone, a colleague
    helping): the unique binding lets one in; the other gets the answer it would have had a second
    later (a wrong identity's, 400: a taken identity is not confirmed to anyone), not a 500."""
    db = committed_db
    factory = Factory(db)
    unit = factory.unit("FGJ", "区发展和改革局")
    meeting = factory.meeting("TAP2", title="抢绑测试会议")
    person = factory.contact(unit, name="抢绑", phone="13900001111")
    factory.invitee(meeting, person)
    db.session.commit()
    form = {"unit_text": "区发展和改革局", "name": person.name, "phone": person.phone}
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def tap(openid: str) -> None:
        token = links.make_bind_token(app.config["SECRET_KEY"], oa_openid=openid, meeting_code="TAP2",
                                      session_position=1)
        client = app.test_client()
        barrier.wait()
        answers.append(client.post("/m/bind", data={"t": token, **form}).status_code)

    threads = [threading.Thread(target=tap, args=(f"o-rival-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [302, 400], answers
    db.session.expire_all()
    bound = db.session.scalars(select(WechatIdentity).where(WechatIdentity.contact_id == person.id)).all()
    assert len(bound) == 1
    assert db.session.scalar(select(func.count()).select_from(SignIn).where(SignIn.contact_id == person.id)) == 1
