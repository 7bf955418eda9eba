"""The presence policy (Meeting.presence) on every channel, and the late threshold on every path.

"scan": only a scan of a code shown in the room signs a person in (the official-account QR, the
bind link that answers such a scan, the mini-program code, the screen's rotating code); the meeting
page, a reminder link and the mini program's button are refused with ``scan_required``. Staff (代签,
manual) always may. "scan_or_link" and "link_in_window": links too, within the sign-in window.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.codes import meeting_codes
from app.services.signin import rules
from app.services.signin.checkin import status_for
from app.services.signin.rules import SignInError, get_session
from app.services.signin.scans import Scan, sign_in_scans
from app.services.signin.write import sign_in
from models import Presence, SignIn, SignInDenial, SignInMethod
from tests.console.conftest import login_as
from tests.h5.conftest import form_value, reply_link, scan
from tests.mp.conftest import API, bearer, token_for

SCAN_REQUIRED = "本次会议须在会场扫码签到，请扫描大屏或海报上的二维码"


@pytest.fixture
def scan_only(db, console):
    console.meeting.presence = Presence.SCAN
    db.session.commit()
    return console


def _denials(db, reason: str) -> int:
    return db.session.scalar(select(func.count()).select_from(SignInDenial).where(SignInDenial.reason == reason))


def test_scan_only_refuses_links_and_admits_scans_and_staff(db, scan_only):
    meeting, people = scan_only.meeting, scan_only.people
    session = get_session(meeting)
    for method in (SignInMethod.H5, SignInMethod.MINIPROGRAM):
        with pytest.raises(SignInError) as err:
            sign_in(meeting, session, people[0], method=method)
        assert (err.value.code, err.value.message) == ("scan_required", SCAN_REQUIRED)
    assert _denials(db, "scan_required") == 2
    assert sign_in(meeting, session, people[0], method=SignInMethod.H5, scanned=True).created
    assert sign_in(meeting, session, people[1], method=SignInMethod.SCAN).created
    assert sign_in(meeting, session, people[2], method=SignInMethod.PROXY, actor=scan_only.staff,
                   check_window=False).created
    assert sign_in(meeting, session, people[3], method=SignInMethod.MANUAL, actor=scan_only.staff,
                   check_window=False).created


def test_official_account_scans_are_scans(db, scan_only, factory):
    meeting, person = scan_only.meeting, scan_only.people[0]
    factory.identity(person, oa_openid="o-scanner")
    db.session.commit()
    [result] = sign_in_scans([Scan(meeting.code, 1, "o-scanner", datetime.now(UTC))])
    assert result.state == "signed_in"


def test_the_eligibility_check_writes_nothing(db, scan_only):
    meeting, person = scan_only.meeting, scan_only.people[0]
    session = get_session(meeting)
    with pytest.raises(SignInError):
        rules.check_eligible(meeting, session, person, now=datetime.now(UTC), via=rules.Via.LINK)
    assert rules.check_eligible(meeting, session, person, now=datetime.now(UTC), via=rules.Via.SCAN) is not None
    assert not db.session.new and not db.session.dirty
    assert db.session.scalar(select(func.count()).select_from(SignInDenial)) == 0


def test_meeting_page_status_says_scan_unless_reached_by_a_scan(db, scan_only):
    meeting, person = scan_only.meeting, scan_only.people[0]
    now = datetime.now(UTC)
    status = status_for(meeting, get_session(meeting), person, now=now)
    assert (status.state, status.message) == ("scan_required", SCAN_REQUIRED)
    assert status_for(meeting, get_session(meeting), person, now=now, scanned=True).state == "can_sign_in"


@pytest.mark.parametrize("policy", [Presence.SCAN_OR_LINK, Presence.LINK_IN_WINDOW])
def test_link_policies_admit_links_only_while_signin_is_open(db, console, policy):
    meeting, people = console.meeting, console.people
    meeting.presence = policy
    session = get_session(meeting)
    assert sign_in(meeting, session, people[0], method=SignInMethod.H5).created
    late = session.signin_closes_at + timedelta(minutes=1)
    for method in (SignInMethod.H5, SignInMethod.SCAN):
        with pytest.raises(SignInError) as err:
            sign_in(meeting, session, people[1], method=method, now=late)
        assert err.value.code == "signin_closed"


def test_h5_signin_page_refuses_a_link_and_accepts_the_screens_rotating_code(app, db, client, scan_only):
    meeting, person = scan_only.meeting, scan_only.people[0]
    identity = scan_only.identities["viewer"]  # any bound person; make them an invitee's WeChat
    identity.contact_id = person.id
    db.session.commit()
    login_as(client, scan_only, "viewer")
    refused = client.post(f"/m/{meeting.code}/signin")
    assert refused.status_code == 400 and SCAN_REQUIRED in refused.get_data(as_text=True)
    assert SCAN_REQUIRED in client.get(f"/m/{meeting.code}").get_data(as_text=True)

    token = meeting_codes.rotating(app.config).current(meeting.code, datetime.now(UTC))
    assert client.get(f"/m/{meeting.code}/signin?r=bad-token-00").status_code == 200
    assert client.post(f"/m/{meeting.code}/signin").status_code == 400  # a wrong token proves nothing
    page = client.get(f"/m/{meeting.code}/signin?r={token}")
    assert page.status_code == 200
    # The confirm page's POST comes a moment later, without the token: the scan is remembered.
    done = client.post(f"/m/{meeting.code}/signin")
    assert done.status_code == 302 and "/done" in done.headers["Location"]
    assert db.session.scalar(select(SignIn.method).where(SignIn.contact_id == person.id)) == "h5"


def test_first_scan_bind_link_counts_as_a_scan(db, client, sim, scan_only):
    meeting, person = scan_only.meeting, scan_only.people[0]
    link = reply_link(scan(sim, "o-first-timer", meeting).text)
    res = client.post("/m/bind", data={"t": form_value(client.get(link).get_data(as_text=True), "t"),
                                       "unit_text": person.unit.name, "name": person.name, "phone": person.phone})
    assert res.status_code == 302
    assert db.session.scalar(select(SignIn.contact_id)) == person.id


def test_mini_program_scan_of_the_code_is_a_scan_and_its_button_is_not(app, db, client, scan_only):
    meeting, person = scan_only.meeting, scan_only.people[0]
    identity = scan_only.identities["viewer"]
    identity.contact_id = person.id
    auth = bearer(token_for(app, identity))
    scene = meeting_codes.mp_scene(meeting, get_session(meeting))

    shown = client.get(f"{API}/meetings/by-scene/{scene}", headers=auth).json
    assert shown["meeting"]["sessions"][0]["my_state"] == "can_sign_in"
    assert client.get(f"{API}/meetings/{meeting.code}", headers=auth).json["sessions"][0]["my_state"] == "scan_required"

    button = client.post(f"{API}/meetings/{meeting.code}/signin", json={"nonce": "button-0001"}, headers=auth)
    assert button.status_code == 400 and button.json["error"]["code"] == "scan_required"
    other = client.post(f"{API}/meetings/{meeting.code}/signin", json={"nonce": "other-0001", "scene": "OTHER.1"},
                        headers=auth)
    assert other.json["error"]["code"] == "scan_required"  # another meeting's code proves nothing here
    res = client.post(f"{API}/meetings/{meeting.code}/signin", json={"nonce": "scanned-001", "scene": scene},
                      headers=auth)
    assert res.status_code == 200 and res.json["status"] == "signed_in"


def test_late_means_after_the_start_plus_the_meetings_grace(db, console, factory):
    meeting, people = console.meeting, console.people
    meeting.late_after_minutes = 10
    session = get_session(meeting)
    start = session.starts_at
    assert not rules.is_late(meeting, session, start + timedelta(minutes=10))
    assert rules.is_late(meeting, session, start + timedelta(minutes=10, seconds=1))
    assert not sign_in(meeting, session, people[0], method=SignInMethod.H5, now=start + timedelta(minutes=5)).record.late
    assert sign_in(meeting, session, people[1], method=SignInMethod.PROXY, actor=console.staff, check_window=False,
                   now=start + timedelta(minutes=11)).record.late
    factory.identity(people[2], oa_openid="o-late-a")
    factory.identity(people[3], oa_openid="o-late-b")
    db.session.commit()
    early, late = sign_in_scans([Scan(meeting.code, 1, "o-late-a", start + timedelta(minutes=9)),
                                 Scan(meeting.code, 1, "o-late-b", start + timedelta(minutes=12))])
    assert (early.state, early.late, late.state, late.late) == ("signed_in", False, "signed_in", True)
    meeting.late_after_minutes = 0  # the default: late as soon as the session has started
    assert rules.is_late(meeting, session, start + timedelta(seconds=1)) and not rules.is_late(meeting, session, start)
