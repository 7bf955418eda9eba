"""One submission: one person registering, or a unit's office registering its delegation.

All or nothing: every person of the batch is checked first (fields, a phone or ID number twice in
the batch or already registered for the meeting) and every problem is answered at once, per person;
nothing is written unless all pass. The cap is enforced under a lock on the form's row, so two
offices submitting the last places at the same moment cannot both get them. Submissions are
limited per caller (and, generously, per address) with :mod:`app.services.ratelimit`.

Access: a form for invitees needs the caller to be an approved invitee (their bound WeChat or
login); a code form needs its invitation code plus a unit's number (``Unit.code``), which fixes the
unit of everyone in the batch; an open form takes anyone and always waits for an organizer.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import audit, ratelimit
from app.services.registration import decide, idnumbers, uploads
from app.services.registration import fields as field_catalog
from app.services.registration.errors import FieldError, RegistrationError
from app.services.registration.forms import HOLDING, held_places, normalize_code
from app.services.timeutil import local
from models import Contact, Invitee, Meeting, MeetingState, Unit
from models.registrations import FormAccess, Registration, RegistrationForm, RegistrationStatus

#: People in one submission at most (a delegation; a larger list is an organizer's import).
MAX_BATCH = 50
#: Submissions per caller, and per address (a venue or an office shares one), in the window.
PER_CALLER = 20
PER_IP = 300
WINDOW_S = 10 * 60


@dataclass(frozen=True)
class Caller:
    """Who submits: ``submitter`` is the record's name for them (``wx:<openid>``, ``mp:<openid>``,
    ``h5:<browser token>``, ``contact:<id>``, ``cli:<name>``); ``contact`` their bound directory
    person if any (a form for invitees needs one); ``ip`` for the address limit."""

    submitter: str
    contact: Contact | None = None
    ip: str | None = None


@dataclass
class Submitted:
    batch: str
    status: str
    registrations: list[Registration] = field(default_factory=list)


def submit(meeting: Meeting, form: RegistrationForm, people: list[dict[str, Any]], *, caller: Caller,
           invite_code: str | None = None, unit_code: str | None = None, now: datetime | None = None) -> Submitted:
    """Register ``people`` (each {field key: value}; a file field's value an :class:`uploads.Upload`
    or an uploaded file's key) on ``form``. Returns the batch, pending or already approved.

    :raise RegistrationError: ``rate_limited``, ``form_closed``, ``meeting_closed``,
        ``deadline_passed``, ``not_invitee``, ``invite_code_invalid``, ``batch_empty``,
        ``batch_too_large``, ``batch_invalid`` (its ``errors``: [{"index", "field", "code",
        "message"}] for every person and field refused), ``cap_reached``, ``phone_registered``.
    """
    now = now or datetime.now(UTC)
    limits = [(f"registration:{caller.submitter}", PER_CALLER)]
    if caller.ip:
        limits.append((f"registration:ip:{caller.ip}", PER_IP))
    if ratelimit.begin(limits, WINDOW_S) is None:
        raise RegistrationError("rate_limited")
    check_open(meeting, form, now)
    unit = _access(meeting, form, caller, invite_code, unit_code)
    if not isinstance(people, list) or not people:
        raise RegistrationError("batch_empty")
    if len(people) > MAX_BATCH:
        raise RegistrationError("batch_too_large", max=MAX_BATCH)

    checked, errors = _check_batch(meeting, form, people, unit_fixed=form.access != FormAccess.OPEN)
    if errors:
        exc = RegistrationError("batch_invalid", count=len(errors))
        exc.errors = errors
        raise exc

    # The cap, under the form's row lock: a second submission waits here for the first's commit
    # and then counts its registrations.
    db.session.execute(select(RegistrationForm.id).where(RegistrationForm.id == form.id).with_for_update())
    if form.cap is not None:
        held = held_places(form)
        if held + len(checked) > form.cap:
            raise RegistrationError("cap_reached", cap=form.cap, left=max(0, form.cap - held))

    batch = secrets.token_hex(8)
    secret = idnumbers.app_secret()
    rows = [_row(meeting, form, person, unit, batch, caller.submitter, secret) for person in checked]
    try:
        with db.session.begin_nested():
            db.session.add_all(rows)
    except IntegrityError:
        # Someone registered one of these phones (on another form) between our check and our insert.
        taken = db.session.scalar(select(Registration.phone).where(
            Registration.meeting_id == meeting.id, Registration.phone.in_([r.phone for r in rows])))
        raise RegistrationError("phone_registered", phone=taken or "") from None
    audit.record(caller.submitter, "registration.submit", meeting_id=meeting.id, target=f"batch:{batch}",
                 form=form.id, count=len(rows), registration_ids=[r.id for r in rows],
                 unit=unit.code if unit is not None else None, ip=caller.ip)
    status = RegistrationStatus.PENDING
    if not form.needs_approval and form.access != FormAccess.OPEN:
        decide.approve_rows(meeting, rows, actor=f"auto:{caller.submitter}"[:96], now=now)
        status = RegistrationStatus.APPROVED
    return Submitted(batch=batch, status=status, registrations=rows)


def check_open(meeting: Meeting, form: RegistrationForm, now: datetime) -> None:
    """Whether people may register on ``form`` now. :raise RegistrationError: ``form_closed``,
    ``meeting_closed``, ``deadline_passed``."""
    if not form.published or form.meeting_id != meeting.id:
        raise RegistrationError("form_closed")
    if meeting.state in (MeetingState.CLOSED, MeetingState.ARCHIVED) or now >= meeting.ends_at:
        raise RegistrationError("meeting_closed")
    if form.deadline is not None and now > form.deadline:
        raise RegistrationError("deadline_passed")


def _access(meeting: Meeting, form: RegistrationForm, caller: Caller, invite_code: str | None,
            unit_code: str | None) -> Unit | None:
    """The unit every person of the batch belongs to (None: each types theirs, an open form)."""
    if form.access == FormAccess.INVITEES:
        contact = caller.contact
        invited = contact is not None and db.session.scalar(select(Invitee.id).where(
            Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id, Invitee.status == "approved"))
        if not invited:
            raise RegistrationError("not_invitee")
        return contact.unit
    if form.access == FormAccess.CODE:
        typed = normalize_code(invite_code)
        number = (unit_code or "").strip()[:32]
        unit = db.session.scalar(select(Unit).where(Unit.code == number, Unit.registration_meeting_id.is_(None))) \
            if number else None
        if not form.invite_code or not hmac.compare_digest(typed.encode(), form.invite_code.encode()) or unit is None:
            raise RegistrationError("invite_code_invalid")
        return unit
    return None


def _check_batch(meeting: Meeting, form: RegistrationForm, people: list[dict[str, Any]], *,
                 unit_fixed: bool) -> tuple[list[field_catalog.Person], list[dict]]:
    # The unit of an invitee's or a code form's batch is known (the caller's, the unit number's):
    # a typed one is not asked, and ignored if sent.
    fields = [f for f in form.fields if not (unit_fixed and f["key"] == "unit")]
    dates = (local(meeting.starts_at).date(), local(meeting.ends_at).date())
    checked: list[field_catalog.Person] = []
    errors: list[dict] = []
    seen_phones: dict[str, int] = {}
    seen_ids: dict[str, int] = {}
    secret = idnumbers.app_secret()
    for index, raw in enumerate(people):
        if not isinstance(raw, dict):
            raw = {}
        if unit_fixed:
            raw = {k: v for k, v in raw.items() if k != "unit"}
        person, problems = field_catalog.clean_person(fields, raw, meeting_dates=dates)
        phone = person.columns.get("phone")
        if phone:
            if phone in seen_phones:
                problems.append(_at(FieldError("phone_duplicate", phone=phone), "phone"))
            seen_phones.setdefault(phone, index)
        if person.id_number:
            person.columns["id_digest"] = idnumbers.digest(person.id_number, secret)
            if person.columns["id_digest"] in seen_ids:
                problems.append(_at(FieldError("id_registered"), "id_number"))
            seen_ids.setdefault(person.columns["id_digest"], index)
        errors.extend(field_catalog.error_dict(p, index) for p in problems)
        checked.append(person)
    if seen_phones:
        taken = set(db.session.scalars(select(Registration.phone).where(
            Registration.meeting_id == meeting.id, Registration.phone.in_(list(seen_phones)))))
        for phone in sorted(taken):
            errors.append(field_catalog.error_dict(_at(FieldError("phone_registered", phone=phone), "phone"),
                                                   seen_phones[phone]))
    if seen_ids:
        taken_ids = set(db.session.scalars(select(Registration.id_digest).where(
            Registration.meeting_id == meeting.id, Registration.id_digest.in_(list(seen_ids)),
            Registration.status.in_([s.value for s in HOLDING]))))
        for digest in taken_ids:
            errors.append(field_catalog.error_dict(_at(FieldError("id_registered"), "id_number"), seen_ids[digest]))
    errors.sort(key=lambda e: e["index"])
    return checked, errors


def _at(exc: FieldError, key: str) -> FieldError:
    exc.field = key
    return exc


def _row(meeting: Meeting, form: RegistrationForm, person: field_catalog.Person, unit: Unit | None, batch: str,
         submitter: str, secret: str) -> Registration:
    columns = dict(person.columns)
    answers = dict(person.answers)
    for key, checked in person.files.items():
        stored = uploads.store(checked)
        if key == "photo":
            columns["photo"] = stored
        else:
            answers[key] = stored
    if person.id_number:
        columns["id_cipher"] = idnumbers.encrypt(person.id_number, secret)
        columns["id_masked"] = idnumbers.mask(person.id_number)
    if unit is not None:
        columns["unit_name"] = unit.name
    return Registration(meeting_id=meeting.id, form_id=form.id, batch=batch, submitted_by=submitter[:96],
                        status=RegistrationStatus.PENDING, unit_id=unit.id if unit is not None else None,
                        answers=answers, diet=columns.pop("diet", []), tags=[], **columns)
