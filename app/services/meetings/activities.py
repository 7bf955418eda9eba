"""What an attendee can take part in right now at a meeting: open votes and open surveys."""

from __future__ import annotations

from dataclasses import dataclass

from app.services.votes import rules as vote_rules
from app.services.votes import surveys, votes
from models import Meeting, Survey


@dataclass(frozen=True)
class OpenActivities:
    open_votes: int
    surveys: list[Survey]


def open_activities(meeting: Meeting) -> OpenActivities:
    open_votes = [v for v in votes.visible_votes(meeting) if vote_rules.effective_state(v) == vote_rules.OPEN]
    return OpenActivities(open_votes=len(open_votes), surveys=surveys.list_surveys(meeting, state="open"))
