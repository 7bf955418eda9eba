"""Reading a meeting's live stream for screens and consoles, as server-sent events; and what a
public screen may show of a vote.

:mod:`app.services.live.events` writes the stream; this reads it. Each message carries the stream id:
a browser that loses its connection reconnects with ``Last-Event-ID`` and gets what it missed, and
every (re)connection starts with the current numbers, which the page shows as they are (it never
adds up events itself). The views only wrap what :func:`listen` yields in a response
(:data:`SSE_MIMETYPE`, :data:`SSE_HEADERS`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator

from flask import Flask

from app.extensions import db, get_redis
from app.services.live import events as live_events
from app.services.live import headcount
from app.services.votes import results as vote_results
from app.services.votes import rules as vote_rules
from app.services.votes import votes
from app.services.votes.rules import VoteError
from models import Meeting, Vote

log = logging.getLogger(__name__)

#: XREAD blocks less than the Redis client's 5 s socket timeout; an idle stream sends a comment.
BLOCK_MS = 4000
#: A stream ends after this long so the browser reconnects (and resyncs) through a fresh worker.
MAX_STREAM_S = 600
#: The numbers follow events by at most this long (the counters are read once per interval).
NUMBERS_EVERY_S = 0.15
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
#: How long a stream trusts what it read about whether a vote's counts are public.
VISIBILITY_TTL_S = 2.0
SSE_MIMETYPE = "text/event-stream"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


# -- what a public screen shows of a vote ----------------------------------------------------------
def screen_vote_id(mode: str | None) -> int | None:
    """The vote id of a ``vote:<id>`` screen mode, else None (the headcount)."""
    kind, _, rest = (mode or "").partition(":")
    return int(rest) if kind == "vote" and rest.isdigit() else None


def screen_vote(meeting: Meeting) -> dict | None:
    """The public view of the vote the organizer put on screen, or None in headcount mode."""
    vote_id = screen_vote_id(meeting.screen_mode)
    if vote_id is None:
        return None
    try:
        vote = votes.get_vote(meeting, vote_id)
    except VoteError:
        return None  # a vote that no longer exists: show the headcount
    return public_vote(vote_results.results(vote, live=True).to_dict(),
                       visible=votes.results_visible(vote, is_organizer=False))


def public_vote(data: dict, *, visible: bool) -> dict:
    """A vote's results as the public screen may show them: without the per-option counts unless
    the vote's results are public now (the turnout is always shown)."""
    out = {k: data.get(k) for k in ("vote_id", "title", "kind", "state", "ballots", "eligible", "turnout")}
    out.update(type="vote", visible=visible, state_label=vote_rules.STATE_LABELS.get(data.get("state"), ""))
    out["options"] = [{"id": o["id"], "label": o["label"], **({"count": o["count"], "percent": o["percent"]}
                                                              if visible else {})}
                      for o in data.get("options") or ()]
    return out


class VoteVisibility:
    """Whether a vote's counts are public, per vote and state, re-read at most every
    ``VISIBILITY_TTL_S``: a burst of ballots costs a stream a few reads, not one per ballot."""

    def __init__(self, app: Flask):
        self.app, self.known = app, {}

    def __call__(self, vote_id: int, state: str) -> bool:
        hit = self.known.get((vote_id, state))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        with self.app.app_context():
            try:
                vote = db.session.get(Vote, vote_id)
                visible = vote is not None and votes.results_visible(vote, is_organizer=False)
            finally:
                db.session.remove()
        self.known[(vote_id, state)] = (visible, time.monotonic() + VISIBILITY_TTL_S)
        return visible


# -- the stream ------------------------------------------------------------------------------------
def last_stream_id(meeting_id: int) -> str:
    """The id of the meeting's newest event ("0-0" for none, or when Redis cannot say)."""
    try:
        entries = get_redis().xrevrange(live_events.stream_key(meeting_id), count=1)
    except Exception:
        return "0-0"
    return _text(entries[0][0]) if entries else "0-0"


