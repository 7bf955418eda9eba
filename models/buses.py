"""Buses (乘车): a meeting's routes (酒店—会场 at 07:30), their cars, and who rides in which car.

One person has at most one car per route (the unique guard); that a car never carries more people
than seats is the service's rule, checked under a lock on the route
(app/services/logistics/buses.py).
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Model, UTCDateTime, created_at_column


class BusRoute(Model):
    __tablename__ = "bus_routes"
    __table_args__ = (sa.Index("ix_bus_routes_meeting_id_departs_at", "meeting_id", "departs_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"))
    #: 酒店—会场, 1 号线 … (the card's 乘车路线).
    name: Mapped[str] = mapped_column(sa.String(64))
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_place: Mapped[str] = mapped_column(sa.String(100), default="")
    to_place: Mapped[str] = mapped_column(sa.String(100), default="")
    notes: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = created_at_column()

    cars: Mapped[list[BusCar]] = relationship(
        back_populates="route", order_by="(BusCar.position, BusCar.id)", cascade="all, delete-orphan",
        passive_deletes=True)


class BusCar(Model):
    __tablename__ = "bus_cars"
    __table_args__ = (sa.UniqueConstraint("route_id", "label"),
                      sa.CheckConstraint("seats > 0", name="seats_positive"))

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(sa.ForeignKey("bus_routes.id", ondelete="CASCADE"))
    #: "1 号车" …: what the card's 车号 says.
    label: Mapped[str] = mapped_column(sa.String(16))
    plate: Mapped[str] = mapped_column(sa.String(16), default="")
    seats: Mapped[int] = mapped_column()
    position: Mapped[int] = mapped_column(default=0, server_default="0")
    driver_name: Mapped[str] = mapped_column(sa.String(32), default="")
    driver_phone: Mapped[str] = mapped_column(sa.String(32), default="")

    route: Mapped[BusRoute] = relationship(back_populates="cars")


class BusAssignment(Model):
    __tablename__ = "bus_assignments"
    __table_args__ = (sa.UniqueConstraint("route_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(sa.ForeignKey("bus_routes.id", ondelete="CASCADE"))
    car_id: Mapped[int] = mapped_column(sa.ForeignKey("bus_cars.id", ondelete="CASCADE"), index=True)
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True)
    assigned_by: Mapped[str] = mapped_column(sa.String(96), default="auto")
    created_at: Mapped[datetime] = created_at_column()
