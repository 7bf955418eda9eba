"""Shared data for the vote tests: a meeting with 代表 and 列席, some signed in, an organizer."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models import Contact, Meeting, OrganizerRight


@dataclass
class VoteMeeting:
    meeting: Meeting
    delegates: list[Contact]
    observers: list[Contact]
    organizer: Contact
    organizer_identity_id: int

    @property
    def people(self) -> list[Contact]:
        return self.delegates + self.observers


def build(factory, code: str = "VOTE1", *, delegates: int = 4, observers: int = 2, signed_in: int | None = None,
          db=None) -> VoteMeeting:
    """``signed_in`` people (default: all) are signed in to the first session."""
    from app.services.meetings.organizers import add_organizer
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in

    unit = factory.unit(name="区人大常委会办公室")
    meeting = factory.meeting(code, title="区人民代表大会第三次会议")
    dels, obs = [], []
    for i in range(delegates):
        c = factory.contact(unit, name=f"代表{i}")
        factory.invitee(meeting, c, role="代表", group_name="第一代表团" if i % 2 == 0 else "第二代表团")
        dels.append(c)
    for i in range(observers):
        c = factory.contact(unit, name=f"列席{i}")
        factory.invitee(meeting, c, role="列席")
        obs.append(c)
    session = get_session(meeting)
    everyone = dels + obs
    for c in everyone[: len(everyone) if signed_in is None else signed_in]:
        sign_in(meeting, session, c, method="scan", check_window=False)
    organizer = factory.contact(unit, name="会务李")
    add_organizer(meeting.code, organizer.phone, actor="test", right=OrganizerRight.STAFF)
    identity = factory.identity(organizer, oa_openid=f"o_vote_org_{code}")
    return VoteMeeting(meeting, dels, obs, organizer, identity.id)


@pytest.fixture
def vm(factory) -> VoteMeeting:
    return build(factory)


#: How long a ballot waits for its batch in tests about the group commit. The app answers ``busy``
#: after the group commit's 4 s (app/batching.py: a person at a phone should not wait longer), which a
#: loaded 2-core machine running other suites (a checkpoint, a CREATE DATABASE) can exceed; these tests
#: are about one ballot per person and totals that add up, not latency (docs/benchmarks.md is).
PATIENT_WAIT_S = 60.0


@pytest.fixture
def patient_ballots(monkeypatch) -> None:
    """The ballot group commit waits ``PATIENT_WAIT_S`` for a batch before answering ``busy``."""
    from app import batching
    from app.services.votes import ballots

    def group_commit(name, process, **options):
        return batching.group_commit(name, process, **{**options, "wait_s": PATIENT_WAIT_S})

    monkeypatch.setattr(ballots, "group_commit", group_commit)


def login(client, identity_id: int) -> None:
    from app.web.auth import SESSION_KEY

    with client.session_transaction() as s:
        s[SESSION_KEY] = identity_id
