"""The audit log: who did what to which object, and from where."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import JSONType, Model, UTCDateTime, utcnow


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_meeting_at", "meeting_id", "at"),)

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    #: e.g. ``contact:12``, ``unit_account:3``, ``openid:o…``, ``cli``, ``system``.
    actor: Mapped[str] = mapped_column(sa.String(96))
    #: Dotted verb, e.g. ``signin.revoke``, ``identity.bind_failed``, ``contacts.import``.
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"))
    target: Mapped[str | None] = mapped_column(sa.String(96))
    ip: Mapped[str | None] = mapped_column(sa.String(64))
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
