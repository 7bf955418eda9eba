"""Who may organize for a unit, and who administers the deployment: decided by system
administrators (or the CLI), never by an organizer for themselves."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit
from app.services.contacts.units import get_unit
from app.services.errors import DomainError
from app.services.meetings.meetings import find_contact_by_phone
from app.services.meetings.organizers import is_system_admin
from models import Contact, SystemAdmin, Unit, UnitOrganizer


class GrantError(DomainError):
    messages = {
        "not_system_admin": "只有系统管理员可以执行此操作",
        "not_granted": "{name} 不是 {unit} 的会议组织者",
        "admin_missing": "{name} 不是系统管理员",
        "last_admin": "不能移除最后一位系统管理员",
    }
    statuses = {"not_system_admin": 403, "not_granted": 404, "admin_missing": 404}


def require_admin(contact: Contact | None) -> None:
    """:raise GrantError: ``not_system_admin`` (403). The CLI acts as the deployment and skips it."""
    if not is_system_admin(contact):
        raise GrantError("not_system_admin")


def add_unit_organizer(unit_code: str, phone: str, *, actor: str) -> tuple[Unit, Contact, bool]:
    """Let the person with ``phone`` create and run the meetings of unit ``unit_code``.
    Returns (unit, contact, created); granting twice is harmless."""
    unit = get_unit(unit_code)
    contact = find_contact_by_phone(phone)
    exists = db.session.get(UnitOrganizer, (unit.id, contact.id)) is not None
    if not exists:
        db.session.add(UnitOrganizer(unit_id=unit.id, contact_id=contact.id))
        db.session.flush()
        audit.record(actor, "unit.organizer_add", target=f"contact:{contact.id}", unit=unit.code)
    return unit, contact, not exists


def remove_unit_organizer(unit_code: str, phone: str, *, actor: str) -> tuple[Unit, Contact]:
    unit = get_unit(unit_code)
    contact = find_contact_by_phone(phone)
    grant = db.session.get(UnitOrganizer, (unit.id, contact.id))
    if grant is None:
        raise GrantError("not_granted", name=contact.name, unit=unit.name)
    db.session.delete(grant)
    db.session.flush()
    audit.record(actor, "unit.organizer_remove", target=f"contact:{contact.id}", unit=unit.code)
    return unit, contact


def unit_organizers(unit_code: str | None = None) -> list[UnitOrganizer]:
    """Every grant (of one unit, or all), by unit then name."""
    stmt = (select(UnitOrganizer).join(Unit, Unit.id == UnitOrganizer.unit_id)
            .join(Contact, Contact.id == UnitOrganizer.contact_id)
            .options(joinedload(UnitOrganizer.unit), joinedload(UnitOrganizer.contact).joinedload(Contact.unit))
            .order_by(Unit.name, Contact.name))
    if unit_code:
        stmt = stmt.where(Unit.id == get_unit(unit_code).id)
    return list(db.session.scalars(stmt))


def add_system_admin(phone: str, *, actor: str) -> tuple[Contact, bool]:
    contact = find_contact_by_phone(phone)
    exists = db.session.get(SystemAdmin, contact.id) is not None
    if not exists:
        db.session.add(SystemAdmin(contact_id=contact.id))
        db.session.flush()
        audit.record(actor, "admin.add", target=f"contact:{contact.id}")
    return contact, not exists


def remove_system_admin(phone: str, *, actor: str) -> Contact:
    contact = find_contact_by_phone(phone)
    admin = db.session.get(SystemAdmin, contact.id)
    if admin is None:
        raise GrantError("admin_missing", name=contact.name)
    if db.session.scalar(select(db.func.count()).select_from(SystemAdmin)) <= 1 and actor != "cli":
        # From the console the last administrator cannot lock everyone out; the CLI can (it is the
        # deployment itself, and can add one back).
        raise GrantError("last_admin")
    db.session.delete(admin)
    db.session.flush()
    audit.record(actor, "admin.remove", target=f"contact:{contact.id}")
    return contact


def system_admins() -> list[Contact]:
    return list(db.session.scalars(
        select(Contact).join(SystemAdmin, SystemAdmin.contact_id == Contact.id)
        .options(joinedload(Contact.unit)).order_by(Contact.name)
    ))
