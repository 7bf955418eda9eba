"""The offline door's world: a meeting with invitees, two desks, and codes made for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from app.services.signin import desks, personal_codes
from app.services.signin.desk_sync import ScanIn
from models import Contact, Desk, Meeting


@dataclass
class Door:
    meeting: Meeting
    other: Meeting
    owner: Contact
    people: list[Contact]
    desks: list[Desk]
    tokens: list[str]
    codes: dict[int, str] = field(default_factory=dict)

    def scan(self, person: Contact | str, at: datetime, *, scan_id: str | None = None, session: int = 1) -> ScanIn:
        code = person if isinstance(person, str) else self.codes[person.id]
        return ScanIn(scan_id or uuid.uuid4().hex, code, at, session)


def build_door(factory, *, people: int = 6, desks_n: int = 2) -> Door:
    meeting = factory.meeting(title="离线签到测试会议")
    other = factory.meeting(title="另一个会议")
    unit = factory.unit(name="区财政局")
    owner = factory.contact(unit, name="会务李")
    persons = [factory.contact(unit, name=f"参会{i}") for i in range(people)]
    for p in persons:
        factory.invitee(meeting, p)
    factory.invitee(other, persons[0])
    issued = [desks.issue_desk(meeting, name=f"{i + 1}号签到台", actor=owner) for i in range(desks_n)]
    door = Door(meeting, other, owner, persons, [d.desk for d in issued], [d.token for d in issued])
    door.codes = {p.id: personal_codes.personal_code(meeting, p) for p in persons}
    factory.db.session.flush()
    return door


@pytest.fixture
def door(factory):
    return build_door(factory)


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)
