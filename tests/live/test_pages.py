"""The big screen and the organizer console: keys, authorization, escaping, actions."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from app.services.live import headcount
from app.services.meetings.organizers import add_organizer
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from models import AuditLog, OrganizerRight, SignIn
from tests.live.conftest import build_meeting, login

EVIL = "<script>alert(1)</script>"


def screen_url(app, code, path=""):
    return f"/screen/{code}{path}?k={headcount.screen_key(app.config['SECRET_KEY'], code)}"


def test_screen_needs_its_key(app, client, live):
    assert client.get(f"/screen/{live.meeting.code}").status_code == 403
    assert client.get(f"/screen/{live.meeting.code}?k=guess").status_code == 403
    assert client.get(f"/screen/{live.meeting.code}/numbers.json?k=guess").status_code == 403
    assert client.get(f"/screen/{live.meeting.code}/events?k=guess").status_code == 403
    res = client.get(screen_url(app, live.meeting.code))
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "全区经济工作会议" in html and 'id="n-expected">6<' in html and "签到率" in html


def test_screen_and_console_escape_names(app, db, client, factory):
    data = build_meeting(factory, "EVIL1")
    evil = factory.contact(data.units[0], name=EVIL)
    factory.invitee(data.meeting, evil)
    db.session.commit()
    session = get_session(data.meeting)
    sign_in(data.meeting, session, evil, method="scan", check_window=False)
    db.session.commit()
    html = client.get(screen_url(app, "EVIL1")).get_data(as_text=True)
    assert EVIL not in html and "<script>alert" not in html
    login(client, _identity_id(db, data))
    page = client.get("/admin/EVIL1").get_data(as_text=True)
    assert EVIL not in page and "<script>alert" not in page
    assert "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e" in page  # JSON data for textContent
    numbers = client.get("/admin/EVIL1/numbers.json").get_json()
    assert numbers["recent"][0]["name"] == EVIL  # plain data; the page writes it with textContent


def test_masked_names_on_screen(app, db, client, factory):
    data = build_meeting(factory, "MASK1", mask_names=True)
    session = get_session(data.meeting)
    sign_in(data.meeting, session, data.people[0], method="scan", check_window=False)
    db.session.commit()
    numbers = client.get(screen_url(app, "MASK1", "/numbers.json")).get_json()
    assert numbers["recent"][0]["name"] == "代**"
    assert "missing" not in numbers["units"][0]  # the screen never lists who is missing


def test_screen_events_start_with_numbers_and_follow_the_stream(app, db, client, live):
    code = live.meeting.code
    session = get_session(live.meeting)
    since = "0-0"
    sign_in(live.meeting, session, live.people[0], method="scan", check_window=False)
    db.session.commit()
    res = client.get(screen_url(app, code, "/events") + f"&since={since}", buffered=False)
    assert res.mimetype == "text/event-stream"
    chunks = iter(res.response)
    text = ""
    while "event: signin" not in text or text.count("event: numbers") < 2:
        text += next(chunks).decode() if isinstance(text, str) else ""
    res.close()
    first_numbers = json.loads(text.split("event: numbers\ndata: ")[1].split("\n")[0])
    assert first_numbers["arrived"] == 1
    signin = json.loads(text.split("event: signin\ndata: ")[1].split("\n")[0])
    assert signin["name"] == "代表0" and signin["unit"] == "区发展和改革局"
    assert "\nid: " in "\n" + text  # ids let EventSource resume after a dropped connection


def _identity_id(db, data):
    from models import WechatIdentity

    return db.session.scalar(select(WechatIdentity.id).where(WechatIdentity.oa_openid == data.organizer_openid))


@pytest.fixture
def visitors(db, factory, live):
    """Identities: an attendee (invited, not organizer), an outsider, a viewer, the staff organizer."""
    attendee = factory.identity(live.people[0])
    outsider = factory.identity(factory.contact(live.units[1], name="局外人"))
    viewer_contact = factory.contact(live.units[1], name="只读者")
    add_organizer(live.meeting.code, viewer_contact.phone, actor="test", right=OrganizerRight.VIEWER)
    viewer = factory.identity(viewer_contact)
    unbound = factory.identity(None)
    db.session.commit()
    return {"attendee": attendee.id, "outsider": outsider.id, "viewer": viewer.id, "unbound": unbound.id,
            "organizer": _identity_id(db, live)}


ACTIONS = [("post", "/proxy"), ("post", "/revoke"), ("post", "/remind")]
READS = [("get", ""), ("get", "/numbers.json"), ("get", "/missing.json"), ("get", "/events"),
         ("get", "/reminders.json")]


@pytest.mark.parametrize("who", ["attendee", "outsider", "unbound"])
def test_non_organizers_are_refused_everywhere(client, live, visitors, who):
    login(client, visitors[who])
    code = live.meeting.code
    for method, path in READS + ACTIONS:
        res = getattr(client, method)(f"/admin/{code}{path}", json={"contact_id": live.people[1].id},
                                      headers={"Accept": "application/json"})
        assert res.status_code == 403, (who, path)


def test_anonymous_visitor_is_sent_to_wechat_login(client, live):
    # In WeChat's browser: silent OAuth; elsewhere the scan-to-log-in page (tests/console/test_shell.py).
    res = client.get(f"/admin/{live.meeting.code}", headers={"User-Agent": "Mozilla/5.0 MicroMessenger/8.0.50"})
    assert res.status_code == 302 and "oauth2/authorize" in res.headers["Location"]
    res = client.post(f"/admin/{live.meeting.code}/proxy", json={"contact_id": live.people[1].id})
    assert res.status_code == 302


def test_viewer_sees_but_cannot_act(db, client, live, visitors):
    login(client, visitors["viewer"])
    code = live.meeting.code
    assert client.get(f"/admin/{code}").status_code == 200
    assert client.get(f"/admin/{code}/numbers.json").status_code == 200
    for _method, path in ACTIONS:
        res = client.post(f"/admin/{code}{path}", json={"contact_id": live.people[1].id})
        assert res.status_code == 403 and res.get_json()["error"]["code"] == "right_missing"
    assert db.session.scalar(select(SignIn.id)) is None


def test_organizer_proxy_signs_in_and_undoes(db, client, live, visitors):
    login(client, visitors["organizer"])
    code, target = live.meeting.code, live.people[1]
    page = client.get(f"/admin/{code}").get_data(as_text=True)
    assert "一键催签" in page and "/screen/" in page and "?k=" in page
    res = client.post(f"/admin/{code}/proxy", json={"contact_id": target.id})
    assert res.status_code == 200 and res.get_json()["created"] is True
    record = db.session.scalar(select(SignIn).where(SignIn.contact_id == target.id))
    assert record.method == "proxy" and record.actor_contact_id == live.organizer.id
    assert client.get(f"/admin/{code}/numbers.json").get_json()["arrived"] == 1

    res = client.post(f"/admin/{code}/revoke", json={"contact_id": target.id, "reason": "误点"})
    assert res.status_code == 200
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoke_reason == "误点"  # kept, never deleted
    assert record.revoked_by_contact_id == live.organizer.id
    assert client.get(f"/admin/{code}/numbers.json").get_json()["arrived"] == 0
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"signin.proxy", "signin.revoke"} <= actions
    again = client.post(f"/admin/{code}/revoke", json={"contact_id": target.id})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "not_signed_in"


def test_proxy_signin_of_someone_not_invited_is_refused(client, factory, live, visitors):
    login(client, visitors["organizer"])
    stranger = factory.contact(live.units[0])
    factory.db.session.commit()
    res = client.post(f"/admin/{live.meeting.code}/proxy", json={"contact_id": stranger.id})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "not_invited"
