"""One-click room allocation (一键分房) as a pure function: guests and rooms in, placements and the
unplaced (each with a reason) out. No database, no clock, no randomness.

The rules, strongest first:

1. **Never over capacity**, and a room's own gender (a floor kept for women) is respected.
2. **Never mixed gender in a shared room.** A guest whose gender is not known sleeps alone: a
   single room, or a shared room nobody else is then put in.
3. **Accessible guests get accessible rooms**, and only those; accessible rooms are kept for them
   until everyone else who fits elsewhere is placed.
4. **A delegation stays together**: a delegation (``Guest.group``: the registration's group, else
   the unit) goes whole into one hotel whenever one hotel can take it whole when its turn comes, in
   rooms next to each other (rooms are taken in floor and number order), single rooms no senior is
   owed included. Delegations take their turn by their most senior member, then the larger first.
5. **Rank first for single rooms**: the single rooms (one bed: 单人间, 套房) go to the most senior
   guests (rank, then role; a guest of unknown gender first on a tie, as they cannot share), as many
   as there are single rooms; each gets one in their delegation's hotel when it has one.
6. **Arrival dates**: within a delegation and gender, roommates are filled in arrival order, so
   people arriving the same day share (dates mix only where one day's count leaves a bed over).
7. Whoever is left (their delegation's hotel was full) goes where a bed fits them: a half-filled
   room of their gender first (their delegation's hotel first), then an empty one, accessible rooms
   last. Whoever still has no bed is returned with a reason code and a Chinese reason.

Determinism: the input is sorted on its own keys (ids last) before anything is decided, so the same
guests and rooms in any order give the same result; nothing iterates a set or depends on hashing.
Pinned guests (placed by hand) stay where they are and count as occupants.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

#: Gender values a guest or a room may carry.
GENDERS = ("男", "女")

REASONS = {
    "no_room": "房间已满，没有空余床位",
    "no_room_for_role": "剩余的空余床位所在房型不对“{role}”开放",
    "no_accessible_room": "需要无障碍房间，但已没有空余的无障碍房间",
    "gender_unknown": "未填写性别，只能单独入住一间，但已没有空房间",
    "no_room_for_gender": "没有适合{gender}士入住的空余床位（剩余床位在其他性别的房间）",
}


@dataclass(frozen=True, slots=True)
class Guest:
    contact_id: int
    gender: str | None
    #: The delegation: people of one group (or, with no group, one unit) are kept together.
    group: str
    #: Smaller is more senior.
    rank: int = 100
    #: The role's place in the seniority order (app.services.logistics.people.ROLE_ORDER).
    role_order: int = 0
    role: str = ""
    arrival: date | None = None
    accessible: bool = False

    @property
    def seniority(self) -> tuple:
        # Unknown gender first on a tie: they cannot share, so a single room serves them best.
        return (self.rank, self.role_order, 0 if self.gender is None else 1, self.contact_id)


@dataclass(frozen=True, slots=True)
class RoomSpec:
    room_id: int
    hotel_id: int
    capacity: int
    number: str = ""
    floor: int | None = None
    #: The room's own constraint: "男", "女" or None.
    gender: str | None = None
    accessible: bool = False
    #: Roles the room's type is for; empty: anyone.
    roles: tuple[str, ...] = ()
    #: The hotel's place in the organizer's list (the first hotel fills first).
    hotel_order: int = 0


@dataclass(frozen=True, slots=True)
class Pinned:
    """Someone already in a room who stays there."""

    contact_id: int
    room_id: int
    gender: str | None


@dataclass(frozen=True, slots=True)
class Placed:
    contact_id: int
    room_id: int


@dataclass(frozen=True, slots=True)
class Unplaced:
    contact_id: int
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Allocation:
    #: The new placements (pinned guests are not repeated), by contact id.
    placed: tuple[Placed, ...]
    #: Guests with no bed, by seniority.
    unplaced: tuple[Unplaced, ...]


def number_key(number: str) -> tuple:
    """'1208' < '1210' < '1210A'; '2' < '10' (digits compared as numbers)."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.findall(r"\d+|\D+", number))


class _Room:
    __slots__ = ("spec", "index", "count", "occupants_gender", "alone")

    def __init__(self, spec: RoomSpec, index: int):
        self.spec, self.index = spec, index
        self.count = 0
        #: The gender of whoever is in it (None while empty).
        self.occupants_gender: str | None = None
        #: Someone of unknown gender is in it: nobody else goes in.
        self.alone = False

    @property
    def full(self) -> bool:
        return self.alone or self.count >= self.spec.capacity

    def takes(self, guest: Guest, *, accessible_ok: bool) -> bool:
        spec = self.spec
        if self.full or (spec.roles and guest.role not in spec.roles):
            return False
        if spec.accessible != guest.accessible and (guest.accessible or not accessible_ok):
            return False
        if guest.gender is None:
            return self.count == 0 and spec.gender is None
        return spec.gender in (None, guest.gender) and self.occupants_gender in (None, guest.gender)

    def put(self, guest_gender: str | None, log: list) -> None:
        log.append((self, self.count, self.occupants_gender, self.alone))
        self.count += 1
        if guest_gender is None:
            self.alone = True
        else:
            self.occupants_gender = guest_gender


