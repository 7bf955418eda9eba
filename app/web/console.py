"""The organizer console (H5 in WeChat and desktop): live headcount, 代签, undo, 催签, 定时提醒.

Every route loads the meeting and checks the visitor's organizer right for what it does; the page
and its JSON are refused (403) to attendees and anyone else.

The page, numbers.json and the stream carry counts (totals, per unit, per group), the recent
sign-ins and the people on leave: a few KB whatever the meeting's size. Who is missing comes from
missing.json, a unit or a search at a time; when few are missing (``MISSING_INLINE_MAX``) the page
carries them all, every unit open, and its filter works in the browser.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for

from app.extensions import db
from app.services.errors import DomainError
from app.services.live import headcount, reminders, schedules
from app.services.live import stream as live_stream
from app.services.meetings import organizers
from app.services.meetings.meetings import get_meeting
from app.services.signin.rules import get_session
from app.services.signin.write import revoke, sign_in
from app.web.auth import current_contact
from app.web.console_auth import console_login_required, form_action
from app.web.input_guard import json_object
from app.web.screen import DATABASE_DOWN, answer_unavailable
from models import Contact, Meeting, MeetingSession, SignInMethod

bp = Blueprint("console", __name__, url_prefix="/admin")
for _error in DATABASE_DOWN:  # the database away: 503 with a stable code, never a 500
    bp.register_error_handler(_error, answer_unavailable)

#: Up to this many missing, the page lists them all at once (open units, a filter in the browser).
MISSING_INLINE_MAX = 300
#: People per read of a unit's missing list (its "显示更多" reads the next).
MISSING_PAGE = 100


class ConsoleError(DomainError):
    messages = {"contact_missing": "请选择人员"}
    statuses = {"contact_missing": 404}


def _load(code: str, action: str) -> tuple[Meeting, MeetingSession, Contact, str]:
    meeting = get_meeting(code)
    me = current_contact()
    right = organizers.require_right(meeting, me, action)
    session = get_session(meeting, request.values.get("s", type=int))
    return meeting, session, me, right


def _person() -> Contact:
    payload = json_object() or request.form
    contact = db.session.get(Contact, _int(payload.get("contact_id")))
    if contact is None:
        raise ConsoleError("contact_missing")
    return contact


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _numbers(meeting: Meeting, session: MeetingSession) -> dict:
    return headcount.numbers(meeting, session, missing=False).to_dict(with_missing=False, with_leave=True)


@bp.get("/<code>")
@console_login_required
def page(code: str):
    meeting, session, me, right = _load(code, "view")
    since = live_stream.last_stream_id(meeting.id)
    key = headcount.screen_key(current_app.config["SECRET_KEY"], meeting.code, meeting.screen_key_version)
    numbers = _numbers(meeting, session)
    missing = None
    if numbers["missing"] <= MISSING_INLINE_MAX:
        missing = headcount.missing_people(headcount.SessionRef.of(meeting, session), limit=MISSING_INLINE_MAX)
    return render_template(
        "console/live.html", meeting=meeting, session=session, me=me, right=right, since=since,
        numbers=numbers, missing=missing, missing_page=MISSING_PAGE,
        rights=sorted(organizers.RIGHTS[right]),
        screen_url=current_app.config["PUBLIC_BASE_URL"] + url_for("screen.page", code=meeting.code, k=key),
        reminders=reminders.recent_reminders(session),
        schedule=schedules.schedule_rows(session) if "remind" in organizers.RIGHTS[right] else None,
    )


@bp.get("/<code>/numbers.json")
@console_login_required
def numbers(code: str):
    meeting, session, _me, _right = _load(code, "view")
    return jsonify(_numbers(meeting, session))


@bp.get("/<code>/missing.json")
@console_login_required
def missing(code: str):
    """Who is missing: ``unit`` (a unit id), ``q`` (name, 职务 or unit), ``after`` (the ``next``
    of the page before), ``limit``."""
    meeting, session, _me, _right = _load(code, "view")
    args = request.args
    return jsonify(headcount.missing_people(
        headcount.SessionRef.of(meeting, session), unit_id=args.get("unit", type=int),
        query=args.get("q", "")[:64], after=args.get("after", type=int),
        limit=args.get("limit", MISSING_PAGE, type=int)))


@bp.get("/<code>/events")
@console_login_required
def events(code: str):
    meeting, session, _me, _right = _load(code, "view")
    stream = live_stream.listen(current_app._get_current_object(), headcount.SessionRef.of(meeting, session),
                                last_event_id=request.headers.get("Last-Event-ID"), since=request.args.get("since"),
                                mask=False, with_missing=True)
    return Response(stream, mimetype=live_stream.SSE_MIMETYPE, headers=live_stream.SSE_HEADERS)


@bp.post("/<code>/proxy")
@console_login_required
def proxy_signin(code: str):
    meeting, session, me, _right = _load(code, "proxy_signin")
    outcome = sign_in(meeting, session, _person(), method=SignInMethod.PROXY, actor=me, check_window=False)
    return jsonify(ok=True, created=outcome.created, seq=outcome.seq)


@bp.post("/<code>/revoke")
@console_login_required
def undo_signin(code: str):
    meeting, session, me, _right = _load(code, "proxy_signin")
    payload = json_object() or request.form
    record = revoke(meeting, session, _person(), actor=me, reason=str(payload.get("reason") or ""))
    return jsonify(ok=True, seq=record.seq)


@bp.post("/<code>/remind")
@console_login_required
def remind(code: str):
    meeting, session, me, _right = _load(code, "remind")
    reminder = reminders.create_reminder(meeting, session, actor=me)
    # ``message`` says truthfully whether it is on its way or waits for the queue (never "sent").
    return jsonify(ok=True, reminder_id=reminder.id, recipients=len(reminder.deliveries),
                   message=reminders.submitted_message(reminder))


@bp.get("/<code>/reminders.json")
@console_login_required
def reminder_list(code: str):
    _meeting, session, _me, _right = _load(code, "view")
    return jsonify(reminders=reminders.recent_reminders(session))


@bp.post("/<code>/schedule")
@console_login_required
def schedule(code: str):
    """定时提醒: the session's ticked reminder times (form field ``kinds``, repeated)."""
    meeting, session, me, _right = _load(code, "remind")

    def action():
        schedules.set_schedule(meeting, session, request.form.getlist("kinds"), actor=me)
        return "已保存定时提醒"

    return form_action(action, url_for(".page", code=code, s=session.position))
