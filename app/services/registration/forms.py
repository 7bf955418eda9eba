"""A meeting's registration forms, as its organizers write them (the meeting's "edit" right).

One form per role if the organizer wants (代表, 列席, 工作人员, 媒体 …). Who may register is the form's
``access``: the meeting's invitees; anyone holding the form's invitation code plus their unit's
number (定向邀约); or anyone, always subject to approval. A draft form is the organizers' only;
published, people register on it (H5 ``/r/<meeting code>``, the mini program).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.services import audit
from app.services.registration import fields as field_catalog
from app.services.registration.errors import RegistrationError
from models import InviteeRole, Meeting
from models.registrations import FormAccess, Registration, RegistrationForm, RegistrationStatus

#: Letters and digits nobody confuses on a printed letter (no 0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
CODE_RE = re.compile(r"^[A-Z0-9]{4,16}$")
ROLES = tuple(r.value for r in InviteeRole)
ACCESS_LABELS = {FormAccess.INVITEES: "仅限受邀人员", FormAccess.CODE: "邀请码 + 单位编号", FormAccess.OPEN: "公开报名（须审核）"}
MAX_CAP = 100_000
#: Statuses that hold a place under the cap.
HOLDING = (RegistrationStatus.PENDING, RegistrationStatus.APPROVED)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalize_code(raw: str | None) -> str:
    """What a person typed from a letter: spaces and dashes out, upper case, full-width folded."""
    text = "".join(chr(ord(c) - 0xFEE0) if "！" <= c <= "～" else c for c in raw or "")
    return re.sub(r"[\s\-]", "", text).upper()


def forms_of(meeting: Meeting, *, published_only: bool = False) -> list[RegistrationForm]:
    stmt = select(RegistrationForm).where(RegistrationForm.meeting_id == meeting.id)
    if published_only:
        stmt = stmt.where(RegistrationForm.published.is_(True))
    return list(db.session.scalars(stmt.order_by(RegistrationForm.id)))


def get_form(meeting: Meeting, form_id: int | str | None) -> RegistrationForm:
    """The form ``form_id`` of ``meeting`` (a form of another meeting is not found, as none is)."""
    try:
        fid = int(form_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise RegistrationError("form_not_found") from None
    form = db.session.get(RegistrationForm, fid) if 0 < fid < 2**31 else None
    if form is None or form.meeting_id != meeting.id:
        raise RegistrationError("form_not_found")
    return form


def held_places(form: RegistrationForm) -> int:
    """Registrations on ``form`` that hold a place under its cap (pending or approved)."""
    return int(db.session.scalar(select(func.count()).select_from(Registration).where(
        Registration.form_id == form.id, Registration.status.in_([s.value for s in HOLDING]))) or 0)


def _checked(meeting: Meeting, values: dict[str, Any], form: RegistrationForm | None) -> dict[str, Any]:
    title = str(values.get("title") or "").strip()
    if not title:
        raise RegistrationError("form_title_missing")
    if len(title) > 64 or not field_catalog.plain_text(title):
        raise RegistrationError("form_title_too_long")
    role = str(values.get("role") or InviteeRole.DELEGATE)
    if role not in ROLES:
        raise RegistrationError("form_role_invalid")
    access = str(values.get("access") or FormAccess.CODE)
    if access not in {a.value for a in FormAccess}:
        raise RegistrationError("form_access_invalid")
    code = normalize_code(values.get("invite_code"))
    if access == FormAccess.CODE:
        code = code or (form.invite_code if form is not None and form.invite_code else new_code())
        if not CODE_RE.match(code):
            raise RegistrationError("form_code_invalid")
    else:
        code = None
    cap = values.get("cap")
    if cap in (None, ""):
        cap = None
    else:
        try:
            cap = int(str(cap).strip())
        except ValueError:
            raise RegistrationError("form_cap_invalid") from None
        if not 1 <= cap <= MAX_CAP:
            raise RegistrationError("form_cap_invalid")
    deadline = values.get("deadline")
    if deadline in (None, ""):
        deadline = None
    elif not isinstance(deadline, datetime) or deadline.tzinfo is None:
        raise RegistrationError("form_deadline_invalid")
    raw_fields = values.get("fields")
    checked_fields = field_catalog.check_fields(raw_fields if raw_fields is not None else (
        form.fields if form is not None else field_catalog.default_fields()))
    if access == FormAccess.OPEN and "unit" not in {f["key"] for f in checked_fields}:
        # An outsider's unit is what they will type at the door to bind: ask it.
        checked_fields.insert(1, field_catalog.spec("unit", required=True))
    # An open form is always decided by an organizer, whatever was ticked.
    needs_approval = access == FormAccess.OPEN or bool(values.get("needs_approval", True))
    taken = select(RegistrationForm.id).where(RegistrationForm.meeting_id == meeting.id)
    if form is not None:
        taken = taken.where(RegistrationForm.id != form.id)
    if db.session.scalar(taken.where(RegistrationForm.title == title)) is not None:
        raise RegistrationError("form_title_taken")
    if code and db.session.scalar(taken.where(RegistrationForm.invite_code == code)) is not None:
        raise RegistrationError("form_code_taken")
    return {"title": title, "role": role, "access": access, "invite_code": code, "cap": cap, "deadline": deadline,
            "fields": checked_fields, "needs_approval": needs_approval}


def create_form(meeting: Meeting, *, actor: str, title: str, role: str = InviteeRole.DELEGATE,
                access: str = FormAccess.CODE, invite_code: str | None = None, needs_approval: bool = True,
                fields: list[dict] | None = None, deadline: datetime | None = None, cap: int | None = None,
                published: bool = False) -> RegistrationForm:
    """A new form (a draft unless ``published``). ``invite_code``: set, or generated for a code form.

    :raise RegistrationError: ``form_title_missing``, ``form_title_too_long``, ``form_role_invalid``,
        ``form_access_invalid``, ``form_code_invalid``, ``form_fields_invalid``, ``form_cap_invalid``,
        ``form_deadline_invalid``, ``form_title_taken``, ``form_code_taken``.
    """
    values = _checked(meeting, {"title": title, "role": role, "access": access, "invite_code": invite_code,
                                "needs_approval": needs_approval, "fields": fields, "deadline": deadline,
                                "cap": cap}, None)
    form = RegistrationForm(meeting_id=meeting.id, published=published, **values)
    db.session.add(form)
    db.session.flush()
    audit.record(actor, "registration.form_create", meeting_id=meeting.id, target=f"registration_form:{form.id}",
                 title=form.title, access=form.access, role=form.role, published=published)
    return form


def update_form(form: RegistrationForm, meeting: Meeting, *, actor: str, **values: Any) -> RegistrationForm:
    """Change a form (what is not given stays). Registrations already sent keep their answers."""
    current = {"title": form.title, "role": form.role, "access": form.access, "invite_code": form.invite_code,
               "needs_approval": form.needs_approval, "fields": form.fields, "deadline": form.deadline,
               "cap": form.cap}
    current.update(values)
    checked = _checked(meeting, current, form)
    for name, value in checked.items():
        setattr(form, name, value)
    db.session.flush()
    audit.record(actor, "registration.form_update", meeting_id=meeting.id, target=f"registration_form:{form.id}",
                 changed=sorted(values))
    return form


def publish_form(form: RegistrationForm, meeting: Meeting, *, actor: str, published: bool = True) -> RegistrationForm:
    form.published = published
    db.session.flush()
    audit.record(actor, "registration.form_publish" if published else "registration.form_unpublish",
                 meeting_id=meeting.id, target=f"registration_form:{form.id}")
    return form
