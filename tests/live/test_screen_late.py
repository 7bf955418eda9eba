"""迟到 on the big screen: a sign-in is late when it comes after the session's start (plus the
meeting's grace); the screen (numbers.json, the page's first numbers, its live stream) says so only
for a late sign-in that is not a 领导's. Organizers' pages keep the plain flag for everyone."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app.services.live import headcount, stream
from app.services.signin.rules import get_session
from app.services.signin.scans import Scan, sign_in_scans
from app.services.signin.write import sign_in
from models import InviteeRole, SignInMethod

CODE = "LATE1"


@pytest.fixture
def scene(factory):
    unit = factory.unit(name="中共某某省某某市某某区委员会办公室")
    meeting = factory.meeting(CODE, title="全区干部大会")
    people = {}
    for name, role in (("领导甲", InviteeRole.LEADER), ("准时乙", InviteeRole.DELEGATE),
                       ("迟来丙", InviteeRole.DELEGATE), ("扫码丁", InviteeRole.LEADER),
                       ("扫码戊", InviteeRole.OBSERVER)):
        people[name] = factory.contact(unit, name=name)
        factory.invitee(meeting, people[name], role=role)
    factory.db.session.commit()
    return meeting, get_session(meeting), people


def _sign_all(scene) -> None:
    meeting, session, people = scene
    start = session.starts_at
    on_time = sign_in(meeting, session, people["准时乙"], method=SignInMethod.H5, now=start - timedelta(minutes=5))
    leader = sign_in(meeting, session, people["领导甲"], method=SignInMethod.H5, now=start + timedelta(minutes=7))
    late = sign_in(meeting, session, people["迟来丙"], method=SignInMethod.H5, now=start + timedelta(minutes=3))
    # The recorded flag is the truth, a leader's included: the reports and the console use it.
    assert (on_time.record.late, leader.record.late, late.record.late) == (False, True, True)


def _screen_json(client, app, path: str = "/numbers.json"):
    key = headcount.screen_key(app.config["SECRET_KEY"], CODE)
    return client.get(f"/screen/{CODE}{path}?k={key}")


def test_late_is_after_the_start_and_the_screen_never_labels_a_leader(app, db, client, scene, redis_client):
    _sign_all(scene)
    res = _screen_json(client, app)
    assert res.status_code == 200
    late = {r["name"]: r["late"] for r in res.json["recent"]}
    assert late == {"准时乙": False, "领导甲": False, "迟来丙": True}
    assert all(isinstance(v, bool) for v in late.values()) and "role" not in res.json["recent"][0]
    assert res.json["late"] == 2  # the count is the meeting's, a number that names nobody

    # The organizers' numbers keep the recorded flag for everyone.
    meeting, session, _people = scene
    organizer = headcount.numbers(meeting, session, missing=False).to_dict(with_missing=False, with_leave=True)
    assert {r["name"]: r["late"] for r in organizer["recent"]} == {"准时乙": False, "领导甲": True, "迟来丙": True}


def test_the_page_starts_with_the_same_rule(app, db, client, scene, redis_client):
    _sign_all(scene)
    res = _screen_json(client, app, "")
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    config = json.loads(html.split('id="screen-config">', 1)[1].split("</script>", 1)[0])
    assert {r["name"]: r["late"] for r in config["initial"]["recent"]} == {
        "准时乙": False, "领导甲": False, "迟来丙": True}


def test_a_scanned_leaders_live_event_is_not_late_on_the_screen(app, db, scene, factory, redis_client):
    meeting, session, people = scene
    factory.identity(people["扫码丁"], oa_openid="o-late-leader")
    factory.identity(people["扫码戊"], oa_openid="o-late-observer")
    db.session.commit()
    since = stream.last_stream_id(meeting.id)
    after = session.starts_at + timedelta(minutes=2)
    results = sign_in_scans([Scan(CODE, 1, "o-late-leader", after), Scan(CODE, 1, "o-late-observer", after)])
    assert [(r.state, r.late) for r in results] == [("signed_in", True), ("signed_in", True)]

    def events(**kw) -> dict[str, bool]:
        messages = stream.listen(app, headcount.SessionRef.of(meeting, session), last_event_id=None, since=since,
                                 mask=False, with_missing=False, **kw)
        next(messages), next(messages)  # retry, numbers
        chunk = next(messages)
        found = [json.loads(part.split("data: ", 1)[1]) for part in chunk.split("\n\n")
                 if "\nevent: signin\n" in part]
        return {e["name"]: e["late"] for e in found}

    assert events(public=True) == {"扫码丁": False, "扫码戊": True}
    assert events() == {"扫码丁": True, "扫码戊": True}  # the console's stream: as recorded


def test_public_late_rule():
    assert headcount.public_late(True, InviteeRole.DELEGATE)
    assert headcount.public_late(True, None)  # a walk-in, not invited
    assert not headcount.public_late(True, InviteeRole.LEADER)
    assert not headcount.public_late(True, "领导")
    assert not headcount.public_late(False, InviteeRole.DELEGATE)
    assert not headcount.public_late(None, None)
