"""The big screen on the venue projector: QR, live numbers, per-unit progress, recent sign-ins.

Live updates are server-sent events read from the meeting's Redis stream, so any app process can
serve any screen. Each message carries the stream id: a browser that loses its connection
reconnects with ``Last-Event-ID`` and gets what it missed, and every (re)connection starts with the
current numbers, which the page shows as they are (it never adds up events itself).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, current_app, jsonify, render_template, request

from app.extensions import db, get_redis
from app.services.codes.qr_images import qr_svg
from app.services.live import events as live_events
from app.services.live import headcount
from app.services.meetings.meetings import get_meeting
from app.services.signin.rules import get_session
from app.services.votes import results as vote_results
from app.services.votes import votes
from app.services.votes.votes import VoteError
from models import Meeting, MeetingSession, Vote

log = logging.getLogger(__name__)
TEMPLATES = str(Path(__file__).resolve().parent / "templates")
STATIC = str(Path(__file__).resolve().parent / "static")

bp = Blueprint("screen", __name__, url_prefix="/screen", template_folder=TEMPLATES,
               static_folder=STATIC, static_url_path="/static")

#: XREAD blocks less than the Redis client's 5 s socket timeout; an idle stream sends a comment.
BLOCK_MS = 4000
#: A stream ends after this long so the browser reconnects (and resyncs) through a fresh worker.
MAX_STREAM_S = 600
#: The numbers follow events by at most this long (the counters are read once per interval).
NUMBERS_EVERY_S = 0.15
_STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
#: How long a stream trusts what it read about whether a vote's counts are public.
VISIBILITY_TTL_S = 2.0


def _load(code: str) -> tuple[Meeting, MeetingSession]:
    meeting = get_meeting(code)
    if not headcount.check_screen_key(current_app.config["SECRET_KEY"], meeting.code, request.args.get("k")):
        abort(403)
    return meeting, get_session(meeting)


def qr_payload(meeting: Meeting, session: MeetingSession) -> str:
    """What the screen's QR carries: the meeting's WeChat or rotating code when meeting_codes makes
    one, else the plain H5 sign-in link (a screen must always show something scannable)."""
    try:
        from app.services.codes import meeting_codes

        make = getattr(meeting_codes, "screen_qr_payload", None)
        if make is not None:
            return make(meeting, session, datetime.now(UTC))
    except Exception:  # WeChat unreachable, or the codes module not there: the H5 link still works
        log.exception("screen QR: falling back to the H5 link for meeting %s", meeting.code)
    return current_app.config["PUBLIC_BASE_URL"] + f"/m/{meeting.code}/signin"


@bp.get("/<code>")
def page(code: str):
    meeting, session = _load(code)
    since = last_stream_id(meeting.id)  # read before the numbers so nothing falls between them
    numbers = headcount.numbers(meeting, session).to_dict(mask=meeting.mask_names, with_missing=False)
    return render_template("screen/screen.html", meeting=meeting, session=session, numbers=numbers,
                           qr=qr_svg(qr_payload(meeting, session), size="100%"), since=since,
                           key=request.args.get("k"), vote=screen_vote(meeting))


@bp.get("/<code>/qr.svg")
def qr(code: str):
    meeting, session = _load(code)
    return Response(qr_svg(qr_payload(meeting, session)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})


@bp.get("/<code>/numbers.json")
def numbers(code: str):
    meeting, session = _load(code)
    return jsonify(headcount.numbers(meeting, session).to_dict(mask=meeting.mask_names, with_missing=False))


@bp.get("/<code>/vote.json")
def vote_json(code: str):
    """What the screen shows now: the vote on screen (public view) or null for the headcount."""
    meeting, _session = _load(code)
    return jsonify({"vote": screen_vote(meeting)})


@bp.get("/<code>/events")
def events(code: str):
    meeting, session = _load(code)
    ref = headcount.SessionRef.of(meeting, session)
    return event_stream(ref, mask=meeting.mask_names, with_missing=False)


# -- vote mode -------------------------------------------------------------------------------------
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
    out.update(type="vote", visible=visible, state_label=votes.STATE_LABELS.get(data.get("state"), ""))
    out["options"] = [{"id": o["id"], "label": o["label"], **({"count": o["count"], "percent": o["percent"]}
                                                              if visible else {})}
                      for o in data.get("options") or ()]
    return out


class _Visibility:
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


# -- shared with the organizer console --------------------------------------------------------------
def last_stream_id(meeting_id: int) -> str:
    try:
        entries = get_redis().xrevrange(live_events.stream_key(meeting_id), count=1)
    except Exception:
        return "0-0"
    return _text(entries[0][0]) if entries else "0-0"


def event_stream(ref: headcount.SessionRef, *, mask: bool, with_missing: bool, organizer: bool = False) -> Response:
    """An SSE response of the meeting's live events from Last-Event-ID (or ``since``).

    Vote events go out in their public form (counts only when the vote allows) unless ``organizer``."""
    start = request.headers.get("Last-Event-ID") or request.args.get("since") or ""
    if not _STREAM_ID.match(start):
        start = last_stream_id(ref.meeting_id)
    # The generator runs after the request context is gone; it opens its own short app contexts.
    app = current_app._get_current_object()
    return Response(_generate(app, ref, start, mask=mask, with_missing=with_missing, organizer=organizer),
                    mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _generate(app: Flask, ref: headcount.SessionRef, last_id: str, *, mask: bool,
              with_missing: bool, organizer: bool = False) -> Iterator[str]:
    redis = get_redis(app)
    visible = _Visibility(app)
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
                    parts.append(_meeting_event(last_id, payload, visible, organizer=organizer))
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


def _meeting_event(last_id: str, payload: dict, visible: _Visibility, *, organizer: bool) -> str:
    """A vote or screen-mode event (they belong to the meeting, not to one session)."""
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
