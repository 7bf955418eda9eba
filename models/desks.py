"""The offline door: sign-in desks (staff scanners), the scans they sync, revoked personal codes.

A desk is a device at the door holding a token issued from the console, scoped to one meeting. Its
scans reach us when the network lets them, in batches that may repeat: (desk, scan id) is unique, so
a scan synced twice is one row. Every scan is kept, the flagged ones too (a revoked or unknown code,
another meeting's code); the sign-in it makes is the ordinary one of ``signins``.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Model, UTCDateTime, created_at_column


class Desk(Model):
    """A staff scanner at the door. Only the token's SHA-256 is stored: the token is shown once."""

    __tablename__ = "desks"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    #: When the desk last fetched its data or synced (what the organizer sees of it).
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeskScan(Model):
    """One scan at a desk, as the desk recorded it (device time), kept whatever it decided."""

    __tablename__ = "desk_scans"
    __table_args__ = (
        # A batch sent again (a lost answer, a retry) adds nothing.
        sa.UniqueConstraint("desk_id", "scan_id"),
        sa.Index("ix_desk_scans_meeting_contact", "meeting_id", "contact_id"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    desk_id: Mapped[int] = mapped_column(sa.ForeignKey("desks.id", ondelete="CASCADE"))
    #: The desk's own id for the scan (a UUID it made when scanning).
    scan_id: Mapped[str] = mapped_column(sa.String(64))
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    #: The person the code names (NULL when it names no one we know, or could not be read).
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    #: What was read, cut to 200 characters (a forged code is kept for the organizer to see).
    code: Mapped[str] = mapped_column(sa.String(200))
    #: When the scan was made: the sign-in's real time. The device's clock, corrected by how far it
    #: was off when it synced if that was more than a couple of minutes (a phone reset to 1970).
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The device's clock as it was (what it sent).
    device_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = created_at_column()
    #: What the desk showed (签到成功, 已签到…), as it said it; the server decides again.
    verdict: Mapped[str | None] = mapped_column(sa.String(32))
    #: Why the scan signed no one in (``revoked``, ``forged``, ``other_meeting``, a refusal code…);
    #: NULL for a scan of a valid code of someone who may sign in.
    flag: Mapped[str | None] = mapped_column(sa.String(32))


class CodeRevocation(Model):
    """A personal code withdrawn (a lost badge, a phone in the wrong hands): codes of this
    generation stop working; the person's next code is of the next generation."""

    __tablename__ = "code_revocations"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id", "generation"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(200))
    revoked_by_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime] = created_at_column()
