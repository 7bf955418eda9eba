"""The contact directory (通讯录) and the record of each import into it."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column, utcnow
from models.units import Unit


class Contact(Model):
    __tablename__ = "contacts"
    __table_args__ = (
        # Upsert key of an import: one person per phone within a unit.
        sa.UniqueConstraint("unit_id", "phone"),
        sa.Index("ix_contacts_phone", "phone"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="RESTRICT"))
    name: Mapped[str] = mapped_column(sa.String(64))
    #: Normalized: 11-digit mobile, or a landline where the unit allows it.
    phone: Mapped[str] = mapped_column(sa.String(32))
    title: Mapped[str | None] = mapped_column(sa.String(64))
    department: Mapped[str | None] = mapped_column(sa.String(64))
    tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: People who leave a directory are deactivated, never deleted: their history stays.
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, server_default=sa.func.now()
    )

    unit: Mapped[Unit] = relationship()


class ContactImport(Model):
    """One upload of a unit's directory: what was in the file and what it changed."""

    __tablename__ = "contact_imports"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    #: Who: a unit account, an admin, or ``cli``.
    actor: Mapped[str] = mapped_column(sa.String(64))
    file_name: Mapped[str] = mapped_column(sa.String(255))
    file_sha256: Mapped[str] = mapped_column(sa.String(64))
    #: ``previewed`` (dry run held for confirmation), ``applied``, ``discarded``.
    status: Mapped[str] = mapped_column(sa.String(16), default="previewed")
    rows_total: Mapped[int] = mapped_column(default=0)
    added: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    deactivated: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    #: Row-by-row report: rejected rows with code and message, and what each accepted row does.
    report: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = created_at_column()
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[Unit] = relationship()
