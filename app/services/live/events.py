"""Live events for screens and consoles, published to Redis after the commit.

Each meeting has a Redis stream. Listeners block on it (XREAD), so they wake as soon as an event is
added, and resume from the last id they saw after a dropped connection. It can be lost without
loss of truth: the database holds every sign-in, and screens re-read the numbers from the database.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import g

from app.extensions import get_redis
from models import Meeting, MeetingSession, SignIn

log = logging.getLogger(__name__)
STREAM_MAXLEN = 2000


def stream_key(meeting_id: int) -> str:
    return f"huiyi:live:{meeting_id}:stream"


def signin_payload(meeting: Meeting, session: MeetingSession, record: SignIn) -> dict[str, Any]:
    """The event for a new sign-in; its ``seq`` is only known once the sign-in has committed."""
    contact = record.contact
    return signin_event(meeting.id, session.id, seq=record.seq, contact_id=contact.id, name=contact.name,
                        unit_id=contact.unit_id, unit=contact.unit.name, at=record.signed_at, late=record.late,
                        method=record.method)


def signin_event(meeting_id: int, session_id: int, *, seq: int | None, contact_id: int, name: str, unit_id: int,
                 unit: str, at: datetime, late: bool, method: str) -> dict[str, Any]:
    return {"type": "signin", "meeting_id": meeting_id, "session_id": session_id, "seq": seq,
            "contact_id": contact_id, "name": name, "unit_id": unit_id, "unit": unit, "at": at.isoformat(),
            "late": late, "method": str(method)}


def revoke_payload(meeting: Meeting, session: MeetingSession, record: SignIn) -> dict[str, Any]:
    return {"type": "revoke", "meeting_id": meeting.id, "session_id": session.id, "seq": record.seq,
            "contact_id": record.contact_id, "unit_id": record.contact.unit_id}


@contextmanager
def batch() -> Iterator[Any]:
    """Queue every live event published inside the block (with its counter updates) on one Redis
    pipeline, sent when the block ends together with whatever the caller queued on the yielded
    pipeline: one round trip for all of a request's Redis writes after its commit. Inside another
    batch, the outer one's pipeline is used and sent when that one ends. Failures are logged,
    never raised (as :func:`publish`'s)."""
    stack = g.setdefault(_BATCH, [])
    if stack:
        yield stack[-1]
        return
    pipe = get_redis().pipeline(transaction=False)
    stack.append(pipe)
    try:
        yield pipe
    finally:
        stack.pop()
        try:
            pipe.execute()
        except Exception:
            log.exception("could not send a batch of live events")


_BATCH = "huiyi_live_batch"


def publish(meeting_id: int, payload: dict[str, Any], *, count: str | None = None) -> None:
    """Append to the meeting's stream (which wakes its listeners). Failures are logged, never raised:
    the sign-in is already committed and screens resync from the database.

    ``count`` names the :mod:`headcount` function that updates the live counters for this event. It
    is queued first in the same pipeline (one Redis round trip for all of it), so a screen woken by
    the event reads numbers that already include it. Inside :func:`batch`, everything is queued on
    the batch's pipeline instead.
    """
    _publish([(meeting_id, payload)], count)


def publish_signin(payload: dict[str, Any]) -> None:
    publish(payload["meeting_id"], payload, count="record_signins")


def publish_signins(payloads: list[dict[str, Any]]) -> None:
    """:func:`publish_signin` for several sign-ins: their counters in one update per session."""
    _publish([(p["meeting_id"], p) for p in payloads], "record_signins")


def publish_revoke(payload: dict[str, Any]) -> None:
    publish(payload["meeting_id"], payload, count="record_revokes")


def _publish(events: list[tuple[int, dict[str, Any]]], count: str | None) -> None:
    if not events:
        return
    try:
        batched = g.get(_BATCH)
        pipe = batched[-1] if batched else get_redis().pipeline(transaction=False)
        if count is not None:
            _count(count, [payload for _, payload in events], pipe)
        pipe.eval(_XADD_MANY, len(events), *(stream_key(m) for m, _ in events), STREAM_MAXLEN,
                  *(json.dumps(p, ensure_ascii=False) for _, p in events))
        if not batched:
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
        from app.services.live import headcount

        getattr(headcount, func_name)(payloads, pipe)
    except Exception:
        log.exception("could not update headcount counters for meetings %s",
                      sorted({p.get("meeting_id") for p in payloads}))
