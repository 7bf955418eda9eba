"""/r/<meeting code>: registration (报名) in WeChat's browser and any phone browser.

The meeting's published forms; a form's page where a person (or a unit office for its
delegation) fills in one or more people, with the invitation code and unit number on a code form;
the batch's result; and "my registrations" with status and refusal reasons. Who submits is the
visitor's WeChat identity when WeChat's OAuth gave one (a form for invitees asks for it), else a
random token kept in this browser's signed session cookie: the same browser finds its own
registrations again, nobody else's.
"""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime

from flask import Blueprint, make_response, redirect, render_template, request, session, url_for

from app.client_address import client_ip
from app.services.meetings.visibility import visible_meeting
from app.services.registration import decide, forms, query, uploads
from app.services.registration import fields as field_catalog
from app.services.registration.errors import RegistrationError
from app.services.registration.submit import MAX_BATCH, Caller, check_open, submit
from app.tx import finish_with_error
from app.web.auth import current_identity, start_oauth
from app.web.console_auth import in_wechat
from models.registrations import FormAccess

bp = Blueprint("registration_page", __name__, url_prefix="/r")
TOKEN_KEY = "registration_token"
_PERSON_KEY = re.compile(r"^p-(\d{1,2})-([a-z0-9_]{1,20})$")


@bp.errorhandler(RegistrationError)
def _refused(exc: RegistrationError):
    finish_with_error(exc)
    return render_template("attendee/message.html", title="无法报名", message=exc.message, icon="!",
                           meeting=None), exc.status


def caller() -> Caller:
    """The visitor as the registration services know them (see the module's docstring)."""
    identity = current_identity()
    if identity is not None and identity.oa_openid:
        return Caller(f"wx:{identity.oa_openid}", contact=identity.contact, ip=client_ip())
    token = session.get(TOKEN_KEY)
    if not isinstance(token, str) or not re.fullmatch(r"[A-Za-z0-9_-]{16,32}", token):
        token = session[TOKEN_KEY] = secrets.token_urlsafe(16)
        session.permanent = True
    return Caller(f"h5:{token}", ip=client_ip())


def _meeting(code: str):
    identity = current_identity()
    return visible_meeting(code, identity.contact if identity is not None else None)


@bp.get("/<code>")
def index(code: str):
    meeting = _meeting(code)
    now = datetime.now(UTC)
    listed = []
    for form in forms.forms_of(meeting, published_only=True):
        try:
            check_open(meeting, form, now)
            state = None
        except RegistrationError as exc:
            state = exc.message
        listed.append((form, state))
    return render_template("registration/index.html", meeting=meeting, forms=listed,
                           access_labels=forms.ACCESS_LABELS)


def _form_page(meeting, form, *, people: list[dict], errors: dict | None = None, error: str | None = None,
               status: int = 200):
    return render_template(
        "registration/form.html", meeting=meeting, form=form, people=people or [{}], errors=errors or {},
        error=error, max_batch=MAX_BATCH, diet_tags=field_catalog.DIET_TAGS, catalog=field_catalog.CATALOG,
        unit_fixed=form.access != FormAccess.OPEN, typed_code=request.form.get("invite_code", ""),
        typed_unit=request.form.get("unit_code", ""), left=_left(form)), status


def _left(form) -> int | None:
    return None if form.cap is None else max(0, form.cap - forms.held_places(form))


def _needs_login(form):
    """A form for invitees needs to know who is asking: WeChat's OAuth inside WeChat."""
    if form.access == FormAccess.INVITEES and current_identity() is None and in_wechat():
        return start_oauth(request.full_path if request.query_string else request.path)
    return None


@bp.get("/<code>/f/<int:form_id>")
def form_page(code: str, form_id: int):
    meeting = _meeting(code)
    form = forms.get_form(meeting, form_id)
    check_open(meeting, form, datetime.now(UTC))
    return _needs_login(form) or _form_page(meeting, form, people=[{}])


def _posted_people() -> list[dict]:
    """The person blocks of the form (``p-<i>-<key>``, files too), in block order; empty blocks
    (added and left blank) dropped."""
    people: dict[int, dict] = {}
    for name in request.form:
        match = _PERSON_KEY.match(name)
        if match:
            values = request.form.getlist(name)
            key = match.group(2)
            people.setdefault(int(match.group(1)), {})[key] = values if key == "diet" else values[-1]
    for name, storage_file in request.files.items(multi=True):
        match = _PERSON_KEY.match(name)
        if match and storage_file.filename:
            data = storage_file.read(uploads.MAX_BYTES["file"] + 1)
            people.setdefault(int(match.group(1)), {})[match.group(2)] = uploads.Upload(storage_file.filename, data)
    return [people[i] for i in sorted(people) if any(v not in ("", [], None) for v in people[i].values())]


@bp.post("/<code>/f/<int:form_id>")
def form_submit(code: str, form_id: int):
    meeting = _meeting(code)
    form = forms.get_form(meeting, form_id)
    people = _posted_people()
    try:
        out = submit(meeting, form, people, caller=caller(), invite_code=request.form.get("invite_code"),
                     unit_code=request.form.get("unit_code"))
    except RegistrationError as exc:
        finish_with_error(exc)
        shown = [{k: v for k, v in p.items() if not isinstance(v, uploads.Upload) and k != "id_number"}
                 for p in people]  # files and ID numbers are typed again, never echoed
        errors: dict[int, dict[str, str]] = {}
        for e in getattr(exc, "errors", None) or []:
            errors.setdefault(e["index"], {}).setdefault(e["field"] or "_", e["message"])
        return _form_page(meeting, form, people=shown, errors=errors, error=exc.message, status=exc.status)
    return redirect(url_for(".done", code=meeting.code, batch=out.batch))


@bp.get("/<code>/done/<batch>")
def done(code: str, batch: str):
    meeting = _meeting(code)
    rows = query.batch_of(meeting, batch, caller().submitter)
    return render_template("registration/done.html", meeting=meeting, rows=rows, labels=query.STATUS_LABELS)


def _mine_page(meeting, revealed: dict[int, str] | None = None):
    me = caller()
    rows = query.mine(meeting, me.submitter)
    response = make_response(render_template(
        "registration/mine.html", meeting=meeting, rows=rows, labels=query.STATUS_LABELS, revealed=revealed or {},
        own_contact_id=me.contact.id if me.contact is not None else None))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<code>/mine")
def mine(code: str):
    return _mine_page(_meeting(code))


@bp.post("/<code>/mine/<int:registration_id>/id")
def reveal(code: str, registration_id: int):
    """The registrant's own full ID number, on this one answer (never cached, never in a link)."""
    meeting = _meeting(code)
    registration = decide.get_registration(meeting, registration_id)
    me = caller()
    number = query.reveal_id(registration, me.contact)
    return _mine_page(meeting, {registration.id: number})
