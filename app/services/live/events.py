"""Live events for screens and consoles, published to Redis after the commit.

Each meeting has a Redis stream. Listeners block on it (XREAD), so they wake as soon as an event is
added, and resume from the last id they saw after a dropped connection. It can be lost without
loss of truth: the database holds every sign-in, and screens re-read the numbers from the database.
A sign-in's event carries its order number, by which the headcount notices one that never came
(:func:`app.services.live.headcount.heal`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from app.extensions import get_redis
from app.services.live import headcount
from models import Meeting, MeetingSession, SignIn

log = logging.getLogger(__name__)
STREAM_MAXLEN = headcount.STREAM_MAXLEN
# The key is headcount's too: a repair of the counters announces itself on the stream.
stream_key = headcount.stream_key


def signin_event(meeting_id: int, session_id: int, *, seq: int | None, contact_id: int, name: str, unit_id: int,
                 unit: str, at: datetime, late: bool, method: str, role: str | None = None) -> dict[str, Any]:
    """``role``: the person's 参会身份 at the meeting (None when not invited), which decides what a
    public screen says of their lateness (:func:`headcount.public_late`)."""
    return {"type": "signin", "meeting_id": meeting_id, "session_id": session_id, "seq": seq,
            "contact_id": contact_id, "name": name, "unit_id": unit_id, "unit": unit, "at": at.isoformat(),
            "late": late, "method": str(method), "role": role}


def revoke_payload(meeting: Meeting, session: MeetingSession, record: SignIn) -> dict[str, Any]:
    return {"type": "revoke", "meeting_id": meeting.id, "session_id": session.id, "seq": record.seq,
            "contact_id": record.contact_id, "unit_id": record.contact.unit_id}


@contextmanager
def batch() -> Iterator[Any]:
    """A Redis pipeline for a round's writes after its commit (live events, counters, kept replies):
    pass it to the publish functions as ``pipe``; it is sent, in one round trip, when the block
    ends. Failures are logged, never raised (as :func:`publish`'s)."""
    pipe = get_redis().pipeline(transaction=False)
    try:
        yield pipe
    finally:
        try:
            pipe.execute()
        except Exception:
            log.exception("could not send a batch of live events")


def publish(meeting_id: int, payload: dict[str, Any], *, count: str | None = None, pipe: Any = None) -> None:
    """Append to the meeting's stream (which wakes its listeners). Failures are logged, never raised:
    the sign-in is already committed and screens resync from the database.

    ``count`` names the :mod:`headcount` function that updates the live counters for this event. It
    is queued first in the same pipeline (one Redis round trip for all of it), so a screen woken by
    the event reads numbers that already include it. With ``pipe`` (from :func:`batch`), everything
    is queued on it and sent by its owner.
    """
    _publish([(meeting_id, payload)], count, pipe)


def publish_signins(payloads: list[dict[str, Any]], *, pipe: Any = None) -> None:
    """Sign-ins' events, their counters in one update per session."""
    _publish([(p["meeting_id"], p) for p in payloads], "record_signins", pipe)


def publish_revoke(payload: dict[str, Any], *, pipe: Any = None) -> None:
    publish(payload["meeting_id"], payload, count="record_revokes", pipe=pipe)


_COUNTERS = {"record_signins": headcount.record_signins, "record_revokes": headcount.record_revokes}


def _publish(events: list[tuple[int, dict[str, Any]]], count: str | None, pipe: Any) -> None:
    if not events:
        return
    try:
        own = pipe is None
        pipe = get_redis().pipeline(transaction=False) if own else pipe
        if count is not None:
            _count(count, [payload for _, payload in events], pipe)
        pipe.eval(_XADD_MANY, len(events), *(stream_key(m) for m, _ in events), STREAM_MAXLEN,
                  *(json.dumps(p, ensure_ascii=False) for _, p in events))
        if own:
            pipe.execute()
    except Exception:
        log.exception("could not publish live events for meetings %s", sorted({m for m, _ in events}))


# Each event onto its meeting's stream, in order, in one command. EVAL, not EVALSHA: it is queued on a
# pipeline, where a script the server no longer has would fail the whole pipeline.
_XADD_MANY = ("for i = 1, #KEYS do redis.call('XADD', KEYS[i], 'MAXLEN', '~', ARGV[1], '*', 'data', ARGV[i + 1])"
              " end")


def _count(func_name: str, payloads: list[dict[str, Any]], pipe) -> None:
    """Queue the live headcount counters' update. Failures only log: counters are rebuilt from the
    database."""
    try:
        _COUNTERS[func_name](payloads, pipe)
    except Exception:
        log.exception("could not update headcount counters for meetings %s",
                      sorted({p.get("meeting_id") for p in payloads}))
