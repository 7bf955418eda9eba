"""The assignment rules, as a pure function: the rostrum by protocol from the centre, delegations'
sections, aisles and blocked seats skipped, units kept in one block, accessible people on aisle
seats, the numbers on the chairs; and on generated halls: never two on one seat, never one person
on two, the same input gives the same seats."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.logistics.seat_assign import (
    NUMBERINGS,
    Geometry,
    Section,
    assign,
    position_of,
    protocol_order,
    seat_label,
    seat_number,
)
from tests.seating.helpers import person


def grid(result) -> dict[tuple[int, int], int]:
    return {(p.row, p.pos): p.contact_id for p in result.placed}


def test_protocol_order_from_the_centre():
    # Seen from the hall: 5 3 1 2 4 for five (the 2nd at the 1st's left hand as the rostrum faces us).
    order = protocol_order(5)
    seats = [0] * 5
    for rank, index in enumerate(order, 1):
        seats[index] = rank
    assert seats == [5, 3, 1, 2, 4]
    order = protocol_order(4)
    seats = [0] * 4
    for rank, index in enumerate(order, 1):
        seats[index] = rank
    assert seats == [3, 1, 2, 4]  # the 1st and 2nd share the centre


def test_rostrum_seats_leaders_by_rank_centre_out_and_the_rest_in_the_hall():
    geo = Geometry(rows=2, seats_per_row=10, rostrum_rows=1, rostrum_seats=7)
    leaders = [person(i, role="领导", rank=i) for i in range(1, 10)]  # 9 leaders, 7 rostrum seats
    g = grid(assign(geo, leaders))
    assert [g.get((-1, p)) for p in range(1, 8)] == [7, 5, 3, 1, 2, 4, 6]
    assert {g[(1, 1)], g[(1, 2)]} == {8, 9}  # overflow sits first in the hall


def test_rostrum_with_fewer_people_is_centred_and_a_chosen_list_wins():
    geo = Geometry(rows=1, seats_per_row=5, rostrum_rows=1, rostrum_seats=9)
    people = [person(1, role="领导", rank=1), person(2, role="领导", rank=2), person(3, rank=3)]
    g = grid(assign(geo, people))
    assert [g.get((-1, p)) for p in range(1, 10)] == [None, None, None, None, 1, 2, None, None, None]
    g = grid(assign(geo, people, rostrum_ids=[3, 1]))  # chosen: 3 first, then 1; 2 goes to the hall
    assert g[(-1, 5)] == 3 and g[(-1, 6)] == 1 and g[(1, 1)] == 2


def test_second_rostrum_row_after_the_first_is_full():
    geo = Geometry(rows=1, seats_per_row=3, rostrum_rows=2, rostrum_seats=3)
    g = grid(assign(geo, [person(i, role="领导", rank=i) for i in range(1, 6)]))
    assert [g.get((-1, p)) for p in (1, 2, 3)] == [3, 1, 2]
    assert [g.get((-2, p)) for p in (1, 2, 3)] == [None, 4, 5]


def test_sections_keep_a_delegation_and_refuse_overflow():
    geo = Geometry(rows=3, seats_per_row=4, sections=(Section("一团", (1, 1), (1, 4)),))
    people = [person(i, group="一团") for i in range(1, 7)] + [person(10 + i, unit=2) for i in range(3)]
    result = assign(geo, people)
    g = grid(result)
    assert {g[(1, p)] for p in range(1, 5)} == {1, 2, 3, 4}
    assert sorted(u.contact_id for u in result.unseated) == [5, 6]
    assert {u.code for u in result.unseated} == {"section_full"}
    assert all(r != 1 for (r, _p), cid in g.items() if cid >= 10)  # others never in the section


def test_aisles_and_blocked_seats_are_skipped_and_units_kept_in_a_block():
    geo = Geometry(rows=2, seats_per_row=8, aisles=(4,), blocked=frozenset({(1, 2)}))
    people = [person(1, unit=1), person(2, unit=1), person(3, unit=2), person(4, unit=2), person(5, unit=2)]
    g = grid(assign(geo, people))
    assert (1, 2) not in g
    # Unit 1 takes 1|3; unit 2 (3 people) would be cut by the aisle after seat 4: it starts at seat 5.
    assert g[(1, 1)] == 1 and g[(1, 3)] == 2
    assert [g[(1, p)] for p in (5, 6, 7)] == [3, 4, 5]


def test_left_behind_seats_are_used_before_anyone_is_refused():
    geo = Geometry(rows=1, seats_per_row=6, aisles=(3,))
    people = [person(1, unit=1), person(2, unit=1), person(3, unit=2), person(4, unit=2),
              person(5, unit=2), person(6, unit=3)]
    result = assign(geo, people)
    assert result.unseated == []
    assert len(grid(result)) == 6


def test_accessible_people_take_the_frontmost_aisle_seat():
    geo = Geometry(rows=3, seats_per_row=9, aisles=(4,))
    people = [person(i) for i in range(1, 10)] + [person(50, accessible=True, unit=5)]
    g = grid(assign(geo, people))
    assert g[(1, 1)] == 50


def test_no_seat_left():
    result = assign(Geometry(rows=1, seats_per_row=2), [person(i) for i in range(1, 5)])
    assert [u.code for u in result.unseated] == ["no_seat", "no_seat"]
    assert result.unseated[0].message == "会场座位已满"


def test_pinned_seats_are_kept():
    geo = Geometry(rows=1, seats_per_row=3)
    result = assign(geo, [person(1), person(2), person(3)], pinned={2: (1, 1)})
    g = grid(result)
    assert 2 not in g.values() and (1, 1) not in g
    assert set(g) == {(1, 2), (1, 3)}


def test_numbers_on_the_chairs():
    assert [seat_number(5, "ltr", p) for p in range(1, 6)] == [1, 2, 3, 4, 5]
    assert [seat_number(5, "odd_right", p) for p in range(1, 6)] == [4, 2, 1, 3, 5]
    assert [seat_number(6, "odd_right", p) for p in range(1, 7)] == [6, 4, 2, 1, 3, 5]
    assert [seat_number(6, "odd_left", p) for p in range(1, 7)] == [5, 3, 1, 2, 4, 6]
    for numbering in NUMBERINGS:
        for count in (1, 2, 7, 30):
            assert [position_of(count, numbering, seat_number(count, numbering, p))
                    for p in range(1, count + 1)] == list(range(1, count + 1))
    assert position_of(5, "odd_right", 6) is None
    geo = Geometry(rows=5, seats_per_row=20, rostrum_rows=1, rostrum_seats=9, numbering="odd_right")
    assert seat_label(geo, 3, 11) == "3 排 1 号"
    assert seat_label(geo, -1, 5) == "主席台 1 排 1 号"


def test_a_thousand_seats_in_well_under_a_second():
    geo = Geometry(rows=40, seats_per_row=26, aisles=(6, 20), rostrum_rows=2, rostrum_seats=15,
                   sections=(Section("一团", (5, 8), (1, 6)),))
    people = [person(i, role="领导" if i < 20 else "代表", unit=i // 17, rank=i, group="一团" if i % 40 == 0 else None)
              for i in range(1000)]
    started = time.perf_counter()
    result = assign(geo, people)
    assert time.perf_counter() - started < 1.0
    assert len(result.placed) == 1000 and result.unseated == []


@st.composite
def halls(draw):
    rows = draw(st.integers(1, 8))
    seats = draw(st.integers(1, 12))
    aisles = tuple(sorted(draw(st.sets(st.integers(1, max(1, seats - 1)), max_size=3)))) if seats > 1 else ()
    rostrum_rows = draw(st.integers(0, 2))
    rostrum_seats = draw(st.integers(1, 7)) if rostrum_rows else 0
    sections = ()
    if draw(st.booleans()):
        r1 = draw(st.integers(1, rows))
        sections = (Section("一团", (r1, draw(st.integers(r1, rows))), (1, draw(st.integers(1, seats)))),)
    blocked = frozenset(draw(st.sets(st.tuples(st.integers(1, rows), st.integers(1, seats)), max_size=5)))
    geo = Geometry(rows=rows, seats_per_row=seats, aisles=aisles, numbering=draw(st.sampled_from(NUMBERINGS)),
                   rostrum_rows=rostrum_rows, rostrum_seats=rostrum_seats, sections=sections, blocked=blocked)
    n = draw(st.integers(0, rows * seats + 6))
    people = [person(i, role=draw(st.sampled_from(["领导", "代表", "列席"])), unit=draw(st.integers(1, 4)),
                     group=draw(st.sampled_from([None, "一团", "二团"])), rank=draw(st.integers(1, 5)),
                     accessible=draw(st.booleans())) for i in range(1, n + 1)]
    return geo, people


@settings(max_examples=300, deadline=None)
@given(halls())
def test_generated_halls(case):
    geo, people = case
    result = assign(geo, people)
    seats = [(p.row, p.pos) for p in result.placed]
    ids = [p.contact_id for p in result.placed] + [u.contact_id for u in result.unseated]
    assert len(seats) == len(set(seats)), "two people on one seat"
    assert sorted(ids) == sorted(p.contact_id for p in people), "everyone seated or told why, once"
    for p in result.placed:
        assert geo.exists(p.row, p.pos) and (p.row, p.pos) not in geo.blocked
    by_id = {p.contact_id: p for p in people}
    for p in result.placed:
        section = geo.section_of(p.row, p.pos)
        if section is not None:
            assert by_id[p.contact_id].group == section.group
    # Nobody left without a seat while an open seat is free.
    if any(u.code == "no_seat" for u in result.unseated):
        free = [(r, s) for r in range(1, geo.rows + 1) for s in range(1, geo.seats_per_row + 1)
                if (r, s) not in set(seats) and (r, s) not in geo.blocked and geo.section_of(r, s) is None]
        assert free == []
    assert assign(geo, list(reversed(people))) == result, "the same input, the same seats"
