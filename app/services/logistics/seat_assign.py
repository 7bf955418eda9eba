"""Seat assignment (座次) as a pure function: a hall's geometry and a roster in, seats out.

Nothing here reads or writes the database, so the same input gives the same seats (the tests check it
on generated halls) and 1,000 seats take milliseconds. app/services/logistics/seating.py loads the
plan and the roster, calls :func:`assign` and writes the result.

Coordinates are the model's (models/seating.py): ``row`` 1 is the hall's front row, negative rows are
the rostrum's (-1 its front row); ``pos`` is the seat's position from the audience's left. The number
printed on the chair is :func:`seat_number` of the position, under the hall's numbering convention.

The rules, in order:

1. **The rostrum (主席台).** Its people (the plan's chosen list in its order, else the invitees whose
   role is 领导, by rank) fill its front row first. Within a row they sit by the protocol of Chinese
   official meetings (党政机关会议主席台座次, as taught in 会务/公文礼仪 handbooks): 居中为上, 左为上 —
   the most senior in the centre; the 2nd at the 1st's left hand and the 3rd at their right hand, *as
   the rostrum faces the audience* (so, seen from the hall, the 2nd sits to the 1st's right), and so
   on alternately outwards. With an even number of people the 1st and 2nd share the centre, the 1st
   on the centre line's audience-left. Seen from the hall: 5 3 1 2 4 for five, 3 1 2 4 for four.
   Whoever the rostrum cannot hold sits in the hall, first in line.
2. **Delegations' sections.** A person whose group (代表团) has a section sits in it; a full section
   leaves the rest unseated with ``section_full`` (the organizer decides: a bigger section or by hand)
   rather than scattering a delegation across the hall.
3. **Everyone else** sits in the seats no section reserves.

Within an area (a section, or the open hall): accessible people first, each on the frontmost free
aisle seat (a seat beside an aisle or at a row's end); then people by role tier (代表, 列席, 媒体,
工作人员) and unit order, each unit's members by :attr:`Person.order_key`, filling rows front to back
and each row's blocks (the runs of seats between aisles) left to right. A unit that would be cut by
an aisle though it fits one block whole starts in the next block that holds it; the run it leaves goes
to the next unit small enough to sit there whole, and at the end to whoever found no seat, so nobody
is left standing while a seat is free. Aisles are
gaps, not seats; blocked and pinned seats are never given.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from app.services.logistics.people import ROLE_ORDER, Person

LEADER_ROLE = "领导"

NUMBERINGS = ("ltr", "odd_right", "odd_left")

#: Reason codes for people left unseated, and what the console shows.
UNSEATED_MESSAGES = {
    "no_seat": "会场座位已满",
    "section_full": "所在代表团的分区座位已满",
}


@dataclass(frozen=True)
class Section:
    group: str
    rows: tuple[int, int]
    seats: tuple[int, int]

    def holds(self, row: int, pos: int) -> bool:
        return self.rows[0] <= row <= self.rows[1] and self.seats[0] <= pos <= self.seats[1]


@dataclass(frozen=True)
class Geometry:
    rows: int
    seats_per_row: int
    aisles: tuple[int, ...] = ()
    numbering: str = "ltr"
    rostrum_rows: int = 0
    rostrum_seats: int = 0
    sections: tuple[Section, ...] = ()
    blocked: frozenset[tuple[int, int]] = frozenset()

    def width(self, row: int) -> int:
        return self.rostrum_seats if row < 0 else self.seats_per_row

    def exists(self, row: int, pos: int) -> bool:
        if row < 0:
            return -row <= self.rostrum_rows and 1 <= pos <= self.rostrum_seats
        return 1 <= row <= self.rows and 1 <= pos <= self.seats_per_row

    def section_of(self, row: int, pos: int) -> Section | None:
        if row < 0:
            return None
        for s in self.sections:
            if s.holds(row, pos):
                return s
        return None

    def is_aisle_seat(self, row: int, pos: int) -> bool:
        """Beside an aisle, or at either end of its row (the side aisles)."""
        if row < 0:
            return False
        return pos in (1, self.seats_per_row) or pos in self.aisles or (pos - 1) in self.aisles


@dataclass(frozen=True)
class Placed:
    contact_id: int
    row: int
    pos: int


@dataclass(frozen=True)
class Unseated:
    contact_id: int
    code: str

    @property
    def message(self) -> str:
        return UNSEATED_MESSAGES.get(self.code, self.code)


@dataclass
class Result:
    placed: list[Placed] = field(default_factory=list)
    unseated: list[Unseated] = field(default_factory=list)


# --- Numbers on the chairs ------------------------------------------------------------------------

def seat_number(count: int, numbering: str, pos: int) -> int:
    """The number on the chair at position ``pos`` (1 = the audience's left) of a row of ``count``.

    ``odd_right`` (单双号): 1 in the centre (with an even count, just right of the centre line as the
    audience sees it), odd numbers rising to the audience's right, even ones to the left — how most
    Chinese halls and theatres number their seats; ``odd_left`` is its mirror image.
    """
    if numbering == "odd_left":
        pos = count + 1 - pos
    elif numbering != "odd_right":
        return pos
    centre = count // 2 + 1
    return 2 * (pos - centre) + 1 if pos >= centre else 2 * (centre - pos)


def position_of(count: int, numbering: str, number: int) -> int | None:
    """The position of chair ``number`` in a row of ``count``; None if the row has no such number."""
    if number < 1:
        return None
    if numbering not in ("odd_right", "odd_left"):
        pos = number
    else:
        centre = count // 2 + 1
        pos = centre + (number - 1) // 2 if number % 2 else centre - number // 2
        if numbering == "odd_left":
            pos = count + 1 - pos
    return pos if 1 <= pos <= count else None


def seat_label(geometry: Geometry, row: int, pos: int) -> str:
    """How a person is told their seat: "3 排 12 号", or "主席台 1 排 5 号"."""
    number = seat_number(geometry.width(row), geometry.numbering, pos)
    return f"主席台 {-row} 排 {number} 号" if row < 0 else f"{row} 排 {number} 号"


def protocol_order(n: int) -> list[int]:
    """Indexes (0 = the audience's left) of ``n`` adjacent seats in rank order: the centre first,
    then the 2nd on its audience-right (the rostrum's left hand), the 3rd on its audience-left…"""
    centre = (n - 1) // 2
    order = [centre]
    for k in range(1, n):
        order.append(centre + (k + 1) // 2 if k % 2 else centre - k // 2)
    return order


# --- Assignment -----------------------------------------------------------------------------------

def assign(geometry: Geometry, people: Sequence[Person], *, pinned: Mapping[int, tuple[int, int]] | None = None,
           rostrum_ids: Sequence[int] = ()) -> Result:
    """Seat ``people`` in the hall; ``pinned`` (contact id → (row, pos)) are already seated by hand and
    keep their seats; ``rostrum_ids``: the rostrum's people in rank order (default: role 领导)."""
    pinned = dict(pinned or {})
    taken = set(pinned.values()) | set(geometry.blocked)
    todo = [p for p in sorted(people, key=lambda p: p.order_key) if p.contact_id not in pinned]
    result = Result()

    # 1. The rostrum.
    rostrum_people = _rostrum_people(todo, rostrum_ids)
    seated_on_rostrum = _seat_rostrum(geometry, rostrum_people, taken, result)
    todo = [p for p in todo if p.contact_id not in seated_on_rostrum]

    # 2. Sections, then 3. the open hall.
    by_section = {s.group: s for s in geometry.sections}
    hall: list[Person] = []
    in_section: dict[str, list[Person]] = {}
    for p in todo:
        if p.group and p.group in by_section:
            in_section.setdefault(p.group, []).append(p)
        else:
            hall.append(p)
    for section in geometry.sections:
        members = in_section.get(section.group, [])
        if members:
            seats = [(r, s) for r, s in _hall_seats(geometry) if section.holds(r, s) and (r, s) not in taken]
            _fill_area(geometry, members, seats, taken, result, "section_full")
    open_seats = [(r, s) for r, s in _hall_seats(geometry)
                  if (r, s) not in taken and geometry.section_of(r, s) is None]
    _fill_area(geometry, hall, open_seats, taken, result, "no_seat")
    return result


def _rostrum_people(todo: list[Person], rostrum_ids: Sequence[int]) -> list[Person]:
    if rostrum_ids:
        by_id = {p.contact_id: p for p in todo}
        seen: set[int] = set()
        out = []
        for cid in rostrum_ids:
            if cid in by_id and cid not in seen:
                seen.add(cid)
                out.append(by_id[cid])
        return out
    return [p for p in todo if p.role == LEADER_ROLE]


def _seat_rostrum(geometry: Geometry, people: list[Person], taken: set[tuple[int, int]], result: Result) -> set[int]:
    seated: set[int] = set()
    queue = list(people)
    for r in range(1, geometry.rostrum_rows + 1):
        if not queue:
            break
        row = -r
        free = [pos for pos in range(1, geometry.rostrum_seats + 1) if (row, pos) not in taken]
        if not free:
            continue
        here, queue = queue[:len(free)], queue[len(free):]
        # The 1st of the row on the row's centre seat (or as near as the row's ends allow).
        start = min(max((len(free) - 1) // 2 - (len(here) - 1) // 2, 0), len(free) - len(here))
        block = free[start:start + len(here)]
        for person, index in zip(here, protocol_order(len(here)), strict=True):
            pos = block[index]
            taken.add((row, pos))
            result.placed.append(Placed(person.contact_id, row, pos))
            seated.add(person.contact_id)
    return seated


def _hall_seats(geometry: Geometry) -> Iterable[tuple[int, int]]:
    for row in range(1, geometry.rows + 1):
        for pos in range(1, geometry.seats_per_row + 1):
            yield row, pos


def _blocks(geometry: Geometry, seats: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """``seats`` (in row-major order) cut into runs that share a row and sit between two aisles."""
    aisles = sorted(geometry.aisles)

    def block_of(seat: tuple[int, int]) -> tuple[int, int]:
        return seat[0], sum(1 for a in aisles if seat[1] > a)

    return [list(run) for _key, run in groupby(seats, key=block_of)]


def _units(people: list[Person]) -> list[list[Person]]:
    """People by role tier and unit (in unit order), each unit's members in order_key order."""
    def tier_unit(p: Person) -> tuple[int, int, int]:
        return ROLE_ORDER.get(p.role, len(ROLE_ORDER)), p.unit_order, p.unit_id

    ordered = sorted(people, key=lambda p: (tier_unit(p), p.order_key))
    return [list(run) for _key, run in groupby(ordered, key=tier_unit)]


def _fill_area(geometry: Geometry, people: list[Person], seats: list[tuple[int, int]], taken: set[tuple[int, int]],
               result: Result, full_code: str) -> None:
    """Seat ``people`` on the free ``seats`` of one area (row-major order), by the module's rules."""
    def place(person: Person, seat: tuple[int, int]) -> None:
        taken.add(seat)
        result.placed.append(Placed(person.contact_id, seat[0], seat[1]))

    # Accessible people: the frontmost free aisle seats.
    rest = []
    aisle_seats = iter([s for s in seats if geometry.is_aisle_seat(*s)])
    for person in people:
        seat = next(aisle_seats, None) if person.accessible else None
        if seat is None:
            rest.append(person)
        else:
            place(person, seat)
    blocks = _blocks(geometry, [s for s in seats if s not in taken])

    gaps: list[list[tuple[int, int]]] = []  # runs of one block that units skipped, front first
    waiting: list[Person] = []
    b, off = 0, 0
    for unit in _units(rest):
        gap = next((g for g in gaps if len(g) >= len(unit)), None)
        if gap is not None:  # a later, smaller unit fills the gap an earlier one left
            for person in unit:
                place(person, gap.pop(0))
            continue
        while b < len(blocks) and off >= len(blocks[b]):
            b, off = b + 1, 0
        if b >= len(blocks):
            waiting.extend(unit)
            continue
        if len(unit) > len(blocks[b]) - off:
            # It would be cut by an aisle here: start it in the next block that holds it whole.
            ahead = next((j for j in range(b + 1, len(blocks)) if len(blocks[j]) >= len(unit)), None)
            if ahead is not None:
                gaps = sorted((run for run in gaps + [blocks[b][off:]] + blocks[b + 1:ahead] if run),
                              key=lambda run: run[0])
                b, off = ahead, 0
        for person in unit:
            while b < len(blocks) and off >= len(blocks[b]):
                b, off = b + 1, 0
            if b >= len(blocks):
                waiting.append(person)
                continue
            place(person, blocks[b][off])
            off += 1
    # Whoever found no seat takes the seats units left behind, front first.
    left = sorted(seat for run in gaps for seat in run)
    for person, seat in zip(waiting, left, strict=False):
        place(person, seat)
    for person in waiting[len(left):]:
        result.unseated.append(Unseated(person.contact_id, full_code))
