"""Who may see a meeting and its content: the rules every door obeys.

:func:`visible_meeting` — the meeting itself (intro, agenda, venue, times).

A meeting past its draft (published, closed, archived) is shown to anyone who has its code. A
draft is shown only to that meeting's organizers (any right); anyone else gets the very answer an
unknown code gets, so a draft's intro and agenda stay unseen, and its existence unconfirmed, until
it is published.
"""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.meetings.organizers import organizer_right
from models import Admission, Contact, Invitee, Meeting, MeetingState, MeetingUnit


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


def participating_meeting(meeting: Meeting | str, contact: Contact | None) -> Meeting:
    """``meeting`` if ``contact`` takes part in it: its votes', surveys' and documents' titles and
    questions are for them only (the meeting itself is public once published, its business is not).

    A participant is an organizer of the meeting (any right), an approved invitee, or, for a meeting
    open to listed units, an active member of one. A walk-in waiting for approval is not one yet.

    :raise MeetingError: ``meeting_not_found`` as :func:`visible_meeting`; ``not_participant`` (403).
    """
    meeting = visible_meeting(meeting, contact)
    if contact is None or not contact.active:
        raise MeetingError("not_participant")
    if organizer_right(meeting, contact) is not None:
        return meeting
    invited = db.session.scalar(
        select(Invitee.status).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id)
    )
    if invited == "approved":
        return meeting
    if invited is None and meeting.admission == Admission.UNITS and db.session.scalar(
            select(MeetingUnit.unit_id).where(MeetingUnit.meeting_id == meeting.id,
                                              MeetingUnit.unit_id == contact.unit_id)) is not None:
        return meeting
    raise MeetingError("not_participant")
