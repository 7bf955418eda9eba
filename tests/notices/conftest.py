"""A meeting with invitees in two units and two 代表团, some following the account, and its organizer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from models import Contact, Meeting, OrganizerRight


@dataclass
class NoticeMeeting:
    meeting: Meeting
    people: list[Contact]
    organizer: Contact
    organizer_identity: int
    openids: dict[int, str] = field(default_factory=dict)


def build(factory, sim, *, size: int = 12, following: int | None = None, code: str = "NOTE1") -> NoticeMeeting:
    """``size`` invitees; the first ``following`` (default: all but a quarter) bound and following."""
    from app.services.meetings.organizers import add_organizer

    a = factory.unit(name="区发展和改革局")
    b = factory.unit(name="区财政局")
    starts = datetime.now(UTC) + timedelta(days=3)
    meeting = factory.meeting(code, title="全区经济工作会议", starts_at=starts, venue="区行政中心三楼会议室")
    people = []
    for i in range(size):
        person = factory.contact(a if i % 2 == 0 else b, name=f"代表{i}", phone=f"139{i:08d}")
        factory.invitee(meeting, person, group_name="第一代表团" if i < size // 2 else "第二代表团")
        people.append(person)
    organizer = factory.contact(a, name="会务张")
    add_organizer(meeting.code, organizer.phone, actor="test", right=OrganizerRight.STAFF)
    org_identity = factory.identity(organizer, oa_openid=f"o_org_{code}")
    openids = {}
    following = size - size // 4 if following is None else following
    for i, person in enumerate(people[:following]):
        openid = f"o_{code}_{i}"
        sim.state.create_user(oa_openid=openid, subscribed=True)
        factory.identity(person, oa_openid=openid)
        openids[person.id] = openid
    factory.db.session.commit()
    return NoticeMeeting(meeting, people, organizer, org_identity.id, openids)


@pytest.fixture
def nm(factory, sim) -> NoticeMeeting:
    return build(factory, sim)


def inbox(sim, openid: str) -> list[dict]:
    user = sim.state.get_user(openid)
    return [m for m in user.inbox if m["kind"] == "template"] if user else []


def login(client, identity_id: int) -> None:
    from app.web.auth import SESSION_KEY

    with client.session_transaction() as s:
        s[SESSION_KEY] = identity_id
