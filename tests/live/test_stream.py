"""app.services.live.stream: where a (re)connecting listener resumes, and the SSE it is sent."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.services.live import events as live_events
from app.services.live import headcount, stream
from app.services.signin.rules import get_session


@pytest.fixture
def ref(live) -> headcount.SessionRef:
    return headcount.SessionRef.of(live.meeting, get_session(live.meeting))


def _signin(ref: headcount.SessionRef, contact_id: int, name: str, *, session_id: int | None = None) -> str:
    """Publish a sign-in event; its stream id."""
    live_events.publish(ref.meeting_id, live_events.signin_event(
        ref.meeting_id, session_id or ref.session_id, seq=None, contact_id=contact_id, name=name, unit_id=1,
        unit="区财政局", at=datetime(2026, 11, 23, 1, 5, tzinfo=UTC), late=False, method="scan"))
    return stream.last_stream_id(ref.meeting_id)


def _listen(app, ref, **kw):
    kw = {"last_event_id": None, "since": None, "mask": False, "with_missing": False, **kw}
    return stream.listen(app, ref, **kw)


def test_last_stream_id(app, db, ref, redis_client):
    assert stream.last_stream_id(ref.meeting_id) == "0-0"
    first = _signin(ref, 1, "甲")
    assert first != "0-0" and _signin(ref, 2, "乙") not in ("0-0", first)


def test_resumes_after_the_id_the_browser_last_saw(app, db, live, ref, redis_client):
    first = _signin(ref, 1, "代表甲")
    second = _signin(ref, 2, "代表乙")
    _signin(ref, 3, "别场", session_id=ref.session_id + 1000)
    messages = _listen(app, ref, since=first)
    assert next(messages) == "retry: 1500\n\n"
    numbers = next(messages)
    assert numbers.startswith("event: numbers\ndata: ") and numbers.endswith("\n\n")
    assert json.loads(numbers.split("data: ", 1)[1])["expected"] == 6
    events = next(messages)
    head, _, rest = events.partition("\n\n")
    assert head.startswith(f"id: {second}\nevent: signin\ndata: ")
    signin = json.loads(head.split("data: ", 1)[1])
    assert (signin["name"], signin["unit"], signin["session_id"]) == ("代表乙", "区财政局", ref.session_id)
    assert "代表甲" not in events  # seen already
    assert rest.startswith("id: ") and "\nevent: other\ndata: {}\n\n" in rest  # another session's event
    # The numbers follow a round of events (within NUMBERS_EVERY_S: in the same chunk on a slow machine).
    after = rest if "event: numbers\n" in rest else next(messages)
    assert "event: numbers\ndata: " in after


def test_last_event_id_wins_over_the_pages_since(app, db, ref, redis_client, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_MS", 10)
    first = _signin(ref, 1, "代表甲")
    second = _signin(ref, 2, "代表乙")
    messages = _listen(app, ref, last_event_id=second, since=first)
    next(messages), next(messages)
    assert next(messages) == ": keepalive\n\n"  # nothing after the Last-Event-ID


@pytest.mark.parametrize("since", [None, "", "latest", "1-2-3", "0-0; drop"])
def test_no_usable_id_starts_from_now(app, db, ref, redis_client, monkeypatch, since):
    monkeypatch.setattr(stream, "BLOCK_MS", 10)
    _signin(ref, 1, "代表甲")
    messages = _listen(app, ref, since=since)
    next(messages), next(messages)
    assert next(messages) == ": keepalive\n\n"


def test_vote_events_are_public_unless_for_organizers(app, db, ref, redis_client):
    payload = {"type": "vote", "vote_id": 999_999, "state": "open", "title": "表决", "ballots": 1, "eligible": 6,
               "turnout": 16.7, "totals": {"1": 1}, "options": [{"id": 1, "label": "同意", "count": 1, "percent": 100.0}]}
    live_events.publish(ref.meeting_id, payload)
    since = "0-0"
    public = _listen(app, ref, since=since)
    next(public), next(public)
    data = json.loads(next(public).split("data: ", 1)[1].split("\n")[0])
    assert data["visible"] is False and "totals" not in data and set(data["options"][0]) == {"id", "label"}
    organizer = _listen(app, ref, since=since, organizer=True)
    next(organizer), next(organizer)
    assert json.loads(next(organizer).split("data: ", 1)[1].split("\n")[0]) == payload
