"""The big screen's link can be replaced (issue 21.1): the old link stops working at once, the new one
works, and a secret being rotated (SECRET_KEY_FALLBACKS) keeps screens open meanwhile."""

from __future__ import annotations

import re

from app.services.live import headcount
from models import AuditLog
from tests.console.conftest import login_as


def _screen(client, code: str, key: str):
    return client.get(f"/screen/{code}/numbers.json?k={key}")


def test_replacing_the_link_retires_the_old_one(app, db, client, console):
    meeting = console.meeting
    secret = app.config["SECRET_KEY"]
    old_key = headcount.screen_key(secret, meeting.code, meeting.screen_key_version)
    assert _screen(client, meeting.code, old_key).status_code == 200

    login_as(client, console, "owner")
    page = client.get(f"/admin/{meeting.code}").get_data(as_text=True)
    assert old_key in page and "更换大屏链接" in page
    res = client.post(f"/admin/{meeting.code}/screen-link")
    assert res.status_code == 302

    db.session.refresh(meeting)
    assert meeting.screen_key_version == 1
    new_key = headcount.screen_key(secret, meeting.code, 1)
    assert new_key != old_key
    assert _screen(client, meeting.code, old_key).status_code == 403
    assert _screen(client, meeting.code, new_key).status_code == 200
    page = client.get(f"/admin/{meeting.code}").get_data(as_text=True)
    assert re.search(r'id="screen-url"[^>]*value="[^"]*k=' + re.escape(new_key), page)
    assert db.session.query(AuditLog).filter_by(action="meeting.screen_link", meeting_id=meeting.id).count() == 1


def test_staff_cannot_replace_the_link(app, db, client, console):
    login_as(client, console, "staff")
    assert "更换大屏链接" not in client.get(f"/admin/{console.meeting.code}").get_data(as_text=True)
    assert client.post(f"/admin/{console.meeting.code}/screen-link").status_code == 403
    assert console.meeting.screen_key_version == 0


def test_a_rotated_secret_still_opens_screens_while_it_is_listed(app, db, client, console, monkeypatch):
    meeting = console.meeting
    old_secret = app.config["SECRET_KEY"]
    key_under_old = headcount.screen_key(old_secret, meeting.code, meeting.screen_key_version)
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-" + "x" * 40)
    assert _screen(client, meeting.code, key_under_old).status_code == 403
    monkeypatch.setitem(app.config, "SECRET_KEY_FALLBACKS", [old_secret])
    assert _screen(client, meeting.code, key_under_old).status_code == 200
