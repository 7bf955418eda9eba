"""The organizer's decision on registrations: approve, refuse with a reason, tag; one or many.

Approval puts the person where the rest of the system looks for people:

1. the directory: the contact with the registration's unit and phone, else one with the phone and
   the same name; else a new contact in the meeting's "报名人员" unit (made on first need, flagged by
   ``units.registration_meeting_id``). The registrant's own unit name is added to that unit's
   aliases, so at their first scan they bind (app/services/identity/binding.py) with the unit, name
   and phone they registered with;
2. the invitee list: an approved invitee with the form's role and the registration's group.

``registration.contact_id`` then links the two (app/services/logistics/people.py reads it).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.services import audit
from app.services.contacts.phones import normalize_name, normalize_unit_name
from app.services.meetings import invitees
from app.services.registration.errors import RegistrationError
from app.services.registration.fields import plain_text
from models import Contact, Invitee, Meeting, Unit
from models.registrations import Registration, RegistrationStatus

MAX_TAG = 16
MAX_TAGS = 10
#: Aliases the 报名人员 unit keeps at most (one per registrant's unit name).
MAX_ALIASES = 2000


def _rows(meeting: Meeting, ids: Iterable[int | str]) -> list[Registration]:
    wanted: set[int] = set()
    for raw in ids:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise RegistrationError("registration_not_found") from None
        if not 0 < value < 2**31:
            raise RegistrationError("registration_not_found")
        wanted.add(value)
    if not wanted:
        raise RegistrationError("nothing_selected")
    rows = list(db.session.scalars(select(Registration).where(
        Registration.meeting_id == meeting.id, Registration.id.in_(wanted)).order_by(Registration.id)))
    if len(rows) != len(wanted):
        raise RegistrationError("registration_not_found")
    return rows


def get_registration(meeting: Meeting, registration_id: int | str) -> Registration:
    return _rows(meeting, [registration_id])[0]


def pending_ids(meeting: Meeting) -> list[int]:
    return list(db.session.scalars(select(Registration.id).where(
        Registration.meeting_id == meeting.id, Registration.status == RegistrationStatus.PENDING)
        .order_by(Registration.id)))


def approve(meeting: Meeting, ids: Iterable[int | str], *, actor: str, now: datetime | None = None) -> dict[str, int]:
    """Approve these registrations (pending or refused ones; approved ones are left as they are).

    :raise RegistrationError: ``nothing_selected``, ``registration_not_found`` (any id not of this
        meeting: nothing is done).
    """
    rows = _rows(meeting, ids)
    todo = [r for r in rows if r.status in (RegistrationStatus.PENDING, RegistrationStatus.REFUSED)]
    approve_rows(meeting, todo, actor=actor, now=now)
    return {"approved": len(todo), "skipped": len(rows) - len(todo)}


def approve_rows(meeting: Meeting, rows: list[Registration], *, actor: str, now: datetime | None = None) -> None:
    """Approve ``rows`` (checked by the caller): directory, invitee list, link, audit.

    In a few statements whatever the number (a thousand approved at once is one console click):
    the directory's people with these phones read once, new contacts and invitees written together.
    """
    if not rows:
        return
    now = now or datetime.now(UTC)
    phones = sorted({r.phone for r in rows})
    known = list(db.session.scalars(select(Contact).where(Contact.phone.in_(phones)).order_by(Contact.id)))
    by_unit_phone = {(c.unit_id, c.phone): c for c in known}
    by_phone_name: dict[tuple[str, str], Contact] = {}
    for c in known:
        if c.active:
            by_phone_name.setdefault((c.phone, normalize_name(c.name)), c)
    unit: Unit | None = None
    aliases: list[str] = []
    known_names: set[str] = set()
    added: list[Contact] = []
    chosen: list[Contact] = []
    for reg in rows:
        contact = by_unit_phone.get((reg.unit_id, reg.phone)) if reg.unit_id is not None else None
        contact = contact or by_phone_name.get((reg.phone, normalize_name(reg.name)))
        if contact is None:
            if unit is None:
                unit = registration_unit(meeting)
                aliases = list(unit.aliases or [])
                known_names = {normalize_unit_name(n).casefold() for n in [unit.code, unit.name, *aliases]}
            _add_aliases(unit, aliases, known_names, reg)
            contact = by_unit_phone.get((unit.id, reg.phone))
            if contact is None:  # approved before, refused, approved again: the same contact
                contact = Contact(unit_id=unit.id, name=reg.name, phone=reg.phone, title=reg.title or None,
                                  tags=["报名"])
                added.append(contact)
                by_unit_phone[(unit.id, reg.phone)] = contact
            else:
                contact.name, contact.title = reg.name, reg.title or contact.title
        contact.active = True
        chosen.append(contact)
    if unit is not None and aliases != list(unit.aliases or []):
        unit.aliases = aliases[:MAX_ALIASES]
    db.session.add_all(added)
    db.session.flush()
    existing = {inv.contact_id: inv for inv in db.session.scalars(select(Invitee).where(
        Invitee.meeting_id == meeting.id, Invitee.contact_id.in_([c.id for c in chosen])))}
    new_invitees = []
    for reg, contact in zip(rows, chosen, strict=True):
        invitee = existing.get(contact.id)
        if invitee is None:
            invitee = existing[contact.id] = Invitee(meeting_id=meeting.id, contact_id=contact.id)
            new_invitees.append(invitee)
        invitee.role = reg.form.role
        invitee.group_name = reg.group_name or invitee.group_name
        invitee.status = "approved"
        reg.contact_id = contact.id
        reg.status = RegistrationStatus.APPROVED
        reg.decided_by = actor[:96]
        reg.decided_at = now
        reg.decision_note = None
    db.session.add_all(new_invitees)
    db.session.flush()
    invitees._changed(meeting)  # 应到 and the invitee list's caches follow at once
    if new_invitees:
        audit.record(actor, "meeting.invite", meeting_id=meeting.id, target=f"contacts:{len(new_invitees)}",
                     contact_ids=[i.contact_id for i in new_invitees][:2000], via="registration")
    audit.record(actor, "registration.approve", meeting_id=meeting.id,
                 target=f"registration:{rows[0].id}" if len(rows) == 1 else f"registrations:{len(rows)}",
                 registration_ids=[r.id for r in rows][:2000], contact_ids=[r.contact_id for r in rows][:2000],
                 contacts_added=len(added))


def _add_aliases(unit: Unit, aliases: list[str], known: set[str], reg: Registration) -> None:
    """The names the registrant may type for their unit at their first scan, as the 报名人员 unit's
    aliases: the unit they typed, or their own unit's name, code and aliases (发改局 for 区发展和改革局).
    ``known``: the unit's names as binding's ``unit_matches`` compares them (folded), kept as we go."""
    names = [reg.unit_name.strip()]
    if reg.unit_id is not None:
        own = db.session.get(Unit, reg.unit_id)
        names += [own.code, *(own.aliases or [])]
    for name in names:
        folded = normalize_unit_name(name).casefold()
        if folded and folded not in known and len(aliases) < MAX_ALIASES:
            aliases.append(name)
            known.add(folded)


def registration_unit(meeting: Meeting) -> Unit:
    """The meeting's "报名人员" unit, made on first need: code ``R<meeting code>``, name
    ``<会议标题>报名人员``."""
    unit = db.session.scalar(select(Unit).where(Unit.registration_meeting_id == meeting.id))
    if unit is not None:
        return unit
    base = f"R{meeting.code}"[:28]
    code, n = base, 1
    while db.session.scalar(select(Unit.id).where(Unit.code == code)) is not None:
        n += 1
        code = f"{base}-{n}"
    unit = Unit(code=code, name=f"{meeting.title}报名人员"[:128], aliases=[], registration_meeting_id=meeting.id)
    db.session.add(unit)
    db.session.flush()
    audit.record("system", "unit.add", meeting_id=meeting.id, target=f"unit:{unit.id}", code=code, name=unit.name,
                 registration=True)
    return unit


def refuse(meeting: Meeting, ids: Iterable[int | str], *, reason: str, actor: str,
           now: datetime | None = None) -> dict[str, int]:
    """Refuse pending registrations with ``reason`` (shown to the person). Decided ones are skipped:
    an approved person is already an invitee, taken off the list on the people page.

    :raise RegistrationError: ``refuse_reason_missing``, ``refuse_reason_too_long``,
        ``nothing_selected``, ``registration_not_found``.
    """
    reason = (reason or "").strip()
    if not reason:
        raise RegistrationError("refuse_reason_missing")
    if len(reason) > 200:
        raise RegistrationError("refuse_reason_too_long")
    if not plain_text(reason.replace("\n", " ")):
        raise RegistrationError("refuse_reason_invalid")
    rows = _rows(meeting, ids)
    todo = [r for r in rows if r.status == RegistrationStatus.PENDING]
    now = now or datetime.now(UTC)
    for reg in todo:
        reg.status = RegistrationStatus.REFUSED
        reg.decided_by = actor[:96]
        reg.decided_at = now
        reg.decision_note = reason
    db.session.flush()
    if todo:
        audit.record(actor, "registration.refuse", meeting_id=meeting.id,
                     target=f"registration:{todo[0].id}" if len(todo) == 1 else f"registrations:{len(todo)}",
                     registration_ids=[r.id for r in todo][:2000], reason=reason)
    return {"refused": len(todo), "skipped": len(rows) - len(todo)}


def tag(meeting: Meeting, ids: Iterable[int | str], label: str, *, actor: str, remove: bool = False) -> int:
    """Add (or ``remove``) the tag ``label`` on these registrations; how many changed.

    :raise RegistrationError: ``tag_invalid``, ``nothing_selected``, ``registration_not_found``.
    """
    label = (label or "").strip()
    if not label or len(label) > MAX_TAG or not plain_text(label) or "," in label:
        raise RegistrationError("tag_invalid")
    changed = 0
    for reg in _rows(meeting, ids):
        tags = list(reg.tags or [])
        if remove and label in tags:
            tags.remove(label)
        elif not remove and label not in tags and len(tags) < MAX_TAGS:
            tags.append(label)
        else:
            continue
        reg.tags = tags
        changed += 1
    db.session.flush()
    audit.record(actor, "registration.untag" if remove else "registration.tag", meeting_id=meeting.id,
                 target=f"registrations:{changed}", tag=label)
    return changed


def set_group_rank(meeting: Meeting, ids: Iterable[int | str], *, actor: str, group: str | None = None,
                   rank: int | str | None = None) -> int:
    """Set the delegation (代表团/分组) and/or the seniority rank (smaller first: single rooms, seats)
    of these registrations; an approved person's invitee follows the group at once. ``None``: left
    as it is; a group of "" clears it. How many registrations were given.

    :raise RegistrationError: ``group_invalid``, ``rank_invalid``, ``nothing_selected``,
        ``registration_not_found``.
    """
    if group is not None:
        group = group.strip()
        if len(group) > 64 or not plain_text(group):
            raise RegistrationError("group_invalid")
    if rank is not None:
        try:
            rank = int(str(rank).strip())
        except ValueError:
            raise RegistrationError("rank_invalid") from None
        if not 0 <= rank <= 9999:
            raise RegistrationError("rank_invalid")
    rows = _rows(meeting, ids)
    for reg in rows:
        if group is not None:
            reg.group_name = group or None
        if rank is not None:
            reg.rank = rank
    contact_ids = [r.contact_id for r in rows if r.status == RegistrationStatus.APPROVED and r.contact_id]
    if group is not None and contact_ids:
        for invitee in db.session.scalars(select(Invitee).where(Invitee.meeting_id == meeting.id,
                                                                Invitee.contact_id.in_(contact_ids))):
            invitee.group_name = group or None
        invitees._changed(meeting)
    db.session.flush()
    audit.record(actor, "registration.set", meeting_id=meeting.id, target=f"registrations:{len(rows)}",
                 registration_ids=[r.id for r in rows][:2000], group=group, rank=rank)
    return len(rows)
