"""Lodging (住宿): a meeting's hotels, their room types and rooms, and who sleeps where.

A room's capacity is its type's beds. Two rules are the database's: one room per person per
meeting (``uq_room_assignments_meeting_id_contact_id``) and a room belongs to one meeting's hotel.
"Never over capacity" and "never mixed gender in a shared room" need a count across rows, so the
service checks them under a row lock on the room (app/services/logistics/lodging.py), which every
writer of a room's assignments takes first.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column


class Hotel(Model):
    __tablename__ = "hotels"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    address: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    created_at: Mapped[datetime] = created_at_column()


class RoomType(Model):
    """标准间, 单人间, 套房 …: how many sleep in it, the price band the organizer tells people, and
    for whom it is (roles; empty: anyone)."""

    __tablename__ = "room_types"
    __table_args__ = (sa.UniqueConstraint("hotel_id", "name"),
                      sa.CheckConstraint("beds BETWEEN 1 AND 8", name="beds_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    hotel_id: Mapped[int] = mapped_column(sa.ForeignKey("hotels.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(sa.String(32))
    beds: Mapped[int] = mapped_column()
    price: Mapped[str] = mapped_column(sa.String(32), default="")
    #: InviteeRole values allowed in this type's rooms; empty: anyone.
    roles: Mapped[list[str]] = mapped_column(JSONType, default=list)


class Room(Model):
    __tablename__ = "rooms"
    __table_args__ = (sa.UniqueConstraint("hotel_id", "number"),
                      sa.CheckConstraint("gender IN ('男', '女')", name="gender_value"))

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The hotel's meeting, kept here so a meeting's rooms are one indexed read.
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    hotel_id: Mapped[int] = mapped_column(sa.ForeignKey("hotels.id", ondelete="CASCADE"), index=True)
    # RESTRICT: a type with rooms is not deleted under them.
    type_id: Mapped[int] = mapped_column(sa.ForeignKey("room_types.id", ondelete="RESTRICT"), index=True)
    number: Mapped[str] = mapped_column(sa.String(16))
    floor: Mapped[int | None] = mapped_column()
    #: Only "男" or only "女" (a floor kept for one gender); None: either (shared rooms still never mix).
    gender: Mapped[str | None] = mapped_column(sa.String(1))
    accessible: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    hotel: Mapped[Hotel] = relationship()
    type: Mapped[RoomType] = relationship()


class RoomAssignment(Model):
    __tablename__ = "room_assignments"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    room_id: Mapped[int] = mapped_column(sa.ForeignKey("rooms.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: Set by hand (or kept by hand): one-click allocation leaves it where it is.
    pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: The nights, when they differ from the registration's arrival and departure.
    night_from: Mapped[date | None] = mapped_column(sa.Date)
    night_to: Mapped[date | None] = mapped_column(sa.Date)
    assigned_by: Mapped[str] = mapped_column(sa.String(96), default="")
    created_at: Mapped[datetime] = created_at_column()


class LodgingState(Model):
    """One row per meeting with lodging: when the allocation was published (people then see their
    room, and any later change to it is sent to them). Its row lock also serializes allocations."""

    __tablename__ = "lodging_states"

    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), primary_key=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by: Mapped[str | None] = mapped_column(sa.String(96))
    allocated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
