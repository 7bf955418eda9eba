"""Who reads a meeting's documents: an organizer with the ``documents`` right, or an approved
invitee within each document's access setting. Its own module so that both the materials and the
保密提醒 gate (which materials asks on every open) can ask it without importing each other."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.services.documents.errors import DocumentError
from app.services.meetings.organizers import OrganizerError, require_right
from models import Contact, Document, Invitee, Meeting

# --- Who is looking -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Viewer:
    contact: Contact
    organizer: bool
    invitee: Invitee | None

    def may_see(self, document: Document) -> bool:
        return self.organizer or (document.recalled_at is None and self.allowed(document))

    def allowed(self, document: Document) -> bool:
        """Open to this viewer by its access setting, recall aside."""
        if self.organizer:
            return True
        if self.invitee is None:
            return False
        if document.access == "all":
            return True
        return (self.invitee.role in (document.allowed_roles or [])
                or (self.invitee.group_name or "") in (document.allowed_groups or []))


def is_document_organizer(meeting: Meeting, contact: Contact | None) -> bool:
    try:
        require_right(meeting, contact, "documents")
    except OrganizerError:
        return False
    return True


def viewer_for(meeting: Meeting, contact: Contact | None) -> Viewer:
    """The visitor as a reader of this meeting's documents, or ``not_invited``."""
    if contact is None:
        raise DocumentError("not_invited")
    if is_document_organizer(meeting, contact):
        return Viewer(contact, True, None)
    invitee = db.session.scalar(
        select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id,
                              Invitee.status == "approved")
    )
    if invitee is None:
        raise DocumentError("not_invited")
    return Viewer(contact, False, invitee)
