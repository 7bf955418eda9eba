"""Who may see a meeting (its intro, agenda, venue and times): the one rule every door obeys.

A meeting past its draft (published, closed, archived) is shown to anyone who has its code. A
draft is shown only to that meeting's organizers (any right); anyone else gets the very answer an
unknown code gets, so a draft's intro and agenda stay unseen, and its existence unconfirmed, until
it is published.
"""

from __future__ import annotations

from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.meetings.organizers import organizer_right
from models import Contact, Meeting, MeetingState


def visible_meeting(meeting: Meeting | str, contact: Contact | None) -> Meeting:
    """``meeting`` (or the meeting with that code) if ``contact`` may see it; ``contact`` is the
    acting person, None for a visitor not bound to the directory.

    :raise MeetingError: ``meeting_not_found`` (404), for an unknown code and for a draft shown
        to anyone but its organizers alike.
    """
    code = meeting if isinstance(meeting, str) else meeting.code  # as asked, for the message
    if isinstance(meeting, str):
        meeting = get_meeting(code)
    if meeting.state == MeetingState.DRAFT and organizer_right(meeting, contact) is None:
        raise MeetingError("meeting_not_found", code=code)
    return meeting
