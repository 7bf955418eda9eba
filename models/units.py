"""Units (单位) and the accounts their offices log in with."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column


class Unit(Model):
    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short stable code used by CLIs and files, e.g. ``FGJ``.
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    #: Full name as people write it, e.g. 区发展和改革局.
    name: Mapped[str] = mapped_column(sa.String(128))
    #: Other names people type for this unit (发改局, 区发改委 …); matched at identity binding.
    aliases: Mapped[list[str]] = mapped_column(JSONType, default=list)
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"))
    #: Some units (e.g. a duty office) list landlines instead of mobiles.
    allow_landline: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Set on a meeting's "报名人员" unit: the registrants approved without a directory entry.
    registration_meeting_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("meetings.id", ondelete="SET NULL", use_alter=True), index=True)
    created_at: Mapped[datetime] = created_at_column()

    parent: Mapped[Unit | None] = relationship(remote_side=[id])


class UnitAccount(Model):
    """A login for a unit office's directory page. Created by an administrator."""

    __tablename__ = "unit_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()

    unit: Mapped[Unit] = relationship()
