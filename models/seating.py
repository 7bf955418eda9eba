"""Seating (座次): a hall's seat plan per meeting or session, and who sits where.

A plan's geometry is small and edited as a whole, so it lives on the plan row: rows × seats per
row, the aisles (gaps after given seat positions, counted from the audience's left), the rostrum
(主席台: rows of its own in front of the hall), the delegations' sections and the blocked seats. The
assignments are rows of their own, one per seated person, so that the database itself forbids two
people on one seat and one person on two seats of a plan (the two unique constraints): every writer
(auto-assign, a manual move, a swap, two organizers at once) ends at that guard.

Coordinates: ``row`` is the hall's row number (1 = the front row); the rostrum's rows are stored as
negative numbers (-1 = the rostrum's front row), so one unique key covers both. ``seat`` is the seat's
*position* from the audience's left (1…seats per row), not the number printed on the chair: the number
depends on the plan's numbering convention (app/services/logistics/seat_assign.py ``seat_number``),
which the organizer may change without anyone moving.
"""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import JSONType, Model, UTCDateTime, created_at_column, utcnow


class SeatNumbering(enum.StrEnum):
    #: 1, 2, 3 … from the audience's left.
    LTR = "ltr"
    #: 单双号 from the centre: 1 in the centre, odd numbers to the audience's right, even to the left.
    ODD_RIGHT = "odd_right"
    #: The mirror image (some halls number odd seats on the audience's left).
    ODD_LEFT = "odd_left"


class SeatPlan(Model):
    __tablename__ = "seat_plans"
    __table_args__ = (sa.UniqueConstraint("meeting_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    #: The session this plan seats; None: the whole meeting (every session in the same hall).
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"),
                                                   index=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    rows: Mapped[int] = mapped_column()
    seats_per_row: Mapped[int] = mapped_column()
    #: Seat positions an aisle follows ([8, 16]: an aisle between seats 8|9 and 16|17).
    aisles: Mapped[list[int]] = mapped_column(JSONType, default=list)
    numbering: Mapped[str] = mapped_column(sa.String(12), default=SeatNumbering.LTR)
    #: The rostrum (主席台): its rows and seats per row (0 rows: no rostrum).
    rostrum_rows: Mapped[int] = mapped_column(default=0, server_default="0")
    rostrum_seats: Mapped[int] = mapped_column(default=0, server_default="0")
    #: Who sits on the rostrum, in rank order (contact ids); empty: the invitees whose role is 领导.
    rostrum_people: Mapped[list[int]] = mapped_column(JSONType, default=list)
    #: [{"group": "第一代表团", "rows": [1, 3], "seats": [1, 8]}]: a block of rows and seat positions
    #: reserved for a delegation (``Invitee.group_name``).
    sections: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    #: [{"row": 3, "seat": 5, "reason": "reserved"|"broken"}]: seats nobody is given (row < 0: rostrum).
    blocked: Mapped[list[dict]] = mapped_column(JSONType, default=list)
    #: The plan whose seat goes on the service card and the door's reply (one per meeting at most).
    on_card: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 server_default=sa.func.now())


class SeatAssignment(Model):
    __tablename__ = "seat_assignments"
    __table_args__ = (sa.UniqueConstraint("plan_id", "row", "seat"),
                      sa.UniqueConstraint("plan_id", "contact_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("seat_plans.id", ondelete="CASCADE"))
    #: Hall row (1 = front); negative: the rostrum's row (-1 = its front row).
    row: Mapped[int] = mapped_column()
    #: Position from the audience's left (see the module's docstring).
    seat: Mapped[int] = mapped_column()
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    #: Placed by hand: auto-assign keeps it.
    pinned: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow,
                                                 server_default=sa.func.now())
