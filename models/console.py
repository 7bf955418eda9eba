"""Who may use the organizer console beyond a single meeting: system administrators and the
organizers of an organizing unit (主办单位)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, created_at_column
from models.contacts import Contact
from models.units import Unit


class SystemAdmin(Model):
    """The office that runs the deployment: manages units, unit-office accounts and who organizes."""

    __tablename__ = "system_admins"

    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()

    contact: Mapped[Contact] = relationship()


class UnitOrganizer(Model):
    """A person who creates and runs the meetings of an organizing unit; owner of every one of them."""

    __tablename__ = "unit_organizers"

    unit_id: Mapped[int] = mapped_column(sa.ForeignKey("units.id", ondelete="CASCADE"), primary_key=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
    created_at: Mapped[datetime] = created_at_column()

    unit: Mapped[Unit] = relationship()
    contact: Mapped[Contact] = relationship()
