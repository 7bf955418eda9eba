"""What the logistics allocation puts on a person's card: their room, seat, meal and bus.

An allocation (app/services/logistics) is the truth of where a person sleeps, sits, eats and rides,
so its fields win over anything typed on the card at any scope. Rooms and seats hold for the whole
meeting (``fixed``); meals and buses change through the day, so each person has a timeline of
``(until, fields)`` in time order and the card shows the first entry not yet over at ``now``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime

from app.services.logistics import lodging, meals, seating
from models import (
    BusAssignment,
    BusCar,
    BusRoute,
    Hotel,
    LodgingState,
    MealAssignment,
    MealSitting,
    MealTable,
    Room,
    RoomAssignment,
    SeatAssignment,
    SeatPlan,
)


@dataclass(frozen=True)
class Allocated:
    #: contact id -> fields that hold all meeting long (hotel, room, seat)
    fixed: dict[int, dict[str, str]] = field(default_factory=dict)
    #: contact id -> [(until, fields)] in time order (meal sittings, bus departures)
    timed: dict[int, list[tuple[datetime, dict[str, str]]]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.fixed or self.timed)

    def fields_at(self, contact_id: int, now: datetime) -> dict[str, str]:
        out = dict(self.fixed.get(contact_id, {}))
        seen: set[str] = set()
        for until, fields in self.timed.get(contact_id, ()):
            if until <= now:
                continue
            # The first entry not over of each kind (the next meal, the next bus), whole: a later
            # meal's table never fills in a field the next meal leaves empty.
            kinds = {key.split("_", 1)[0] for key in fields}
            if kinds - seen:
                out.update({k: v for k, v in fields.items() if k.split("_", 1)[0] not in seen})
                seen |= kinds
        return out


def load(meeting_id: int, contact_ids: Collection[int] | None = None) -> Allocated:
    """Every provider's fields for the meeting (or only ``contact_ids``: one person's page need not
    read a congress's): a few queries, read when the book is."""
    fixed: dict[int, dict[str, str]] = {}
    timed: dict[int, list[tuple[datetime, dict[str, str]]]] = {}
    for provider in FIXED_PROVIDERS:
        for contact_id, values in provider(meeting_id, contact_ids).items():
            fixed.setdefault(contact_id, {}).update({k: v for k, v in values.items() if v})
    for provider in TIMED_PROVIDERS:
        for contact_id, entries in provider(meeting_id, contact_ids).items():
            timed.setdefault(contact_id, []).extend(entries)
    for entries in timed.values():
        entries.sort(key=lambda e: e[0])
    return Allocated(fixed, timed)


#: ``(meeting_id, contact_ids | None) -> {contact_id: {field: text}}``: hotel room, seat.
FIXED_PROVIDERS: tuple = (lodging.card_fields, seating.card_fields)
#: ``(meeting_id, contact_ids | None) -> {contact_id: [(until, {field: text})]}``: meals, buses.
TIMED_PROVIDERS: tuple = (meals.card_timeline,)

#: The rows the providers read: a flushed one invalidates the book (app/services/cards/book.py).
SOURCES: tuple[type, ...] = (Hotel, Room, RoomAssignment, LodgingState, SeatPlan, SeatAssignment, MealSitting,
                              MealTable, MealAssignment, BusRoute, BusCar, BusAssignment)
