"""The personal service card (服务卡): what an attendee needs to find their way at a meeting.

Organizers fill the card's fields at four scopes, the most specific winning field by field:
the meeting, a role (身份), a group (分组 / 代表团, ``Invitee.group_name``), one person. Each scope is
one row holding only the fields set there, so a person's card is the overlay of at most four rows
(app/services/cards/resolve.py).
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import JSONType, Model, UTCDateTime, utcnow


class CardScope(enum.StrEnum):
    MEETING = "meeting"
    ROLE = "role"
    GROUP = "group"
    PERSON = "person"


class ServiceCard(Model):
    __tablename__ = "service_cards"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "scope", "scope_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(sa.String(8))
    #: ``""`` for the meeting, the role or group name, or the person's contact id as text: one
    #: unique key for every scope.
    scope_key: Mapped[str] = mapped_column(sa.String(64), default="")
    #: Set for a person's card only, so removing the contact removes their card.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: {field: text}, only the fields set at this scope (app/services/cards/fields.py names them).
    fields: Mapped[dict] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 server_default=sa.func.now())
    updated_by: Mapped[str] = mapped_column(sa.String(96), default="")
