"""Setting a card's fields at a scope (the meeting, a role, a group, a person)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.services import audit
from app.services.cards import book as books
from app.services.cards.fields import CardError, clean_fields
from app.services.meetings.lifecycle import require_editable
from models import CardScope, Contact, Invitee, InviteeRole, Meeting, ServiceCard, Unit

ROLES = tuple(r.value for r in InviteeRole)


def _key(meeting: Meeting, scope: str, key: str | int | None) -> tuple[str, int | None]:
    """The row's ``scope_key`` (and contact id for a person), the scope's target checked.

    :raise CardError: ``scope_invalid``, ``role_unknown``, ``group_unknown``, ``person_not_invited``.
    """
    if scope == CardScope.MEETING:
        return "", None
    text = "" if key is None else str(key).strip()
    if scope == CardScope.ROLE:
        if text not in ROLES:
            raise CardError("role_unknown", role=text)
        return text, None
    if scope == CardScope.GROUP:
        if text not in group_names(meeting):
            raise CardError("group_unknown", group=text)
        return text, None
    if scope == CardScope.PERSON:
        contact_id = int(text) if text.isascii() and text.isdigit() else None
        if contact_id is None or db.session.scalar(select(Invitee.id).where(
                Invitee.meeting_id == meeting.id, Invitee.contact_id == contact_id)) is None:
            raise CardError("person_not_invited")
        return str(contact_id), contact_id
    raise CardError("scope_invalid")


def set_fields(meeting: Meeting, scope: str, key: str | int | None, values: dict[str, object], *,
               actor: str, replace: bool = False) -> dict[str, str]:
    """Set fields of one scope; an empty value removes the field there (the wider scope shows
    through again). ``replace``: the fields not in ``values`` are removed too (a form that shows
    every field). Returns the scope's fields as stored.

    :raise CardError: a field's problem (``field_too_long``, ``phone_invalid``…) or the scope's;
        :raise MeetingChangeError: ``state_invalid`` for an archived meeting.
    """
    require_editable(meeting)
    scope_key, contact_id = _key(meeting, scope, key)
    cleaned = clean_fields(values)
    row = db.session.scalar(select(ServiceCard).where(
        ServiceCard.meeting_id == meeting.id, ServiceCard.scope == scope, ServiceCard.scope_key == scope_key))
    before = dict(row.fields or {}) if row is not None else {}
    after = {} if replace else dict(before)
    for k, v in cleaned.items():
        if v:
            after[k] = v
        else:
            after.pop(k, None)
    if after == before:
        return after
    if row is None:
        row = ServiceCard(meeting_id=meeting.id, scope=scope, scope_key=scope_key, contact_id=contact_id)
        db.session.add(row)
    if after:
        row.fields, row.updated_by = after, actor
    else:
        db.session.delete(row)
    db.session.flush()
    books.changed()
    audit.record(actor, "cards.set", meeting_id=meeting.id, target=f"card:{scope}:{scope_key}",
                 changed=sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
    return after


def scope_fields(meeting: Meeting, scope: str, key: str | int | None = None) -> dict[str, str]:
    """The fields set at exactly this scope (what its form shows)."""
    scope_key = "" if scope == CardScope.MEETING else str(key or "").strip()
    values = db.session.scalar(select(ServiceCard.fields).where(
        ServiceCard.meeting_id == meeting.id, ServiceCard.scope == scope, ServiceCard.scope_key == scope_key))
    return dict(values or {})


def group_names(meeting: Meeting) -> list[str]:
    """The meeting's groups as the invitee list names them."""
    return list(db.session.scalars(select(Invitee.group_name).where(
        Invitee.meeting_id == meeting.id, Invitee.group_name.is_not(None), Invitee.group_name != "")
        .group_by(Invitee.group_name).order_by(Invitee.group_name)))


@dataclass(frozen=True)
class Overview:
    meeting: dict[str, str]
    #: [(name, people in it, its fields)]
    groups: list[tuple[str, int, dict[str, str]]]
    roles: list[tuple[str, dict[str, str]]]
    people: int


def overview(meeting: Meeting) -> Overview:
    """What the console's card page lists: every scope and how many people have their own card."""
    rows = db.session.execute(select(ServiceCard.scope, ServiceCard.scope_key, ServiceCard.fields)
                              .where(ServiceCard.meeting_id == meeting.id, ServiceCard.scope != CardScope.PERSON))
    by = {(scope, key): dict(values or {}) for scope, key, values in rows}
    counts = dict(db.session.execute(select(Invitee.group_name, func.count()).where(
        Invitee.meeting_id == meeting.id, Invitee.group_name.is_not(None), Invitee.group_name != "")
        .group_by(Invitee.group_name)).all())
    people = db.session.scalar(select(func.count()).select_from(ServiceCard).where(
        ServiceCard.meeting_id == meeting.id, ServiceCard.scope == CardScope.PERSON)) or 0
    return Overview(meeting=by.get((CardScope.MEETING.value, ""), {}),
                    groups=[(g, counts[g], by.get((CardScope.GROUP.value, g), {})) for g in sorted(counts)],
                    roles=[(r, by.get((CardScope.ROLE.value, r), {})) for r in ROLES], people=people)


@dataclass(frozen=True)
class PersonRow:
    contact_id: int
    name: str
    unit: str
    role: str
    group: str | None
    fields: dict[str, str]


PEOPLE_PAGE = 50


def people(meeting: Meeting, *, q: str = "", page: int = 1) -> tuple[list[PersonRow], int]:
    """The invitees with their own card fields, for the per-person list; (rows of the page, total)."""
    stmt = (select(Contact.id, Contact.name, Unit.name, Invitee.role, Invitee.group_name, ServiceCard.fields)
            .join(Invitee, Invitee.contact_id == Contact.id).join(Unit, Unit.id == Contact.unit_id)
            .outerjoin(ServiceCard, (ServiceCard.meeting_id == meeting.id)
                       & (ServiceCard.scope == CardScope.PERSON.value) & (ServiceCard.contact_id == Contact.id))
            .where(Invitee.meeting_id == meeting.id, Invitee.status == "approved"))
    q = (q or "").strip()[:40]
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(Contact.name.like(like) | Unit.name.like(like) | Contact.phone.like(like)
                          | Invitee.group_name.like(like))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    page = max(1, page)
    rows = db.session.execute(stmt.order_by(Unit.name, Contact.name, Contact.id)
                              .limit(PEOPLE_PAGE).offset((page - 1) * PEOPLE_PAGE)).all()
    return [PersonRow(cid, name, unit, role, group, dict(values or {}))
            for cid, name, unit, role, group, values in rows], total


def invited_contact(meeting: Meeting, contact_id: int) -> Contact:
    """:raise CardError: ``person_not_invited`` (404)."""
    contact = db.session.scalar(select(Contact).join(Invitee, Invitee.contact_id == Contact.id).where(
        Invitee.meeting_id == meeting.id, Contact.id == contact_id))
    if contact is None:
        raise CardError("person_not_invited")
    return contact


def names(contact_ids: list[int]) -> dict[int, tuple[str, str]]:
    """contact id -> (name, unit name), for an import's report."""
    if not contact_ids:
        return {}
    rows = db.session.execute(select(Contact.id, Contact.name, Unit.name).join(Unit, Unit.id == Contact.unit_id)
                              .where(Contact.id.in_(sorted(set(contact_ids)))))
    return {cid: (name, unit) for cid, name, unit in rows}