def listen(app: Flask, ref: headcount.SessionRef, *, last_event_id: str | None, since: str | None,
           mask: bool, with_missing: bool, organizer: bool = False) -> Iterator[str]:
    """The meeting's live events as SSE text, after the stream id a reconnecting browser sends as
    ``Last-Event-ID`` (else the page's ``since``; else, or when that is no stream id, from now).

    Vote events go out in their public form (counts only when the vote allows) unless ``organizer``.
    Call it within the request: it reads where to start from Redis at once. The iterator runs after
    the request's context is gone and opens its own short app contexts on ``app``."""
    start = last_event_id or since or ""
    if not _STREAM_ID.match(start):
        start = last_stream_id(ref.meeting_id)
    return _generate(app, ref, start, mask=mask, with_missing=with_missing, organizer=organizer)


def _generate(app: Flask, ref: headcount.SessionRef, last_id: str, *, mask: bool,
              with_missing: bool, organizer: bool = False) -> Iterator[str]:
    redis = get_redis(app)
    visible = VoteVisibility(app)
    key = live_events.stream_key(ref.meeting_id)
    ends = time.monotonic() + MAX_STREAM_S
    yield "retry: 1500\n\n"
    yield _numbers_message(app, ref, mask=mask, with_missing=with_missing)
    numbers_due: float | None = None  # when the numbers must next be sent, if events arrived since
    while time.monotonic() < ends:
        now = time.monotonic()
        block = BLOCK_MS if numbers_due is None else max(1, int((numbers_due - now) * 1000))
        try:
            batches = redis.xread({key: last_id}, count=500, block=block)
        except Exception:
            log.exception("live stream read failed for meeting %s", ref.meeting_id)
            return  # the browser reconnects from its last id
        parts = []
        for _stream, entries in batches or ():
            for entry_id, fields in entries:
                last_id = _text(entry_id)
                payload = json.loads(_text(fields.get(b"data") or fields.get("data") or "{}"))
                if payload.get("type") in ("vote", "screen_mode"):
                    parts.append(meeting_event(last_id, payload, visible, organizer=organizer))
                    continue
                if payload.get("session_id") != ref.session_id:
                    parts.append(f"id: {last_id}\nevent: other\ndata: {{}}\n\n")
                    continue
                event = headcount.event_for_screen(payload, mask=mask)
                parts.append(f"id: {last_id}\nevent: {event['type']}\n"
                             f"data: {json.dumps(event, ensure_ascii=False)}\n\n")
        if parts and numbers_due is None:
            numbers_due = time.monotonic() + NUMBERS_EVERY_S
        if numbers_due is not None and time.monotonic() >= numbers_due:
            # At most one numbers message per interval: a burst of sign-ins costs a few reads of
            # the counters per screen, not one per event. Events themselves go out at once.
            parts.append(_numbers_message(app, ref, mask=mask, with_missing=with_missing))
            numbers_due = None
        yield "".join(parts) if parts else ": keepalive\n\n"


def meeting_event(last_id: str, payload: dict, visible: VoteVisibility, *, organizer: bool) -> str:
    """The SSE message of a vote or screen-mode event (they belong to the meeting, not to one
    session): a vote in its public form unless for an ``organizer``."""
    if payload["type"] == "vote":
        event = payload if organizer else public_vote(
            payload, visible=visible(payload.get("vote_id"), payload.get("state")))
    else:
        event = {"type": "screen_mode", "mode": payload.get("mode"),
                 "vote_id": screen_vote_id(payload.get("mode"))}
    return f"id: {last_id}\nevent: {event['type']}\ndata: {json.dumps(event, ensure_ascii=False)}\n\n"


def _numbers_message(app: Flask, ref: headcount.SessionRef, *, mask: bool, with_missing: bool) -> str:
    with app.app_context():
        try:
            data = headcount.numbers_for(ref, recent=False).to_dict(mask=mask, with_missing=with_missing)
        finally:
            db.session.remove()
    return f"event: numbers\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
