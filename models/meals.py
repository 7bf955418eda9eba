"""Meals (用餐): a meeting's sittings, each with its table plan, and who sits at which table.

A sitting is one meal at one place and time (午餐 in the 2 楼宴会厅, 12:00–13:00). Its tables are
numbered or named (``"1"``, ``"主桌"``), each with a seat count; a head table (主桌) takes the
leaders by rank, a reserved table takes only its delegation. One person has at most one table per
sitting (the unique guard); that a table never gets more people than seats is the service's rule,
checked under a lock on the sitting (app/services/logistics/meals.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, UTCDateTime, created_at_column


class MealSitting(Model):
    __tablename__ = "meal_sittings"
    __table_args__ = (sa.Index("ix_meal_sittings_meeting_id_starts_at", "meeting_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: 午餐, 晚餐, 工作餐 … (the card's 餐次, at most 16 characters there too).
    name: Mapped[str] = mapped_column(sa.String(16))
    #: The day and the times, as aware UTC (typed and shown in China time).
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    place: Mapped[str] = mapped_column(sa.String(100), default="")
    notes: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = created_at_column()

    tables: Mapped[list[MealTable]] = relationship(
        back_populates="sitting", order_by="(MealTable.position, MealTable.id)", cascade="all, delete-orphan",
        passive_deletes=True)


class MealTable(Model):
    __tablename__ = "meal_tables"
    __table_args__ = (sa.UniqueConstraint("sitting_id", "label"),
                      sa.CheckConstraint("seats > 0", name="seats_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_sittings.id", ondelete="CASCADE"))
    #: "1", "2" … or "主桌": what the card's 桌号 says.
    label: Mapped[str] = mapped_column(sa.String(16))
    seats: Mapped[int] = mapped_column()
    #: The order tables fill in (the plan's order, head tables first by convention).
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    #: 主桌: the automatic plan seats the leaders here, by rank.
    head: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: Reserved for this delegation (``Invitee.group_name``): the automatic plan seats nobody else.
    reserved_group: Mapped[str | None] = mapped_column(sa.String(64))

    sitting: Mapped[MealSitting] = relationship(back_populates="tables")


class MealAssignment(Model):
    __tablename__ = "meal_assignments"
    __table_args__ = (sa.UniqueConstraint("sitting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sitting_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_sittings.id", ondelete="CASCADE"))
    table_id: Mapped[int] = mapped_column(sa.ForeignKey("meal_tables.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: "auto" (the automatic plan) or the console user / CLI who placed the person by hand.
    assigned_by: Mapped[str] = mapped_column(sa.String(96), default="auto")
    created_at: Mapped[datetime] = created_at_column()
