"""保密提醒: a meeting's confidentiality terms and each person's confirmation of a version of them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Model, UTCDateTime, created_at_column, utcnow


class ConfidentialityTerms(Model):
    """A meeting's terms, once written: until then the meeting uses the default text as version 1
    (app/services/documents/confidentiality.py). ``version`` goes up each time the text changes."""

    __tablename__ = "confidentiality_terms"

    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    text: Mapped[str] = mapped_column(sa.Text())
    version: Mapped[int] = mapped_column(default=1)
    #: Documents open only after the current version is confirmed.
    required: Mapped[bool] = mapped_column(default=True)
    #: The text's hash, so a confirmation can show exactly which words it was given for.
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))


class ConfidentialityConfirmation(Model):
    """One person's 我已阅读并遵守 for one version; the unique key makes a retry a no-op."""

    __tablename__ = "confidentiality_confirmations"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int] = mapped_column()
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: ``h5`` or ``mp``.
    channel: Mapped[str] = mapped_column(sa.String(8))
    confirmed_at: Mapped[datetime] = created_at_column()
