"""The sign-in service: eligibility, idempotence, order numbers, denials, after-commit events."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.signin.rules import SignInError, get_session
from app.services.signin.write import revoke, sign_in
from models import Admission, Invitee, SignIn, SignInDenial


@pytest.fixture
def setup(factory):
    unit = factory.unit("FGJ", "区发展和改革局")
    meeting = factory.meeting(starts_at=datetime.now(UTC) + timedelta(minutes=30))
    people = [factory.contact(unit, name=f"人员{i}") for i in range(3)]
    for p in people[:2]:
        factory.invitee(meeting, p)
    return meeting, meeting.sessions[0], people


def test_sign_in_assigns_order_and_is_idempotent(db, setup):
    meeting, session, (a, b, _) = setup
    first = sign_in(meeting, session, a, method="scan")
    second = sign_in(meeting, session, b, method="h5")
    again = sign_in(meeting, session, a, method="scan")
    db.session.commit()  # the database takes the order numbers as the sign-ins commit
    assert (first.created, first.seq) == (True, 1)
    assert (second.created, second.seq) == (True, 2)
    assert again.created is False and again.record.id == first.record.id
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 2
    assert first.record.late is False


def test_not_invited_is_denied_and_recorded(db, setup):
    meeting, session, (_, _, outsider) = setup
    with pytest.raises(SignInError) as err:
        sign_in(meeting, session, outsider, method="scan")
    assert err.value.code == "not_invited" and err.value.commit_anyway
    denial = db.session.scalar(select(SignInDenial))
    assert (denial.reason, denial.contact_id) == ("not_invited", outsider.id)
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0


def test_window_rules(db, setup):
    meeting, session, (a, _, _) = setup
    with pytest.raises(SignInError) as err:
        sign_in(meeting, session, a, method="scan", now=session.signin_opens_at - timedelta(minutes=1))
    assert err.value.code == "not_open_yet"
    with pytest.raises(SignInError) as err:
        sign_in(meeting, session, a, method="scan", now=session.signin_closes_at + timedelta(minutes=1))
    assert err.value.code == "signin_closed" and "联系会务组" in err.value.message
    late = sign_in(meeting, session, a, method="scan", now=session.starts_at + timedelta(minutes=5))
    assert late.record.late is True


def test_proxy_signin_ignores_window_and_records_actor(db, setup, factory):
    meeting, session, (a, b, _) = setup
    outcome = sign_in(meeting, session, a, method="proxy", actor=b, check_window=False,
                      now=session.signin_closes_at + timedelta(hours=1))
    assert outcome.record.actor_contact_id == b.id and outcome.record.method == "proxy"


def test_units_admission(db, factory):
    unit, other = factory.unit(), factory.unit()
    meeting = factory.meeting(admission=Admission.UNITS, unit_codes=[unit.code])
    inside, outside = factory.contact(unit), factory.contact(other)
    assert sign_in(meeting, meeting.sessions[0], inside, method="scan").created
    with pytest.raises(SignInError) as err:
        sign_in(meeting, meeting.sessions[0], outside, method="scan")
    assert err.value.code == "not_invited"


def test_approval_admission_holds_walk_ins(db, factory):
    meeting = factory.meeting(admission=Admission.APPROVAL)
    walk_in = factory.contact()
    with pytest.raises(SignInError) as err:
        sign_in(meeting, meeting.sessions[0], walk_in, method="scan")
    assert err.value.code == "pending_approval"
    invitee = db.session.scalar(select(Invitee).where(Invitee.contact_id == walk_in.id))
    assert invitee.status == "pending"
    invitee.status = "approved"
    assert sign_in(meeting, meeting.sessions[0], walk_in, method="scan").created


def test_draft_and_inactive(db, factory):
    meeting = factory.meeting(publish=False)
    c = factory.contact()
    factory.invitee(meeting, c)
    with pytest.raises(SignInError) as err:
        sign_in(meeting, meeting.sessions[0], c, method="scan")
    assert err.value.code == "meeting_not_published"
    meeting.state = "published"
    c.active = False
    with pytest.raises(SignInError) as err:
        sign_in(meeting, meeting.sessions[0], c, method="scan")
    assert err.value.code == "contact_inactive"


def test_revoke_keeps_the_row_and_allows_signing_in_again(db, setup):
    meeting, session, (a, b, _) = setup
    first = sign_in(meeting, session, a, method="scan")
    db.session.commit()
    revoke(meeting, session, a, actor=b, reason="扫错了")
    rows = db.session.scalars(select(SignIn).where(SignIn.contact_id == a.id)).all()
    assert len(rows) == 1 and rows[0].revoked_by_contact_id == b.id and rows[0].revoke_reason == "扫错了"
    again = sign_in(meeting, session, a, method="scan")
    db.session.commit()
    assert again.created and again.seq == first.seq + 1
    with pytest.raises(SignInError):
        revoke(meeting, session, b, actor=a, reason="")


def test_sign_in_commits_itself_and_returns_the_final_number_and_one_event(db, setup, redis_client):
    """The one exception to "the request commits once": the order number exists only once the
    sign-in has committed, so sign_in commits and answers with it; its live event follows."""
    from app.services.live.events import stream_key

    meeting, session, (a, b, _) = setup
    first = sign_in(meeting, session, a, method="scan")
    assert first.created and first.seq == 1 and not db.session.new and not db.session.dirty
    events = [json.loads(f[b"data"]) for _, f in redis_client.xrange(stream_key(meeting.id))]
    assert [(e["contact_id"], e["seq"]) for e in events] == [(a.id, 1)]
    assert sign_in(meeting, session, b, method="h5").seq == 2
    again = sign_in(meeting, session, a, method="h5")  # a retry: nothing written, nothing published
    assert not again.created and again.seq == 1 and redis_client.xlen(stream_key(meeting.id)) == 2


def test_a_refused_sign_in_publishes_nothing_and_takes_no_number(db, setup, redis_client):
    from app.services.live.events import stream_key

    meeting, session, (a, b, _) = setup
    meeting.state = "closed"
    with pytest.raises(SignInError):
        sign_in(meeting, session, a, method="scan")
    assert redis_client.xlen(stream_key(meeting.id)) == 0
    meeting.state = "published"
    assert sign_in(meeting, session, b, method="scan").seq == 1 and session.last_seq == 1


def test_get_session_by_position(db, setup):
    meeting, session, _ = setup
    assert get_session(meeting, 1).id == session.id
    with pytest.raises(SignInError):
        get_session(meeting, 9)
