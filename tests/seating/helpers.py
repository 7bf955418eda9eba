"""Shared for the seating tests: people as the roster gives them, and a meeting with invitees."""

from __future__ import annotations

from app.services.logistics.people import Person
from models import InviteeRole


def person(cid: int, *, role: str = "代表", unit: int = 1, group: str | None = None, rank: int = 100,
           accessible: bool = False, name: str | None = None) -> Person:
    return Person(contact_id=cid, name=name or f"人{cid}", unit_id=unit, unit_name=f"单位{unit}", unit_order=unit,
                  role=role, group=group, gender=None, rank=rank, title="", arrival=None, departure=None,
                  needs_room=False, accessible=accessible, diet=(), photo=None, registration_id=None)


#: Names the PDF must carry as text (a rare character, a long minority name, a plain one).
CJK_NAMES = ["王建国", "欧阳晓燕", "李昇", "阿卜杜热合曼·买买提", "张三"]


def invite_people(factory, meeting, count: int, *, units: int = 3, leaders: int = 0, groups: dict | None = None,
                  names: list[str] | None = None):
    """``count`` invitees over ``units`` units (the first ``leaders`` of them 领导); ``groups``:
    index → group name. Returns the contacts in order."""
    unit_rows = [factory.unit(f"S{meeting.id}U{i}", f"第{i + 1}单位") for i in range(units)]
    out = []
    for i in range(count):
        name = (names[i] if names and i < len(names) else None) or f"代表{i:03d}"
        contact = factory.contact(unit_rows[i % units], name=name)
        role = InviteeRole.LEADER if i < leaders else InviteeRole.DELEGATE
        factory.invitee(meeting, contact, role=role, group_name=(groups or {}).get(i))
        out.append(contact)
    return out
