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
from app.services import headcount, live_events
from app.services.meetings import get_meeting
from app.services.qr_images import qr_svg
from app.services.signin import get_session
from models import Meeting, MeetingSession

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


def _load(code: str) -> tuple[Meeting, MeetingSession]:
    meeting = get_meeting(code)
    if not headcount.check_screen_key(current_app.config["SECRET_KEY"], meeting.code, request.args.get("k")):
        abort(403)
    return meeting, get_session(meeting)


def qr_payload(meeting: Meeting, session: MeetingSession) -> str:
    """What the screen's QR carries: the meeting's WeChat or rotating code when meeting_codes makes
    one, else the plain H5 sign-in link (a screen must always show something scannable)."""
    try:
        from app.services import meeting_codes

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
                           key=request.args.get("k"))


@bp.get("/<code>/qr.svg")
def qr(code: str):
    meeting, session = _load(code)
    return Response(qr_svg(qr_payload(meeting, session)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})


@bp.get("/<code>/numbers.json")
def numbers(code: str):
    meeting, session = _load(code)
    return jsonify(headcount.numbers(meeting, session).to_dict(mask=meeting.mask_names, with_missing=False))


@bp.get("/<code>/events")
def events(code: str):
    meeting, session = _load(code)
    ref = headcount.SessionRef.of(meeting, session)
    return event_stream(ref, mask=meeting.mask_names, with_missing=False)


# -- shared with the organizer console --------------------------------------------------------------
def last_stream_id(meeting_id: int) -> str:
    try:
        entries = get_redis().xrevrange(live_events.stream_key(meeting_id), count=1)
    except Exception:
        return "0-0"
    return _text(entries[0][0]) if entries else "0-0"


def event_stream(ref: headcount.SessionRef, *, mask: bool, with_missing: bool) -> Response:
    """An SSE response of the meeting's live events from Last-Event-ID (or ``since``)."""
    start = request.headers.get("Last-Event-ID") or request.args.get("since") or ""
    if not _STREAM_ID.match(start):
        start = last_stream_id(ref.meeting_id)
    # The generator runs after the request context is gone; it opens its own short app contexts.
    app = current_app._get_current_object()
    return Response(_generate(app, ref, start, mask=mask, with_missing=with_missing), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _generate(app: Flask, ref: headcount.SessionRef, last_id: str, *, mask: bool,
              with_missing: bool) -> Iterator[str]:
    redis = get_redis(app)
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


def _numbers_message(app: Flask, ref: headcount.SessionRef, *, mask: bool, with_missing: bool) -> str:
    with app.app_context():
        try:
            data = headcount.numbers_for(ref, recent=False).to_dict(mask=mask, with_missing=with_missing)
        finally:
            db.session.remove()
    return f"event: numbers\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
