"""Putting people in places with room for a few each: meal tables, bus cars. Pure and deterministic.

The same people and places always give the same plan (people in :attr:`Person.order_key` order,
places in their plan order, ties broken by id). The rules, in the order they apply:

1. Head tables (主桌), where there are any, take the leaders (role 领导), by rank, until full.
2. Everyone else goes by blocks that stay together: a delegation (``group``) or else a unit, for
   tables; a unit, for cars. Blocks come in the order of their first member.
3. A block sits whole at the first place with room for all of it (places reserved for its
   delegation first); otherwise it is spread over the places with the most room, so it is split in
   as few pieces as the free seats allow.
4. A place never takes more people than its seats; a reserved place takes only its delegation and a
   head place only leaders. Whoever finds no seat is listed with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field

from app.services.logistics.people import Person
from models import InviteeRole


@dataclass(frozen=True)
class Place:
    id: int
    label: str
    seats: int
    #: People already there (kept from before: a hand-made move survives a new automatic plan).
    taken: int = 0
    head: bool = False
    reserved: str | None = None


@dataclass(frozen=True)
class Unplaced:
    contact_id: int
    name: str
    unit_name: str
    code: str
    reason: str


@dataclass
class Plan:
    #: contact_id → place id, for the people placed by this plan (not those kept).
    placed: dict[int, int] = field(default_factory=dict)
    unplaced: list[Unplaced] = field(default_factory=list)


REASONS = {
    "no_seat": "座位已满：所有{where}都已坐满",
    "only_reserved": "余下的空位都在主桌或其他代表团的预留{where}",
}


def by_delegation(person: Person) -> Hashable:
    """Tables keep a delegation together, or else a unit."""
    return ("group", person.group) if person.group else ("unit", person.unit_id)


def by_unit(person: Person) -> Hashable:
    return ("unit", person.unit_id)


def pack(people: Sequence[Person], places: Sequence[Place], *, together: Callable[[Person], Hashable],
         where: str = "座位") -> Plan:
    """The plan for ``people`` (those not placed yet) in ``places`` (in plan order). ``where`` names
    the places in a reason ("餐桌", "车辆")."""
    free = {p.id: max(0, p.seats - p.taken) for p in places}
    plan = Plan()
    rest: list[Person] = []
    heads = [p for p in places if p.head]
    for person in sorted(people, key=lambda p: p.order_key):
        head = next((h for h in heads if free[h.id] > 0 and h.reserved in (None, person.group)),
                    None) if person.role == InviteeRole.LEADER else None
        if head is None:
            rest.append(person)
        else:
            plan.placed[person.contact_id] = head.id
            free[head.id] -= 1
    blocks: dict[Hashable, list[Person]] = {}
    for person in rest:
        blocks.setdefault(together(person), []).append(person)
    for members in blocks.values():
        group = members[0].group if len({m.group for m in members}) == 1 else None
        open_places = [p for p in places if not p.head and (p.reserved is None or p.reserved == group)]
        # Their own reserved places first (stable sort: the plan order otherwise).
        open_places.sort(key=lambda p: p.reserved is None)
        whole = next((p for p in open_places if free[p.id] >= len(members)), None)
        if whole is not None:
            for member in members:
                plan.placed[member.contact_id] = whole.id
            free[whole.id] -= len(members)
            continue
        # Largest room first keeps the pieces few; ties keep the plan order (sorted is stable).
        spread = sorted(open_places, key=lambda p: -free[p.id])
        for member in members:
            place = next((p for p in spread if free[p.id] > 0), None)
            if place is None:
                others = any(free[p.id] > 0 for p in places)
                code = "only_reserved" if others else "no_seat"
                plan.unplaced.append(Unplaced(member.contact_id, member.name, member.unit_name, code,
                                              REASONS[code].format(where=where)))
                continue
            plan.placed[member.contact_id] = place.id
            free[place.id] -= 1
    return plan
