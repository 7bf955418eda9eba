"""app.services.live.events: a round's sign-ins reach the streams in order, in one command each kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.services.live import events as live_events
from app.services.live import headcount


def _event(meeting_id: int, session_id: int, contact_id: int, seq: int) -> dict:
    return live_events.signin_event(meeting_id, session_id, seq=seq, contact_id=contact_id, name=f"人{contact_id}",
                                    unit_id=7, unit="单位", at=datetime.now(UTC), late=False, method="scan")


def _stream(redis_client, meeting_id: int) -> list[dict]:
    return [json.loads(fields[b"data"]) for _, fields in redis_client.xrange(live_events.stream_key(meeting_id))]


def test_a_rounds_sign_ins_in_order_across_meetings_with_their_counters(app_ctx, redis_client):
    events = [_event(1, 11, 101, 1), _event(2, 21, 201, 1), _event(1, 11, 102, 2), _event(1, 12, 103, 1)]
    with live_events.batch() as pipe:
        live_events.publish_signins(events, pipe=pipe)
        assert _stream(redis_client, 1) == []  # nothing sent before the batch ends
    assert [e["contact_id"] for e in _stream(redis_client, 1)] == [101, 102, 103]
    assert [e["seq"] for e in _stream(redis_client, 2)] == [1]
    # Each field carries its sign-in's order number, and ``low`` follows the numbers all applied.
    assert redis_client.hgetall(headcount.live_key(11)) == {b"101": b"7|0|1", b"102": b"7|0|2"}
    assert redis_client.hgetall(headcount.live_key(12)) == {b"103": b"7|0|1"}
    assert (redis_client.get(headcount.low_key(11)), redis_client.get(headcount.low_key(12))) == (b"2", b"1")


def test_one_event_and_none(app_ctx, redis_client):
    live_events.publish_signins([])
    live_events.publish_signins([_event(3, 31, 301, 5)])
    assert [e["seq"] for e in _stream(redis_client, 3)] == [5]
    assert redis_client.hget(headcount.live_key(31), "301") == b"7|0|5"
