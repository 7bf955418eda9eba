"""Shared data for the organizer console's tests: two organizing units, each with an organizer, a
meeting of the first unit with a staff member and a viewer, and a directory of people to invite."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from models import Contact, Meeting, OrganizerRight, Unit, UnitOrganizer, WechatIdentity


@dataclass
class Console:
    unit: Unit  # the organizing unit of ``meeting``
    other_unit: Unit  # another organizing unit
    meeting: Meeting
    owner: Contact  # organizes for ``unit``: owner of all its meetings
    staff: Contact  # 会务人员 on ``meeting``
    viewer: Contact  # read-only on ``meeting``
    outsider: Contact  # organizes for ``other_unit`` only
    stranger: Contact  # in the directory, no right anywhere
    identities: dict[str, WechatIdentity] = field(default_factory=dict)
    people: list[Contact] = field(default_factory=list)


def build_console(factory, code: str = "CON1") -> Console:
    from app.services.meetings.organizers import add_organizer

    unit = factory.unit("BGS", "区委办公室")
    other = factory.unit("ZZB", "区委组织部")
    meeting = factory.meeting(code, title="区委常委扩大会议")
    meeting.unit_id = unit.id
    owner = factory.contact(unit, name="主办王")
    staff = factory.contact(unit, name="会务李")
    viewer = factory.contact(unit, name="只读赵")
    outsider = factory.contact(other, name="他部门陈")
    stranger = factory.contact(unit, name="路人钱")
    factory.db.session.add_all([UnitOrganizer(unit_id=unit.id, contact_id=owner.id),
                                UnitOrganizer(unit_id=other.id, contact_id=outsider.id)])
    factory.db.session.flush()
    add_organizer(meeting.code, staff.phone, actor="test", right=OrganizerRight.STAFF)
    add_organizer(meeting.code, viewer.phone, actor="test", right=OrganizerRight.VIEWER)
    people = []
    for i in range(4):
        c = factory.contact(unit if i % 2 == 0 else other, name=f"参会{i}")
        factory.invitee(meeting, c)
        people.append(c)
    data = Console(unit, other, meeting, owner, staff, viewer, outsider, stranger, people=people)
    for name in ("owner", "staff", "viewer", "outsider", "stranger"):
        data.identities[name] = factory.identity(getattr(data, name), oa_openid=f"o_{name}_{code}")
    factory.db.session.commit()
    return data


@pytest.fixture
def console(factory) -> Console:
    return build_console(factory)


def login_as(client, data: Console, who: str) -> None:
    from app.web.auth import SESSION_KEY

    with client.session_transaction() as s:
        s.clear()
        s[SESSION_KEY] = data.identities[who].id