class _Hotel:
    __slots__ = ("hotel_id", "order", "singles", "shared", "single_at", "shared_at")

    def __init__(self, hotel_id: int, order: int):
        self.hotel_id, self.order = hotel_id, order
        self.singles: list[_Room] = []
        self.shared: list[_Room] = []
        # Every room before these is occupied: the search for an empty room starts here.
        self.single_at = self.shared_at = 0

    def advance(self) -> None:
        while self.single_at < len(self.singles) and self.singles[self.single_at].count:
            self.single_at += 1
        while self.shared_at < len(self.shared) and self.shared[self.shared_at].count:
            self.shared_at += 1

    def empty_room(self, guest: Guest, *, single: bool) -> _Room | None:
        rooms, start = (self.singles, self.single_at) if single else (self.shared, self.shared_at)
        for index in range(start, len(rooms)):
            room = rooms[index]
            if room.count == 0 and room.takes(guest, accessible_ok=False):
                return room
        return None


def _undo(log: list) -> None:
    for room, count, gender, alone in reversed(log):
        room.count, room.occupants_gender, room.alone = count, gender, alone
    log.clear()


def allocate(guests: Iterable[Guest], rooms: Iterable[RoomSpec], pinned: Iterable[Pinned] = ()) -> Allocation:
    """Place ``guests`` in ``rooms`` around the ``pinned`` (see the module's rules)."""
    specs = sorted(rooms, key=lambda r: (r.hotel_order, r.hotel_id, r.floor if r.floor is not None else 10**6,
                                         number_key(r.number), r.room_id))
    by_id: dict[int, _Room] = {}
    hotels: dict[int, _Hotel] = {}
    for index, spec in enumerate(specs):
        room = _Room(spec, index)
        by_id[spec.room_id] = room
        hotel = hotels.setdefault(spec.hotel_id, _Hotel(spec.hotel_id, len(hotels)))
        (hotel.singles if spec.capacity == 1 else hotel.shared).append(room)
    hotel_list = list(hotels.values())  # in room order: the organizer's hotel order
    pinned_ids: set[int] = set()
    for pin in sorted(pinned, key=lambda p: (p.room_id, p.contact_id)):
        pinned_ids.add(pin.contact_id)
        room = by_id.get(pin.room_id)
        if room is not None:
            room.put(pin.gender, [])
    for hotel in hotel_list:
        hotel.advance()

    # One guest per contact id (the first by a total order, should the input repeat one).
    unique: dict[int, Guest] = {}
    for guest in sorted(guests, key=lambda g: (g.contact_id, repr(g))):
        unique.setdefault(guest.contact_id, guest)
    todo = sorted((g for g in unique.values() if g.contact_id not in pinned_ids), key=lambda g: g.seniority)
    seniors = _single_holders(todo, by_id.values())
    placed: dict[int, _Room] = {}
    left: list[Guest] = []

    delegations: dict[str, list[Guest]] = {}
    for guest in todo:
        delegations.setdefault(guest.group, []).append(guest)
    turns = sorted(delegations.items(), key=lambda kv: (kv[1][0].seniority, -len(kv[1]), kv[0]))
    for _key, members in turns:
        left.extend(_place_delegation(members, hotel_list, seniors, placed))

    homes = _homes(delegations, placed)
    open_rooms = [room for room in by_id.values() if not room.full]
    unplaced = []
    for guest in sorted(left, key=lambda g: g.seniority):
        room = _best_leftover_room(guest, open_rooms, homes.get(guest.group))
        if room is None:
            unplaced.append(_why(guest, open_rooms))
            continue
        room.put(guest.gender, [])
        placed[guest.contact_id] = room
        if room.full:
            open_rooms.remove(room)
    return Allocation(
        placed=tuple(Placed(cid, room.spec.room_id) for cid, room in sorted(placed.items())),
        unplaced=tuple(unplaced))


def _single_holders(todo: list[Guest], rooms: Iterable[_Room]) -> set[int]:
    """The guests single rooms are for: the most senior, as many as there are free single rooms
    (accessible ones for accessible guests)."""
    free = {True: 0, False: 0}
    for room in rooms:
        if room.spec.capacity == 1 and room.count == 0:
            free[room.spec.accessible] += 1
    holders: set[int] = set()
    for guest in todo:  # already by seniority
        if free[guest.accessible] > 0:
            free[guest.accessible] -= 1
            holders.add(guest.contact_id)
    return holders


