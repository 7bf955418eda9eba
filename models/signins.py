"""Sign-in records: append-only, one live record per person per session, denials kept."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, UTCDateTime, utcnow
from models.contacts import Contact


class SignInMethod(enum.StrEnum):
    SCAN = "scan"  # official-account QR scan
    H5 = "h5"  # H5 page (binding page, meeting page)
    MINIPROGRAM = "mp"
    PROXY = "proxy"  # 代签 by meeting staff
    MANUAL = "manual"  # entered by staff from a paper list
    DESK = "desk"  # a staff scanner's scan of a personal code, synced when the network let it (offline door)


class SignIn(Model):
    """One sign-in. Rows are never deleted; a mistaken one is revoked (who, when, why).

    The partial unique index is the real guard against double sign-in: whatever the concurrency,
    the database admits one live row per (session, contact).
    """

    __tablename__ = "signins"
    __table_args__ = (
        sa.Index(
            "uq_signins_live_session_contact",
            "session_id",
            "contact_id",
            unique=True,
            postgresql_where=sa.text("revoked_at IS NULL"),
            sqlite_where=sa.text("revoked_at IS NULL"),
        ),
        sa.Index("ix_signins_meeting_signed", "meeting_id", "signed_at"),
        # No two sign-ins share an order number, even a revoked one's is never reused.
        sa.UniqueConstraint("session_id", "seq"),
    )

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)
    #: "第 N 位": 1..N within the session, no gaps. Taken by the database when the sign-in
    #: commits (trigger ``signins_take_seq``), so it is NULL until then: read it after the commit.
    seq: Mapped[int | None] = mapped_column()
    method: Mapped[str] = mapped_column(sa.String(16))
    #: Staff member who signed someone in on their behalf (代签) or by hand.
    actor_contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    late: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Client nonce (mini program) that makes a retried request safe.
    nonce: Mapped[str | None] = mapped_column(sa.String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL")
    )
    revoke_reason: Mapped[str | None] = mapped_column(sa.String(200))

    contact: Mapped[Contact] = relationship(foreign_keys=[contact_id])


class SignInDenial(Model):
    """A refused sign-in attempt, kept with its reason code so staff can see why."""

    __tablename__ = "signin_denials"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="SET NULL"))
    identity_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("wechat_identities.id", ondelete="SET NULL")
    )
    method: Mapped[str] = mapped_column(sa.String(16))
    reason: Mapped[str] = mapped_column(sa.String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
