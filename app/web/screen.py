"""The big screen on the venue projector: QR, live numbers, per-unit progress, recent sign-ins.

Live updates are server-sent events read from the meeting's Redis stream, so any app process can
serve any screen; :mod:`app.services.live.stream` reads it and decides what of a vote the screen shows.

Without Redis the numbers are counted in the database; without the database every route here (and
the console's live routes, :func:`answer_unavailable`) answers 503 ``service_unavailable``, and the
open screen keeps its numbers and says it is reconnecting.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, abort, current_app, jsonify, make_response, render_template, request
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.extensions import db
from app.services.codes import meeting_codes
from app.services.codes.qr_images import qr_svg
from app.services.live import headcount
from app.services.live import stream as live_stream
from app.services.meetings.meetings import get_meeting
from app.services.signin.rules import get_session
from app.web.errors import error_response, wants_json
from app.web.pages import STATIC
from models import Meeting, MeetingSession

log = logging.getLogger(__name__)

bp = Blueprint("screen", __name__, url_prefix="/screen", static_folder=STATIC, static_url_path="/static")

UNAVAILABLE = ("service_unavailable", "签到数据暂时无法读取，系统正在恢复，请稍后刷新")
#: The database cannot be reached (refused, restarting, no free connection).
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)


def answer_unavailable(exc: Exception):
    """503 ``service_unavailable`` when the database cannot be reached: JSON for the JSON routes
    (and API callers), the error page for pages. Registered on the screen's and the console's
    blueprints for :data:`DATABASE_DOWN`."""
    log.warning("database unavailable on %s: %s", request.path, exc)
    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is dropped at the request's end anyway
        log.debug("rollback after a lost database failed", exc_info=True)
    code, message = UNAVAILABLE
    if request.path.endswith(".json") or wants_json():
        response = make_response(jsonify(error={"code": code, "message": message}), 503)
    else:
        response = make_response(error_response(code, message, 503))
    response.headers["Retry-After"] = "5"
    return response


for _error in DATABASE_DOWN:
    bp.register_error_handler(_error, answer_unavailable)


def _load(code: str) -> tuple[Meeting, MeetingSession]:
    meeting = get_meeting(code)
    if not headcount.check_screen_key(current_app.config["SECRET_KEY"], meeting.code, request.args.get("k"),
                                      version=meeting.screen_key_version,
                                      fallbacks=current_app.config.get("SECRET_KEY_FALLBACKS") or ()):
        abort(403)
    return meeting, get_session(meeting)


def qr_payload(meeting: Meeting, session: MeetingSession) -> str:
    """What the screen's QR carries: the meeting's WeChat or rotating code when meeting_codes makes
    one, else the plain H5 sign-in link (a screen must always show something scannable). While
    Redis is failing (the live reads found it so a moment ago), the official-account code, whose
    bookkeeping waits on Redis, is skipped for the link its failure would give."""
    if headcount.redis_backing_off() and not meeting.rotating_qr:
        return current_app.config["PUBLIC_BASE_URL"] + f"/m/{meeting.code}/signin"
    try:
        return meeting_codes.screen_qr_payload(meeting, session, datetime.now(UTC))
    except Exception:  # WeChat unreachable: the H5 link still works
        log.exception("screen QR: falling back to the H5 link for meeting %s", meeting.code)
    return current_app.config["PUBLIC_BASE_URL"] + f"/m/{meeting.code}/signin"


@bp.get("/<code>")
def page(code: str):
    meeting, session = _load(code)
    since = live_stream.last_stream_id(meeting.id)  # read before the numbers so nothing falls between them
    numbers = headcount.numbers(meeting, session).to_dict(mask=meeting.mask_names, with_missing=False, public=True)
    return render_template("screen/screen.html", meeting=meeting, session=session, numbers=numbers,
                           qr=qr_svg(qr_payload(meeting, session), size="100%"), since=since,
                           key=request.args.get("k"), vote=live_stream.screen_vote(meeting))


@bp.get("/<code>/qr.svg")
def qr(code: str):
    meeting, session = _load(code)
    return Response(qr_svg(qr_payload(meeting, session)), mimetype="image/svg+xml",
                    headers={"Cache-Control": "no-store"})


@bp.get("/<code>/numbers.json")
def numbers(code: str):
    meeting, session = _load(code)
    return jsonify(headcount.numbers(meeting, session).to_dict(mask=meeting.mask_names, with_missing=False,
                                                               public=True))


@bp.get("/<code>/vote.json")
def vote_json(code: str):
    """What the screen shows now: the vote on screen (public view) or null for the headcount."""
    meeting, _session = _load(code)
    return jsonify({"vote": live_stream.screen_vote(meeting)})


@bp.get("/<code>/events")
def events(code: str):
    meeting, session = _load(code)
    ref = headcount.SessionRef.of(meeting, session)
    stream = live_stream.listen(current_app._get_current_object(), ref,
                                last_event_id=request.headers.get("Last-Event-ID"), since=request.args.get("since"),
                                mask=meeting.mask_names, with_missing=False, public=True)
    return Response(stream, mimetype=live_stream.SSE_MIMETYPE, headers=live_stream.SSE_HEADERS)
