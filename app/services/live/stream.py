"""Reading a meeting's live stream for screens and consoles, as server-sent events; and what a
public screen may show of a vote.

:mod:`app.services.live.events` writes the stream; this reads it. Each message carries the stream id:
a browser that loses its connection reconnects with ``Last-Event-ID`` and gets what it missed, and
every (re)connection starts with the current numbers, which the page shows as they are (it never
adds up events itself). The views only wrap what :func:`listen` yields in a response
(:data:`SSE_MIMETYPE`, :data:`SSE_HEADERS`).

The numbers messages carry counts only (totals, per unit, per group), the same for every listener
of a session, whatever it may see of names: a few KB however large the meeting. So each process
counts at most once per ``NUMBERS_EVERY_S`` for all its streams of a session (:class:`SharedNumbers`),
and a burst of sign-ins costs twenty open consoles one count, not twenty; each event is decoded and
written once per process and kind of listener (:class:`RenderedEvents`), not once per stream.
Who is missing is read a unit at a time by the page; a listener that may see it (``with_missing``)
gets, in each revoke event, the person who is missing again, so an open list takes them back
without a read.

When things fail, a stream stays open and says so rather than dying: without Redis it sends the
numbers counted in the database every ``FALLBACK_EVERY_S`` (when they change) and goes back to the
stream as soon as Redis answers; without the database it sends ``unavailable`` (the page keeps its
numbers and shows that it is reconnecting) until the numbers can be counted again. While idle it
checks every ``headcount.HEAL_EVERY_S`` that the counters miss no committed sign-in
(:func:`headcount.heal`); a repair is announced on the stream, so every open page re-counts.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.services.live import events as live_events
from app.services.live import headcount
from app.services.votes import results as vote_results
from app.services.votes import rules as vote_rules
from app.services.votes import votes
from app.services.votes.rules import VoteError
from models import Meeting, Vote

log = logging.getLogger(__name__)

#: XREAD blocks this long, waiting at most ``READ_TIMEOUT_S`` for Redis's reply; an idle stream then
#: sends a comment.
BLOCK_MS = 500
READ_TIMEOUT_S = 2.0
#: Without Redis, the numbers are counted in the database (and Redis tried again) this often.
FALLBACK_EVERY_S = 1.5
UNAVAILABLE = ('event: unavailable\ndata: {"code": "service_unavailable", '
               '"message": "签到数据暂时无法读取，正在重新连接"}\n\n')
#: A stream ends after this long so the browser reconnects (and resyncs) through a fresh worker.
MAX_STREAM_S = 600
#: The numbers follow events by at most this long (the counters are read once per interval).
NUMBERS_EVERY_S = 0.15
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
#: The longest a process's last count of a session serves its other streams (with the roster's
#: stamp unchanged and covering every event they have sent).
NUMBERS_SHARED_S = 2.0
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
    # While Redis is failing, the vote's counters are not waited on: counted in the database.
    return public_vote(vote_results.results(vote, live=not headcount.redis_backing_off()).to_dict(),
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
def last_stream_id(meeting_id: int, app: Flask | None = None) -> str | None:
    """The id of the meeting's newest event ("0-0" for none), or None when Redis cannot say."""
    try:
        entries = headcount.live_redis(app).xrevrange(live_events.stream_key(meeting_id), count=1)
    except RedisError as exc:
        headcount.redis_failed(exc, "stream id")
        return None
    return _text(entries[0][0]) if entries else "0-0"


def listen(app: Flask, ref: headcount.SessionRef, *, last_event_id: str | None, since: str | None,
           mask: bool, with_missing: bool, organizer: bool = False, public: bool = False) -> Iterator[str]:
    """The meeting's live events as SSE text, after the stream id a reconnecting browser sends as
    ``Last-Event-ID`` (else the page's ``since``; else, or when that is no stream id, from now).

    ``with_missing``: the listener may see who is missing (the console; never the big screen):
    revoke events carry the person (:func:`headcount.expected_person`). Numbers messages are
    counts only, for every listener. Vote events go out in their public form (counts only when the
    vote allows) unless ``organizer``. ``public`` (the big screen): sign-ins say ``late`` as a
    projector may (:func:`headcount.public_late`).
    Call it within the request: it reads where to start from Redis at once. The iterator runs after
    the request's context is gone and opens its own short app contexts on ``app``."""
    start = last_event_id or since or ""
    if not _STREAM_ID.match(start):
        start = last_stream_id(ref.meeting_id)
    return _generate(app, ref, start, mask=mask, with_missing=with_missing, organizer=organizer, public=public)