def _place_delegation(members: list[Guest], hotels: list[_Hotel], seniors: set[int],
                      placed: dict[int, _Room]) -> list[Guest]:
    """Put a delegation in the hotel that takes it whole (the one giving its seniors the most
    single rooms, then the first). With none, the hotel taking the most of it takes them, then the
    next for the rest, and so on. Returns who is left."""
    remaining = members
    log: list = []

    def spare(got: dict[int, _Room]) -> int:
        """Free single rooms beyond those the seniors not yet placed are owed."""
        free = sum(1 for h in hotels for r in h.singles[h.single_at:] if r.count == 0)
        return free - sum(1 for cid in seniors if cid not in placed and cid not in got)

    while remaining:
        wanted = sum(1 for g in remaining if g.contact_id in seniors)
        best: tuple[int, int, _Hotel] | None = None
        for hotel in hotels:
            got, _rest, singles = _place_in(hotel, remaining, seniors, log, spare)
            _undo(log)
            if got and (best is None or (len(got), singles) > best[:2]):
                best = (len(got), singles, hotel)
                if len(got) == len(remaining) and singles == wanted:
                    break
        if best is None:
            return remaining
        got, remaining, _singles = _place_in(best[2], remaining, seniors, log, spare)
        log.clear()
        placed.update(got)
        best[2].advance()
    return []


def _place_in(hotel: _Hotel, members: list[Guest], seniors: set[int], log: list,
              spare=None) -> tuple[dict[int, _Room], list[Guest], int]:
    """Place ``members`` (by seniority) in ``hotel``, recording each change in ``log``. Whoever
    finds no shared bed may take a single room that ``spare`` says no senior is owed, rather than
    leave the delegation. Returns (placements, who did not fit, single rooms given to seniors)."""
    got: dict[int, _Room] = {}
    rest: list[Guest] = []
    sharing: list[Guest] = []
    singles = 0
    for guest in members:
        if guest.contact_id in seniors:
            room = hotel.empty_room(guest, single=True)
            if room is not None:
                room.put(guest.gender, log)
                got[guest.contact_id] = room
                singles += 1
                continue
        sharing.append(guest)
    # Alone in a shared room (a single room is a senior's): nobody's gender is assumed.
    for guest in (g for g in sharing if g.gender is None):
        room = hotel.empty_room(guest, single=False)
        if room is None:
            rest.append(guest)
        else:
            room.put(None, log)
            got[guest.contact_id] = room
    # Roommates by gender, accessible rooms apart, then in arrival order.
    current: dict[tuple[str, bool], _Room] = {}
    known = sorted((g for g in sharing if g.gender is not None),
                   key=lambda g: (g.gender, not g.accessible, g.arrival or date.max, g.seniority))
    for guest in known:
        key = (guest.gender, guest.accessible)
        room = current.get(key)
        if room is None or not room.takes(guest, accessible_ok=False):
            room = hotel.empty_room(guest, single=False)
        if room is None:
            rest.append(guest)
            continue
        room.put(guest.gender, log)
        got[guest.contact_id] = room
        current[key] = room
    if rest and spare is not None:
        still = []
        for guest in sorted(rest, key=lambda g: g.seniority):
            room = hotel.empty_room(guest, single=True) if spare(got) > 0 else None
            if room is None:
                still.append(guest)
                continue
            room.put(guest.gender, log)
            got[guest.contact_id] = room
        rest = still
    return got, rest, singles


def _homes(delegations: dict[str, list[Guest]], placed: dict[int, _Room]) -> dict[str, int]:
    """Each delegation's hotel: where most of its members are (the earlier hotel on a tie)."""
    homes = {}
    for key, members in delegations.items():
        counts: dict[int, int] = {}
        first: dict[int, int] = {}
        for guest in members:
            room = placed.get(guest.contact_id)
            if room is not None:
                counts[room.spec.hotel_id] = counts.get(room.spec.hotel_id, 0) + 1
                first[room.spec.hotel_id] = min(first.get(room.spec.hotel_id, room.index), room.index)
        if counts:
            homes[key] = min(counts, key=lambda h: (-counts[h], first[h]))
    return homes


def _best_leftover_room(guest: Guest, open_rooms: list[_Room], home: int | None) -> _Room | None:
    best, best_key = None, None
    for room in open_rooms:
        if not room.takes(guest, accessible_ok=True):
            continue
        key = (room.spec.accessible and not guest.accessible,  # accessible rooms last for others
               room.spec.hotel_id != home,                     # their delegation's hotel first
               room.count == 0,                                # a half-filled room before an empty one
               room.spec.capacity == 1,                        # single rooms last for sharing
               room.index)
        if best_key is None or key < best_key:
            best, best_key = room, key
    return best


def _why(guest: Guest, open_rooms: list[_Room]) -> Unplaced:
    def out(code: str, **params) -> Unplaced:
        return Unplaced(guest.contact_id, code, REASONS[code].format(**params))

    if not open_rooms:
        return out("no_room")
    for_role = [r for r in open_rooms if not r.spec.roles or guest.role in r.spec.roles]
    if not for_role:
        return out("no_room_for_role", role=guest.role)
    if guest.accessible and not any(r.spec.accessible for r in for_role):
        return out("no_accessible_room")
    if guest.gender is None:
        return out("gender_unknown")
    return out("no_room_for_gender", gender=guest.gender)
