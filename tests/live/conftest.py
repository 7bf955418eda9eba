"""Shared data for the live headcount tests: two units, invitees in two 代表团, an organizer."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from models import Contact, Meeting, OrganizerRight


@dataclass
class LiveMeeting:
    meeting: Meeting
    people: list[Contact]
    organizer: Contact
    organizer_openid: str
    units: list = field(default_factory=list)


def build_meeting(factory, code: str = "LIVE1", *, size: int = 6, mask_names: bool = False) -> LiveMeeting:
    from app.services.meetings.organizers import add_organizer

    a = factory.unit(name="区发展和改革局")
    b = factory.unit(name="区财政局")
    meeting = factory.meeting(code, title="全区经济工作会议")
    meeting.mask_names = mask_names
    people = []
    for i in range(size):
        unit = a if i % 2 == 0 else b
        c = factory.contact(unit, name=f"代表{i}")
        factory.invitee(meeting, c, group_name="第一代表团" if i < size // 2 else "第二代表团")
        people.append(c)
    organizer = factory.contact(a, name="会务张")
    add_organizer(meeting.code, organizer.phone, actor="test", right=OrganizerRight.STAFF)
    openid = f"o_org_{code}"
    factory.identity(organizer, oa_openid=openid)
    # Committed (to a savepoint of the test's transaction) so a refused request's rollback keeps it.
    factory.db.session.commit()
    return LiveMeeting(meeting, people, organizer, openid, [a, b])


@pytest.fixture
def live(factory) -> LiveMeeting:
    return build_meeting(factory)


def login(client, identity_id: int) -> None:
    from app.web.auth import SESSION_KEY

    with client.session_transaction() as s:
        s[SESSION_KEY] = identity_id


@pytest.fixture
def wired(db, factory, live, sim):
    """Everyone but the last two people has WeChat bound and follows the account."""
    openids = {}
    for i, person in enumerate(live.people[:-2]):
        openid = f"o_att_{i}"
        sim.state.create_user(oa_openid=openid, subscribed=True)
        factory.identity(person, oa_openid=openid)
        openids[person.id] = openid
    db.session.commit()
    return openids


def templates(sim, openid):
    """The template messages the account sent this person, as their phone holds them."""
    user = sim.state.get_user(openid)
    return [m for m in user.inbox if m["kind"] == "template"] if user else []