def _generate(app: Flask, ref: headcount.SessionRef, last_id: str | None, *, mask: bool,
              with_missing: bool, organizer: bool = False, public: bool = False) -> Iterator[str]:
    """``last_id``: where to read from; None when Redis could not say (then from wherever the
    stream is once it can)."""
    visible = VoteVisibility(app)
    key = live_events.stream_key(ref.meeting_id)
    ends = time.monotonic() + MAX_STREAM_S
    yield "retry: 1500\n\n"
    sent = None  # the last numbers message sent
    try:
        sent, _ = shared_numbers.count(app, ref, last_id or "0-0", wait=False)
        yield sent.message
    except SQLAlchemyError:
        log.warning("live stream of meeting %s: the numbers cannot be counted", ref.meeting_id)
        yield UNAVAILABLE
    numbers_due: float | None = None  # when the numbers must next be sent, if events arrived since
    while time.monotonic() < ends:
        if last_id is None:
            last_id = last_stream_id(ref.meeting_id, app)
        now = time.monotonic()
        block = BLOCK_MS if numbers_due is None else max(1, int((numbers_due - now) * 1000))
        try:
            if last_id is None:
                raise headcount.RedisBackingOff("no stream id")
            batches = headcount.live_redis(app, timeout=READ_TIMEOUT_S).xread({key: last_id}, count=500,
                                                                               block=block)
        except RedisError as exc:
            # Redis is away: the numbers come from the database until it is back.
            headcount.redis_failed(exc, f"stream of meeting {ref.meeting_id}")
            text, sent = _fallback(app, ref, sent, last_id)
            yield text
            time.sleep(FALLBACK_EVERY_S)
            continue
        parts: list[str | tuple[tuple, dict]] = []
        revoked: list[dict] = []
        for _stream, entries in batches or ():
            for entry_id, fields in entries:
                last_id = _text(entry_id)
                shared = (ref.meeting_id, last_id, ref.session_id, mask, with_missing, public)
                text = rendered.get(shared)
                if text is not None:  # another stream of this process has written it
                    parts.append(text)
                    continue
                payload = json.loads(_text(fields.get(b"data") or fields.get("data") or "{}"))
                if payload.get("type") in ("vote", "screen_mode"):
                    parts.append(meeting_event(last_id, payload, visible, organizer=organizer))
                    continue
                if payload.get("session_id") != ref.session_id:
                    parts.append(rendered.put(shared, f"id: {last_id}\nevent: other\ndata: {{}}\n\n"))
                    continue
                event = headcount.event_for_screen(payload, mask=mask, public=public)
                if with_missing and event["type"] == "revoke":
                    revoked.append(event)
                parts.append((shared, event))
        if revoked:
            _add_people(app, ref, revoked)
        if parts and numbers_due is None:
            numbers_due = time.monotonic() + NUMBERS_EVERY_S
        out = [p if isinstance(p, str) else rendered.put(
                   p[0], f"id: {p[0][1]}\nevent: {p[1]['type']}\ndata: {json.dumps(p[1], ensure_ascii=False)}\n\n")
               for p in parts]
        if not parts and numbers_due is None:
            # Idle: a sign-in whose event never came (its worker died) is repaired here, and the
            # repair's announcement wakes this stream like any event.
            healing.check(app, ref)
            if sent is None or sent.message == UNAVAILABLE:
                text, sent = _fallback(app, ref, sent, last_id)  # the database is back: the numbers again
                out.append(text if text != ": keepalive\n\n" else "")
        if numbers_due is not None and time.monotonic() >= numbers_due:
            # At most one numbers message per interval: a burst of sign-ins costs a few counts per
            # process, not one per event and stream. Events themselves go out at once.
            try:
                count, complete = shared_numbers.count(app, ref, last_id, wait=True)
            except SQLAlchemyError:
                out.append(UNAVAILABLE)
                count, complete, sent = None, True, _UNAVAILABLE
            if count is not None and (complete or count is not sent):
                out.append(count.message)
                sent = count
            # Counted by another stream a moment ago, before some of what this one sent: send it,
            # and the count that covers everything soon after.
            numbers_due = None if complete else count.at + NUMBERS_EVERY_S
        text = "".join(out)
        yield text if text else ": keepalive\n\n"


def _fallback(app: Flask, ref: headcount.SessionRef, sent: _Count | None,
              seen: str | None) -> tuple[str, _Count | None]:
    """What a stream that has sent events up to ``seen`` sends while it cannot read more: the
    numbers when they changed (counted in the database if Redis is away), ``unavailable`` when they
    cannot be counted."""
    try:
        count, _ = shared_numbers.count(app, ref, seen or "0-0", wait=False)
    except SQLAlchemyError:
        log.warning("live stream of meeting %s: the numbers cannot be counted", ref.meeting_id)
        return UNAVAILABLE, _UNAVAILABLE
    if sent is not None and count.message == sent.message:
        return ": keepalive\n\n", sent
    return count.message, count


