"""A meeting with people to feed and drive: three units, a delegation, two leaders, diet tags from
approved registrations, and the console's organizers (tests/console/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from models import InviteeRole, Registration
from tests.console.conftest import Console, build_console
from tests.lodging.conftest import register as register_approved


@dataclass
class Scene:
    console: Console
    people: dict[str, int] = field(default_factory=dict)  # name → contact id

    @property
    def meeting(self):
        return self.console.meeting


def register(db, meeting, contact, *, diet=(), rank=100, group=None, **dates) -> Registration:
    """An approved registration with diet tags (the lodging tests' helper, which asks none)."""
    reg = register_approved(db, meeting, contact, rank=rank, group=group, needs_room=False, **dates)
    reg.diet = list(diet)
    db.session.flush()
    return reg


def build_scene(factory, code: str = "MEAL1") -> Scene:
    console = build_console(factory, code)
    meeting = console.meeting
    scene = Scene(console)
    for c in console.people:  # 参会0..3, two units
        scene.people[c.name] = c.id
    units = [factory.unit(name=f"第{i}代表团单位") for i in range(2)]
    specs = [("书记", InviteeRole.LEADER, None, ("清真",), 1), ("县长", InviteeRole.LEADER, None, (), 2),
             ("甲一", InviteeRole.DELEGATE, "第一代表团", ("素食",), 100),
             ("甲二", InviteeRole.DELEGATE, "第一代表团", ("清真", "素食"), 100),
             ("甲三", InviteeRole.DELEGATE, "第一代表团", (), 100),
             ("乙一", InviteeRole.DELEGATE, None, ("清真",), 100),
             ("乙二", InviteeRole.DELEGATE, None, (), 100)]
    for i, (name, role, group, diet, rank) in enumerate(specs):
        contact = factory.contact(units[0] if i < 5 else units[1], name=name)
        factory.invitee(meeting, contact, role=role, group_name=group)
        register(factory.db, meeting, contact, diet=diet, rank=rank, group=group)
        scene.people[name] = contact.id
    factory.db.session.commit()
    return scene


@pytest.fixture
def scene(factory) -> Scene:
    return build_scene(factory)
