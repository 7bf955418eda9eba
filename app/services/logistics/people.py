"""The people logistics places: a meeting's approved invitees with what their registration says.

Rooms, seats, meals, buses and badges all read this one list, so a person registered is the person
placed, printed and scanned at the door. An invitee added straight to the list (no registration) is
placed with what the directory knows: no gender, no dates, no room asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.extensions import db
from models import Contact, Invitee, InviteeRole, Unit
from models.registrations import Registration, RegistrationStatus

#: Roles in the order seats and badges list them.
ROLE_ORDER = {role.value: index for index, role in enumerate(
    (InviteeRole.LEADER, InviteeRole.DELEGATE, InviteeRole.OBSERVER, InviteeRole.MEDIA, InviteeRole.STAFF))}


@dataclass(frozen=True)
class Person:
    contact_id: int
    name: str
    unit_id: int
    unit_name: str
    #: The unit's place in the meeting's order (units by code), for seats by unit order.
    unit_order: int
    role: str
    #: The delegation (代表团) or group: ``Invitee.group_name``.
    group: str | None
    #: "男", "女" or None (not known: never put in a shared room with a stranger's gender assumed).
    gender: str | None
    #: Seniority, smaller first (a registration's rank; 100 unless set).
    rank: int
    title: str
    arrival: date | None
    departure: date | None
    needs_room: bool
    accessible: bool
    diet: tuple[str, ...]
    #: Storage key of the badge photo.
    photo: str | None
    registration_id: int | None

    @property
    def order_key(self) -> tuple:
        """Role, then rank, then unit order, then name: the order seats and badges follow."""
        return (ROLE_ORDER.get(self.role, len(ROLE_ORDER)), self.rank, self.unit_order, self.name, self.contact_id)


def roster(meeting_id: int) -> list[Person]:
    """The meeting's approved invitees, in :attr:`Person.order_key` order.

    A registrant's unit is the one they registered under, not the directory's: one added to the
    meeting's "报名人员" unit is still of 区发展和改革局 on their badge, their seat and their room."""
    registered_unit = aliased(Unit)
    rows = db.session.execute(
        select(Invitee.contact_id, Invitee.role, Invitee.group_name, Contact.name, Contact.title, Contact.unit_id,
               Unit.name, Unit.code, Registration, registered_unit)
        .join(Contact, Contact.id == Invitee.contact_id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Registration, (Registration.meeting_id == Invitee.meeting_id)
                   & (Registration.contact_id == Invitee.contact_id)
                   & (Registration.status == RegistrationStatus.APPROVED))
        .outerjoin(registered_unit, registered_unit.id == Registration.unit_id)
        .where(Invitee.meeting_id == meeting_id, Invitee.status == "approved")).all()
    resolved = []
    for contact_id, role, group, name, title, unit_id, unit_name, unit_code, reg, reg_unit in rows:
        if reg_unit is not None:
            unit_id, unit_name, unit_code = reg_unit.id, reg_unit.name, reg_unit.code
        elif reg is not None and reg.unit_name:
            unit_name = reg.unit_name  # an open form's outsider: the unit they typed
        resolved.append((contact_id, role, group, name, title, unit_id, unit_name, unit_code, reg))
    order = {code: index for index, code in enumerate(sorted({row[7] for row in resolved}))}
    people = []
    for contact_id, role, group, name, title, unit_id, unit_name, unit_code, reg in resolved:
        people.append(Person(
            contact_id=contact_id, name=name, unit_id=unit_id, unit_name=unit_name, unit_order=order[unit_code],
            role=role, group=group or (reg.group_name if reg else None), gender=reg.gender if reg else None,
            rank=reg.rank if reg else 100, title=(reg.title if reg and reg.title else title) or "",
            arrival=reg.arrival if reg else None, departure=reg.departure if reg else None,
            needs_room=bool(reg and reg.needs_room), accessible=bool(reg and reg.accessible),
            diet=tuple(reg.diet or ()) if reg else (), photo=reg.photo if reg else None,
            registration_id=reg.id if reg else None))
    people.sort(key=lambda p: p.order_key)
    return people
