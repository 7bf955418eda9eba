"""A meeting with people to lodge: two leaders, a delegation of four (two men, two women, arriving
on two days), someone who did not give a gender, an accessible delegate, someone who needs no room;
two hotels; and the console's organizers (tests/console/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pytest

from app.services.logistics import lodging
from models import InviteeRole, Registration, RegistrationForm, RegistrationStatus
from tests.console.conftest import Console, build_console

D1, D2 = date(2026, 12, 1), date(2026, 12, 2)


@dataclass
class Scene:
    console: Console
    people: dict[str, int] = field(default_factory=dict)  # name -> contact id
    rooms: dict[str, int] = field(default_factory=dict)  # "A1201" -> room id
    hotels: dict[str, int] = field(default_factory=dict)

    @property
    def meeting(self):
        return self.console.meeting


def register(db, meeting, contact, *, gender=None, rank=100, group=None, arrival=None, departure=None,
             needs_room=True, accessible=False) -> Registration:
    form = db.session.query(RegistrationForm).filter_by(meeting_id=meeting.id).first()
    if form is None:
        form = RegistrationForm(meeting_id=meeting.id, title="代表报名", role=InviteeRole.DELEGATE, fields=[])
        db.session.add(form)
        db.session.flush()
    reg = Registration(meeting_id=meeting.id, form_id=form.id, batch="b1", submitted_by="test",
                       status=RegistrationStatus.APPROVED, name=contact.name, unit_id=contact.unit_id,
                       phone=contact.phone, gender=gender, rank=rank, group_name=group, contact_id=contact.id,
                       arrival=arrival, departure=departure, needs_room=needs_room, accessible=accessible,
                       diet=[], answers={}, tags=[])
    db.session.add(reg)
    db.session.flush()
    return reg


SPECS = [  # name, role, group, gender, rank, arrival, accessible, needs_room
    ("书记", InviteeRole.LEADER, None, "男", 1, D1, False, True),
    ("县长", InviteeRole.LEADER, None, "女", 2, D1, False, True),
    ("甲一", InviteeRole.DELEGATE, "第一代表团", "男", 100, D1, False, True),
    ("甲二", InviteeRole.DELEGATE, "第一代表团", "男", 100, D2, False, True),
    ("甲三", InviteeRole.DELEGATE, "第一代表团", "女", 100, D1, False, True),
    ("甲四", InviteeRole.DELEGATE, "第一代表团", "女", 100, D1, False, True),
    ("乙一", InviteeRole.DELEGATE, None, None, 100, D2, False, True),
    ("丙一", InviteeRole.DELEGATE, None, "男", 100, D1, True, True),
    ("丁一", InviteeRole.DELEGATE, None, "男", 100, D1, False, False),
]


def add_people(factory, meeting, specs=SPECS, unit=None) -> dict[str, int]:
    unit = unit or factory.unit(name="住宿测试单位")
    out = {}
    for name, role, group, gender, rank, arrival, accessible, needs_room in specs:
        contact = factory.contact(unit, name=name)
        factory.invitee(meeting, contact, role=role, group_name=group)
        register(factory.db, meeting, contact, gender=gender, rank=rank, group=group, arrival=arrival,
                 departure=date(2026, 12, 4), needs_room=needs_room, accessible=accessible)
        out[name] = contact.id
    return out


def add_hotels(meeting) -> tuple[dict[str, int], dict[str, int]]:
    """A: two singles (1201, 1202), three doubles (1203-1205), an accessible double (1206);
    B: two doubles (301, 302)."""
    rooms, hotels = {}, {}
    a = lodging.save_hotel(meeting, {"name": "会议中心酒店", "address": "市府路 1 号"}, actor="test")
    b = lodging.save_hotel(meeting, {"name": "迎宾馆"}, actor="test")
    hotels.update(A=a.id, B=b.id)
    single = lodging.add_type(meeting, a, {"name": "单人间", "beds": "1"}, actor="test")
    double = lodging.add_type(meeting, a, {"name": "标准间", "beds": "2", "price": "380 元"}, actor="test")
    b_double = lodging.add_type(meeting, b, {"name": "标准间", "beds": "2"}, actor="test")
    for spec, hotel, room_type, extra in (("1201-1202", a, single, {}), ("1203-1205", a, double, {}),
                                          ("1206", a, double, {"accessible": "1"}), ("301-302", b, b_double, {})):
        for room in lodging.add_rooms(meeting, hotel, {"type_id": room_type.id, "number": spec, **extra}, actor="test"):
            rooms[("A" if hotel is a else "B") + room.number] = room.id
    return hotels, rooms


def build_scene(factory, code: str = "ROOM1") -> Scene:
    console = build_console(factory, code)
    scene = Scene(console)
    scene.people = add_people(factory, console.meeting)
    scene.hotels, scene.rooms = add_hotels(console.meeting)
    factory.db.session.commit()
    return scene


@pytest.fixture
def scene(factory) -> Scene:
    return build_scene(factory)
