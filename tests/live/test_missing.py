"""Who is missing, a unit or a search at a time (missing.json), and what the live page, numbers.json
and the stream carry instead of every name: counts, whatever the meeting's size."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import event

from app.services.live import events as live_events
from app.services.live import headcount, stream
from app.services.signin.rules import get_session
from app.services.signin.write import revoke, sign_in
from app.web import console as console_view
from models import Leave
from tests.live.conftest import build_meeting, login
from tests.live.test_pages import _identity_id

TITLES = ["局长", None, "副局长", "科长", None, "办公室主任"]


@pytest.fixture
def meeting(db, factory):
    """build_meeting's six (代表0..5, even ones in 区发展和改革局, odd ones in 区财政局) with 职务, and
    代表5 on leave."""
    data = build_meeting(factory, "MISS1")
    for person, title in zip(data.people, TITLES, strict=True):
        person.title = title
    db.session.add(Leave(meeting_id=data.meeting.id, contact_id=data.people[5].id, reason="出差", approver="王主任",
                         recorded_by="test"))
    db.session.commit()
    data.session = get_session(data.meeting)
    data.ref = headcount.SessionRef.of(data.meeting, data.session)
    return data


def names(page: dict) -> list[str]:
    return [p["name"] for p in page["people"]]


def test_a_units_missing_in_pages_and_a_search_by_name_title_or_unit(db, meeting, redis_client):
    a, b = meeting.units
    sign_in(meeting.meeting, meeting.session, meeting.people[2], method="scan", check_window=False)
    db.session.commit()
    everyone = headcount.missing_people(meeting.ref)
    # Signed in (代表2) and on leave (代表5) are not missing; by unit, then the directory's order.
    assert names(everyone) == ["代表0", "代表4", "代表1", "代表3"]
    assert everyone["total"] == 4 and everyone["next"] is None
    assert everyone["people"][3] == {"id": meeting.people[3].id, "name": "代表3", "title": "科长",
                                     "unit_id": b.id, "unit": "区财政局"}

    first = headcount.missing_people(meeting.ref, unit_id=a.id, limit=1)
    assert (names(first), first["total"], first["next"]) == (["代表0"], 2, meeting.people[0].id)
    rest = headcount.missing_people(meeting.ref, unit_id=a.id, after=first["next"], limit=1)
    assert (names(rest), rest["next"]) == (["代表4"], None)

    assert names(headcount.missing_people(meeting.ref, query="科长")) == ["代表3"]  # 职务
    assert names(headcount.missing_people(meeting.ref, query="财政")) == ["代表1", "代表3"]  # unit
    assert names(headcount.missing_people(meeting.ref, query=" 代表4 ")) == ["代表4"]
    assert names(headcount.missing_people(meeting.ref, query="局长")) == ["代表0"]  # 副局长 signed in
    assert headcount.missing_people(meeting.ref, query="出差")["total"] == 0  # a leave's reason is no match
    assert names(headcount.missing_people(meeting.ref, unit_id=b.id, query="代表")) == ["代表1", "代表3"]
    assert headcount.missing_people(meeting.ref, unit_id=-1)["people"] == []


def test_a_page_goes_on_after_its_cursor_while_people_sign_in(db, meeting, redis_client):
    a = meeting.units[0]
    first = headcount.missing_people(meeting.ref, unit_id=a.id, limit=1)  # 代表0
    for p in meeting.people[0:3:2]:  # the cursor's person and the next one sign in meanwhile
        sign_in(meeting.meeting, meeting.session, p, method="scan", check_window=False)
    db.session.commit()
    rest = headcount.missing_people(meeting.ref, unit_id=a.id, after=first["next"], limit=10)
    assert (names(rest), rest["total"], rest["next"]) == (["代表4"], 1, None)
    # A cursor whose person has left the roster: on after them by contact id.
    assert names(headcount.missing_people(meeting.ref, unit_id=a.id, after=10**9)) == []
    assert names(headcount.missing_people(meeting.ref, unit_id=a.id, after=0, limit=0)) == ["代表4"]  # at least 1


def test_counts_without_the_lists_are_the_same_counts(db, meeting, redis_client):
    for p in meeting.people[:3]:
        sign_in(meeting.meeting, meeting.session, p, method="scan", check_window=False)
    sign_in(meeting.meeting, meeting.session, meeting.people[5], method="scan", check_window=False)  # on leave
    db.session.commit()
    full = headcount.numbers(meeting.meeting, meeting.session)
    counts = headcount.numbers(meeting.meeting, meeting.session, missing=False)
    assert counts.to_dict(with_missing=False) == full.to_dict(with_missing=False)
    assert (counts.expected, counts.arrived, counts.missing_count, counts.leave) == (5, 4, 2, 1)
    assert counts.missing_count == sum(len(u.missing) for u in full.units)
    with pytest.raises(ValueError):
        counts.to_dict()  # asked for lists it was not read with
    page = counts.to_dict(with_missing=False, with_leave=True)
    assert "missing" not in page["units"][0] and [p["name"] for p in page["on_leave"]] == ["代表5"]


def test_a_process_reads_the_roster_once_per_stamp(app, db, meeting, redis_client, factory):
    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    headcount.numbers(meeting.meeting, meeting.session, recent=False)
    parsed = headcount.roster_for(meeting.ref)
    event.listen(db.engine, "before_cursor_execute", note)
    try:
        for _ in range(3):
            headcount.numbers(meeting.meeting, meeting.session, recent=False)
            headcount.missing_people(meeting.ref, query="代表")
        assert not [s for s in statements if "invitees" in s]
        assert headcount.roster_for(meeting.ref) is parsed  # parsed once while its stamp stands
        # Who is expected changes: the cached roster is dropped, and every process reads the new one.
        newcomer = factory.contact(meeting.units[1], name="新来的", title="调研员")
        factory.invitee(meeting.meeting, newcomer)
        db.session.commit()
        headcount.forget_roster(meeting.session.id)
        statements.clear()
        assert headcount.numbers(meeting.meeting, meeting.session).expected == 6
        assert names(headcount.missing_people(meeting.ref, query="调研员")) == ["新来的"]
        # The roster's read (the recent sign-ins join invitees too, for their 参会身份).
        assert len([s for s in statements if "invitees.group_name" in s]) == 1
        assert headcount.roster_for(meeting.ref) is not parsed
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_an_unreadable_cached_roster_is_read_again(db, meeting, redis_client):
    redis_client.set(headcount.roster_key(meeting.session.id), "[]")
    redis_client.set(headcount.stamp_key(meeting.session.id), "x")
    assert headcount.numbers(meeting.meeting, meeting.session).expected == 5


# -- over HTTP -------------------------------------------------------------------------------------
@pytest.fixture
def organizer(db, client, meeting):
    login(client, _identity_id(db, meeting))
    return client


def config_of(html: str) -> dict:
    return json.loads(re.search(r'id="console-config">(.*?)</script>', html, re.S).group(1))


def test_the_page_lists_few_missing_at_once_and_many_not(db, organizer, meeting, monkeypatch):
    code = meeting.meeting.code
    small = config_of(organizer.get(f"/admin/{code}").get_data(as_text=True))
    assert [p["name"] for p in small["missing"]["people"]] == ["代表0", "代表2", "代表4", "代表1", "代表3"]
    assert small["missing"]["next"] is None and small["missingPage"] == console_view.MISSING_PAGE
    assert "missing" not in small["initial"]["units"][0]  # the numbers are counts
    assert [p["name"] for p in small["initial"]["on_leave"]] == ["代表5"]

    monkeypatch.setattr(console_view, "MISSING_INLINE_MAX", 4)
    html = organizer.get(f"/admin/{code}").get_data(as_text=True)
    large = config_of(html)
    assert large["missing"] is None and "代表0" not in html
    assert {u["name"]: (u["expected"], u["arrived"]) for u in large["initial"]["units"]} == {
        "区发展和改革局": (3, 0), "区财政局": (2, 0)}
    assert "输入姓名、职务或单位查找" in html  # the box searches the server


def test_numbers_json_carries_counts_and_leave_but_no_missing_names(organizer, meeting):
    data = organizer.get(f"/admin/{meeting.meeting.code}/numbers.json").get_json()
    assert (data["expected"], data["missing"], data["leave"]) == (5, 5, 1)
    assert all("missing" not in u for u in data["units"]) and "代表0" not in json.dumps(data, ensure_ascii=False)
    assert data["on_leave"][0]["name"] == "代表5" and data["recent"] == []


def test_missing_json(organizer, meeting):
    base = f"/admin/{meeting.meeting.code}/missing.json"
    a = meeting.units[0]
    res = organizer.get(f"{base}?unit={a.id}&limit=2")
    assert res.status_code == 200
    page = res.get_json()
    assert (names(page), page["total"]) == (["代表0", "代表2"], 3)
    page = organizer.get(f"{base}?unit={a.id}&limit=2&after={page['next']}").get_json()
    assert (names(page), page["next"]) == (["代表4"], None)
    assert names(organizer.get(f"{base}?q=副局长").get_json()) == ["代表2"]
    # Bad input is read as no filter or the default, never an error.
    for query in ("unit=abc", "after=x&limit=-5", "limit=100000", "q=" + "长" * 500, "unit=&q="):
        res = organizer.get(f"{base}?{query}")
        assert res.status_code == 200 and isinstance(res.get_json()["people"], list), query
    assert len(organizer.get(f"{base}?limit=100000").get_json()["people"]) == 5


# -- the stream ------------------------------------------------------------------------------------
def _messages(app, ref, *, with_missing: bool, since: str):
    return stream.listen(app, ref, last_event_id=None, since=since, mask=False, with_missing=with_missing)


def _events(text: str, kind: str) -> list[dict]:
    return [json.loads(m.split("data: ", 1)[1]) for m in text.split("\n\n") if f"event: {kind}\n" in m]


def test_stream_numbers_are_counts_and_a_revoke_names_who_is_missing_again_for_consoles_only(
        app, db, meeting, redis_client):
    person = meeting.people[3]
    sign_in(meeting.meeting, meeting.session, person, method="scan", check_window=False)
    db.session.commit()
    since = stream.last_stream_id(meeting.meeting.id)
    revoke(meeting.meeting, meeting.session, person, actor=meeting.organizer, reason="误签")
    db.session.commit()
    console = _messages(app, meeting.ref, with_missing=True, since=since)
    screen = _messages(app, meeting.ref, with_missing=False, since=since)
    for messages in (console, screen):
        next(messages)
        first = _events(next(messages), "numbers")[0]
        assert first["missing"] == 5 and "on_leave" not in first and all("missing" not in u for u in first["units"])
    revoked = _events(next(console), "revoke")[0]
    assert revoked["person"] == {"id": person.id, "name": "代表3", "title": "科长", "unit_id": person.unit_id,
                                 "unit": "区财政局"}
    on_screen = _events(next(screen), "revoke")[0]
    assert "person" not in on_screen and "代表3" not in json.dumps(on_screen, ensure_ascii=False)


def test_streams_of_a_process_share_one_count(app, db, meeting, redis_client, monkeypatch):
    counted = []
    real = headcount.numbers_for
    monkeypatch.setattr(headcount, "numbers_for", lambda *a, **kw: counted.append(1) or real(*a, **kw))
    monkeypatch.setattr(stream, "shared_numbers", stream.SharedNumbers())
    since = stream.last_stream_id(meeting.meeting.id)
    listeners = [_messages(app, meeting.ref, with_missing=i % 2 == 0, since=since) for i in range(5)]
    firsts = [next(m) and next(m) for m in listeners]
    assert len(counted) == 1 and len(set(firsts)) == 1  # one count, the same message for all
    # A sign-in: each listener sends it, then numbers that count it; the process counts once.
    live_events.publish_signins([live_events.signin_event(
        meeting.meeting.id, meeting.session.id, seq=1, contact_id=meeting.people[0].id, name="代表0",
        unit_id=meeting.units[0].id, unit="区发展和改革局", at=meeting.meeting.starts_at, late=False, method="scan")])
    for m in listeners:
        text = next(m)
        text += "" if "event: numbers" in text else next(m)
        assert _events(text, "signin")[0]["unit_id"] == meeting.units[0].id
        assert _events(text, "numbers")[0]["arrived"] == 1
    assert len(counted) == 2
    # The roster changes: the next listener counts afresh.
    headcount.forget_roster(meeting.session.id)
    next(late := _messages(app, meeting.ref, with_missing=True, since=since))
    next(late)
    assert len(counted) == 3
