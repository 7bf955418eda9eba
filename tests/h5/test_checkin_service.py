"""bind_and_sign_in and status_for: thin compositions of the identity and sign-in services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.services.identity.binding import IdentityError, get_or_create_identity
from app.services.signin.checkin import bind_and_sign_in, status_for
from app.services.signin.rules import SignInError, get_session
from app.services.signin.write import sign_in
from models import Admission, Invitee, SignIn, SignInDenial


def test_binds_then_signs_in(db, meeting):
    identity = get_or_create_identity(oa_openid="o-new")
    outcome = bind_and_sign_in(identity, meeting, get_session(meeting), unit_text="FGJ", name="张三",
                               phone="13800138000", ip="10.0.0.1", method="h5")
    db.session.commit()  # the order number is taken as the sign-in commits
    assert outcome.created and outcome.seq == 1 and outcome.record.method == "h5"
    assert identity.contact.name == "张三"
    again = bind_and_sign_in(identity, meeting, get_session(meeting), unit_text="区发展和改革局", name="张三",
                             phone="13800138000", ip="10.0.0.1", method="h5")
    assert not again.created and again.record.id == outcome.record.id


def test_mismatch_neither_binds_nor_signs_in(db, meeting):
    identity = get_or_create_identity(oa_openid="o-new")
    with pytest.raises(IdentityError) as err:
        bind_and_sign_in(identity, meeting, get_session(meeting), unit_text="FGJ", name="张三",
                         phone="13800138001", ip=None, method="h5")
    assert err.value.code == "identity_mismatch"
    assert identity.contact_id is None
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0


def test_denied_sign_in_keeps_the_binding(db, meeting, factory):
    outsider = factory.contact(factory.unit("CZJ", "区财政局"), name="王五", phone="13700137000")
    identity = get_or_create_identity(oa_openid="o-wang")
    with pytest.raises(SignInError) as err:
        bind_and_sign_in(identity, meeting, get_session(meeting), unit_text="区财政局", name="王五",
                         phone=outsider.phone, ip=None, method="h5")
    assert err.value.code == "not_invited" and err.value.commit_anyway
    assert identity.contact_id == outsider.id
    assert db.session.scalar(select(SignInDenial.reason)) == "not_invited"


def test_status_for(db, meeting, factory):
    session = get_session(meeting)
    now = datetime.now(UTC)
    zhang = db.session.scalar(select(Invitee).where(Invitee.meeting_id == meeting.id)).contact
    assert status_for(meeting, session, zhang, now=now).state == "can_sign_in"
    sign_in(meeting, session, zhang, method="h5")
    db.session.commit()
    status = status_for(meeting, session, zhang, now=now)
    assert status.state == "signed_in" and status.record.seq == 1
    outsider = factory.contact(name="赵六")
    status = status_for(meeting, session, outsider, now=now)
    assert status.state == "not_invited" and "参会名单" in status.message


def test_status_for_walk_in_writes_nothing(db, factory):
    m = factory.meeting("OPEN1", admission=Admission.APPROVAL)
    walker = factory.contact(name="钱七")
    invitees = db.session.scalar(select(func.count()).select_from(Invitee))
    assert status_for(m, get_session(m), walker, now=datetime.now(UTC)).state == "can_sign_in"
    assert db.session.scalar(select(func.count()).select_from(Invitee)) == invitees
    assert db.session.scalar(select(func.count()).select_from(SignInDenial)) == 0
