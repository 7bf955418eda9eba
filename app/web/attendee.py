"""Attendee H5 pages opened in WeChat: meeting page, identity binding, sign-in and its result.

Two ways in: the link in our reply to a scan (``/m/bind?t=…``, whose sealed token names the openid,
meeting and session), or directly (``/m/<code>``, ``/m/<code>/signin``), where web OAuth tells us
who the visitor is. Both end in the same service calls and the same result page.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from markupsafe import Markup

from app.client_address import client_ip
from app.services import links
from app.services.cards.resolve import card_for, headline_parts
from app.services.codes import meeting_codes
from app.services.codes.qr_images import qr_svg
from app.services.identity.binding import IdentityError, get_or_create_identity
from app.services.meetings import history
from app.services.meetings.activities import open_activities
from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.meetings.visibility import participating_meeting, visible_meeting
from app.services.notify import notices
from app.services.registration import forms as registration_forms
from app.services.signin import checkin, personal_codes
from app.services.signin.rules import SignInError, get_session, live_signin
from app.services.signin.write import sign_in
from app.services.timeutil import fmt_date_cn, fmt_range_cn
from app.tx import finish_with_error
from app.web.auth import current_identity, log_in, wechat_login_required
from app.web.pages import STATIC
from models import Contact, Meeting, MeetingSession, SignInMethod, WechatIdentity

bp = Blueprint("attendee", __name__, url_prefix="/m", static_folder=STATIC, static_url_path="/static")

#: Session key holding the id of a sign-in made by this browser's last POST, so the result page
#: can say "签到成功" for that one and "您已签到" on any later visit.
JUST_SIGNED_KEY = "just_signed_in"
FIELDS = ("unit_text", "name", "phone")
#: A scan of the big screen's rotating code (its token ``r``) marks this browser as in the room for
#: a while: a first-timer needs minutes to type their binding, longer than the token lives.
SCANNED_KEY = "scanned_in_room"
SCAN_GRACE_S = 600


@bp.errorhandler(links.LinkError)
def _link_error(exc: links.LinkError):
    return render_template("attendee/message.html", title="链接已失效", message=exc.message,
                           icon="!"), exc.status


def _position() -> int | None:
    raw = request.values.get("s", "")
    return int(raw) if raw.isascii() and raw.isdigit() else None  # "²".isdigit(), but int() refuses it


def _meeting_session(meeting_code: str, position: int | None, *,
                     sealed: bool = False) -> tuple[Meeting, MeetingSession]:
    """The meeting and session a page is about. To the visitor WeChat logged in, as the meetings
    service lets them see it (a draft only to its organizers); a bind link (``sealed``) names the
    meeting our reply to a scan of its code named."""
    meeting = (get_meeting(meeting_code) if sealed
               else visible_meeting(meeting_code, current_identity().contact))
    return meeting, get_session(meeting, position)


def _scanned(meeting: Meeting) -> bool:
    """Whether this visit came from scanning a code shown in the room (the presence policy): the
    rotating screen code's token now, or within ``SCAN_GRACE_S`` in this browser. A plain link (the
    meeting page, a reminder) is not a scan."""
    now = datetime.now(UTC)
    token = request.values.get("r", "")
    if token and meeting_codes.verify_rotating(meeting, token, now):
        session[SCANNED_KEY] = [meeting.code, now.timestamp()]
        return True
    mark = session.get(SCANNED_KEY)
    return (isinstance(mark, list) and len(mark) == 2 and mark[0] == meeting.code
            and 0 <= now.timestamp() - float(mark[1]) < SCAN_GRACE_S)


def _bind_page(meeting: Meeting, meeting_session: MeetingSession, *, action: str, token: str | None = None,
               error: str | None = None, status: int = 200):
    typed = {f: request.form.get(f, "") for f in FIELDS} if request.method == "POST" else {}
    return render_template("attendee/bind.html", meeting=meeting, meeting_session=meeting_session,
                           action=action, token=token, typed=typed, error=error), status


def _finish(identity: WechatIdentity, meeting: Meeting, meeting_session: MeetingSession, *, action: str,
            token: str | None, bind: bool, scanned: bool):
    """Sign in (binding first if asked), then PRG to the result page; errors re-render in place."""
    try:
        if bind:
            outcome = checkin.bind_and_sign_in(
                identity, meeting, meeting_session, **{f: request.form.get(f, "") for f in FIELDS},
                ip=client_ip(), method=SignInMethod.H5, scanned=scanned)
        else:
            outcome = sign_in(meeting, meeting_session, identity.contact, method=SignInMethod.H5, scanned=scanned)
    except IdentityError as exc:
        finish_with_error(exc)  # a recorded failure (audit of the attempt) is committed
        if exc.commit_anyway and token:
            log_in(identity)
        return _bind_page(meeting, meeting_session, action=action, token=token, error=exc.message,
                          status=exc.status)
    except SignInError as exc:
        finish_with_error(exc)  # the denial, and a binding made just before it, are kept
        if token:
            log_in(identity)
        return render_template("attendee/message.html", title="暂不能签到", message=exc.message, icon="!",
                               meeting=meeting), exc.status
    if token:
        log_in(identity)  # later pages (meeting page, result) know them without OAuth
    if outcome.created:
        session[JUST_SIGNED_KEY] = outcome.record.id
    return redirect(url_for(".done", meeting_code=meeting.code, s=meeting_session.position))


@bp.get("/bind")
def bind_form():
    token = request.args.get("t", "")
    ticket = links.read_bind_token(current_app.config["SECRET_KEY"], token)
    meeting, meeting_session = _meeting_session(ticket.meeting_code, ticket.session_position, sealed=True)
    return _bind_page(meeting, meeting_session, action=url_for(".bind_submit"), token=token)


@bp.post("/bind")
def bind_submit():
    token = request.form.get("t", "")
    ticket = links.read_bind_token(current_app.config["SECRET_KEY"], token)
    meeting, meeting_session = _meeting_session(ticket.meeting_code, ticket.session_position, sealed=True)
    identity = get_or_create_identity(oa_openid=ticket.oa_openid)
    # The bind link answers a scan of the meeting's official-account code: that scan is the proof.
    return _finish(identity, meeting, meeting_session, action=url_for(".bind_submit"), token=token, bind=True,
                   scanned=True)


@bp.get("/<meeting_code>/signin")
@wechat_login_required
def signin_page(meeting_code: str):
    meeting, meeting_session = _meeting_session(meeting_code, _position())
    contact = current_identity().contact
    _scanned(meeting)  # remember a scan of the screen's code for the POST that follows
    action = url_for(".signin_submit", meeting_code=meeting.code, s=meeting_session.position)
    if contact is None:
        return _bind_page(meeting, meeting_session, action=action)
    if live_signin(meeting_session.id, contact.id) is not None:
        return redirect(url_for(".done", meeting_code=meeting.code, s=meeting_session.position))
    return render_template("attendee/confirm.html", meeting=meeting, meeting_session=meeting_session,
                           contact=contact, action=action)


@bp.post("/<meeting_code>/signin")
@wechat_login_required
def signin_submit(meeting_code: str):
    meeting, meeting_session = _meeting_session(meeting_code, _position())
    identity = current_identity()
    action = url_for(".signin_submit", meeting_code=meeting.code, s=meeting_session.position)
    typed = "phone" in request.form
    if identity.contact is None and not typed:
        return _bind_page(meeting, meeting_session, action=action)
    return _finish(identity, meeting, meeting_session, action=action, token=None, bind=typed,
                   scanned=_scanned(meeting))


@bp.get("/<meeting_code>/done")
@wechat_login_required
def done(meeting_code: str):
    meeting, meeting_session = _meeting_session(meeting_code, _position())
    contact = current_identity().contact
    record = live_signin(meeting_session.id, contact.id) if contact is not None else None
    if record is None:
        return redirect(url_for(".meeting_page", meeting_code=meeting.code))
    just_now = session.pop(JUST_SIGNED_KEY, None) == record.id
    card = _service_card(meeting, contact)
    return render_template("attendee/done.html", meeting=meeting, meeting_session=meeting_session,
                           contact=contact, record=record, just_now=just_now,
                           card_line=headline_parts(card) if card is not None and not card.empty else (),
                           signed_date=fmt_date_cn(record.signed_at))


def _service_card(meeting: Meeting, contact: Contact | None):
    """The visitor's own service card: built for the contact their WeChat identity is bound to,
    and only when they take part in the meeting (its liaison and duty numbers are for them)."""
    if contact is None:
        return None
    try:
        participating_meeting(meeting, contact)
    except MeetingError:
        return None
    return card_for(meeting, contact.id, now=datetime.now(UTC))


def _personal_code(meeting: Meeting, contact: Contact | None) -> Markup | None:
    """The visitor's personal code as an inline SVG (shown to a desk when the network fails), when
    they are on the meeting's list; inline so that a page loaded before the network went still has it."""
    if contact is None:
        return None
    try:
        code = personal_codes.code_for(meeting, contact)
    except personal_codes.CodeError:
        return None
    return Markup(qr_svg(code, border=4, size="220"))  # our own SVG of a code we made, never user text


@bp.get("/<meeting_code>")
@wechat_login_required
def meeting_page(meeting_code: str):
    meeting, meeting_session = _meeting_session(meeting_code, _position())
    contact = current_identity().contact
    status = (checkin.status_for(meeting, meeting_session, contact, now=datetime.now(UTC), scanned=_scanned(meeting))
              if contact is not None else None)
    # Materials appear only once this visitor may open some (the documents service's rule).
    listed = (history.still_visible(meeting, contact, secret_key=current_app.config["SECRET_KEY"],
                                    identity_id=current_identity().id) if contact is not None else [])
    card = _service_card(meeting, contact)
    return render_template("attendee/meeting.html", meeting=meeting, meeting_session=meeting_session,
                           contact=contact, status=status, documents=[d.document for d in listed], card=card,
                           notices=notices.mine(meeting, contact) if contact is not None else [],
                           notice_state=notices.state_of, notice_states=notices.STATES,
                           personal_code=_personal_code(meeting, contact),
                           activities=open_activities(meeting),
                           registering=bool(registration_forms.forms_of(meeting, published_only=True)),
                           time_range=fmt_range_cn(meeting.starts_at, meeting.ends_at))
