"""Who is at the organizer console, and how they got in.

The console has one session, the signed cookie's WeChat identity (:mod:`app.web.auth`). Inside
WeChat's browser it is learnt silently through web OAuth; anywhere else (the office PC) the visitor
is sent to the scan-to-log-in page, ``/admin/login``. Every console view then loads its meeting and
asks :func:`app.services.meetings.organizers.require_right` for the action it performs: the
decorator only establishes who is asking, never what they may do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import flash, redirect, request, session, url_for

from app.services.errors import DomainError
from app.services.identity import desktop_login
from app.services.meetings import organizers
from app.services.meetings.meetings import get_meeting
from app.tx import finish_with_error
from app.web.auth import current_contact, current_identity, session_identity_id, start_oauth
from models import Contact, Meeting, WechatIdentity

#: The session key of a desktop login's server-side session id (app/web/console_login.py sets it).
DESKTOP_SESSION_KEY = "console_sid"


def in_wechat() -> bool:
    """WeChat's in-app browser names itself in the User-Agent (``MicroMessenger/8.0…``)."""
    return "MicroMessenger" in (request.headers.get("User-Agent") or "")


def console_identity() -> WechatIdentity | None:
    """The session's identity, if its login still stands. A desktop (scan) login also holds a
    server-side session that logout ends, so a copied cookie stops working with it; a session
    opened by WeChat OAuth in the phone's browser has none and stands as long as its cookie."""
    session_id = session.get(DESKTOP_SESSION_KEY)
    if session_id is not None and not desktop_login.session_alive(session_id, session_identity_id()):
        session.clear()
        return None
    return current_identity()


def console_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if console_identity() is None:
            target = request.full_path if request.query_string else request.path
            if in_wechat():
                return start_oauth(target)
            return redirect(url_for("console_login.page", next=target))
        return view(*args, **kwargs)

    return wrapper


def load_meeting(code: str, action: str) -> tuple[Meeting, Contact, str]:
    """The meeting ``code`` and the acting contact, if they may do ``action`` on it; their right.

    :raise MeetingError: ``meeting_not_found`` (404); :raise OrganizerError: ``not_organizer`` or
        ``right_missing`` (403). A meeting of another organizing unit answers 403, as any meeting
        the visitor has no right on.
    """
    meeting = get_meeting(code)
    me = current_contact()
    right = organizers.require_right(meeting, me, action)
    return meeting, me, right


def actor_of(contact: Contact) -> str:
    """The audit log's name for a console user."""
    return f"contact:{contact.id}"


def form_action(action: Callable[[], str | None], back: str):
    """Run a console form's ``action`` (it returns the success message, or None for none) and go
    back to ``back`` (post/redirect/get). A domain error is shown on that page instead, and the
    request's writes are dropped, as the JSON doors drop them: nothing half-done is committed.

    Authorization errors (403) and unknown meetings (404) are not caught: they answer as errors.
    """
    try:
        message = action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        finish_with_error(exc)
        flash(exc.message, "error")
        return redirect(back)
    if message:
        flash(message, "ok")
    return redirect(back)