def _add_people(app: Flask, ref: headcount.SessionRef, events: list[dict]) -> None:
    """Each revoke event gets the person it puts back among the missing (None if not expected)."""
    with app.app_context():
        try:
            for event in events:
                event["person"] = headcount.expected_person(ref, event["contact_id"])
        except Exception:  # the page re-reads the unit's list when its counts disagree
            log.exception("could not name the people of revoke events for session %s", ref.session_id)
        finally:
            db.session.remove()


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


@dataclass
class _Count:
    upto: tuple[int, int]  # the stream id read before counting: every event up to it is counted
    stamp: str             # the cached roster's stamp counted against
    at: float              # time.monotonic() of the count
    message: str


class SharedNumbers:
    """The last count of each session in this process, shared by all its streams.

    A stream that has sent events up to id X may send a count whose ``upto`` is at least X, made
    within ``NUMBERS_SHARED_S`` against the roster as cached now. Otherwise it counts afresh, unless
    another stream of the process counted less than ``NUMBERS_EVERY_S`` ago: then it sends that
    count and asks again when the interval is over, so that a process counts a session at most
    about once per interval however many streams it serves."""

    def __init__(self):
        self.counts: dict[tuple, _Count] = {}
        self.locks: dict[tuple, threading.Lock] = {}
        self.guard = threading.Lock()

    def count(self, app: Flask, ref: headcount.SessionRef, seen: str, *, wait: bool) -> tuple[_Count, bool]:
        """A count for a stream that has sent events up to ``seen``, and whether it covers them
        (if not, ask again at ``count.at + NUMBERS_EVERY_S``; only when ``wait``)."""
        key = (ref.meeting_id, ref.session_id, ref.admission)
        want = _id_key(seen)
        try:
            stamp = _text(headcount.live_redis(app).get(headcount.stamp_key(ref.session_id)) or "")
        except RedisError as exc:
            headcount.redis_failed(exc, "roster stamp")
            stamp = ""  # the database's roster (counted without Redis) has no stamp either
        count = self._fresh(key, stamp)
        if count is not None and (count.upto >= want or (wait and time.monotonic() - count.at < NUMBERS_EVERY_S)):
            return count, count.upto >= want
        with self.guard:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            count = self._fresh(key, stamp)  # made by the stream that held the lock?
            if count is not None and count.upto >= want:
                return count, True
            with app.app_context():
                try:
                    upto = _id_key(last_stream_id(ref.meeting_id, app) or "0-0")  # read first: all is counted
                    numbers = headcount.numbers_for(ref, recent=False, missing=False)
                except SQLAlchemyError:
                    db.session.rollback()
                    raise
                finally:
                    db.session.remove()
            data = json.dumps(numbers.to_dict(with_missing=False), ensure_ascii=False)
            count = _Count(upto=upto, stamp=numbers.stamp, at=time.monotonic(),
                           message=f"event: numbers\ndata: {data}\n\n")
            self.counts[key] = count
            return count, True

    def _fresh(self, key: tuple, stamp: str) -> _Count | None:
        count = self.counts.get(key)
        if count is None or count.stamp != stamp or time.monotonic() - count.at >= NUMBERS_SHARED_S:
            return None
        return count


shared_numbers = SharedNumbers()
#: What :func:`_fallback` reports as sent while the numbers cannot be counted.
_UNAVAILABLE = _Count(upto=(0, 0), stamp="", at=0.0, message=UNAVAILABLE)


class Healing:
    """Idle streams check their session's counters against the database (:func:`headcount.heal`),
    at most once per ``headcount.HEAL_EVERY_S`` per session and process, with the reads."""

    def check(self, app: Flask, ref: headcount.SessionRef) -> None:
        if not headcount.heal_due(ref.session_id):
            return
        with app.app_context():
            try:
                headcount.heal(ref, headcount.live_redis(app))
            except (RedisError, SQLAlchemyError) as exc:  # the reads fall back by themselves
                log.warning("headcount check of session %s skipped: %s", ref.session_id, exc)
            finally:
                db.session.remove()


healing = Healing()


class RenderedEvents:
    """The SSE text of the stream's recent entries as each kind of listener gets them, shared by
    the streams of a process: a burst costs a process one decode and one encode of each event, not
    one per open page. Vote events are not kept (what they show depends on when they are read)."""

    def __init__(self, size: int = 8192):
        self.size = size
        self.texts: OrderedDict[tuple, str] = OrderedDict()
        self.guard = threading.Lock()

    def get(self, key: tuple) -> str | None:
        return self.texts.get(key)

    def put(self, key: tuple, text: str) -> str:
        with self.guard:
            self.texts[key] = text
            while len(self.texts) > self.size:
                self.texts.popitem(last=False)
        return text


rendered = RenderedEvents()


def _id_key(stream_id: str) -> tuple[int, int]:
    ms, _, seq = stream_id.partition("-")
    try:
        return int(ms), int(seq or 0)
    except ValueError:
        return 0, 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
