"""The one-click allocation's promises, on generated data (hypothesis) and on small cases.

- never over capacity; never mixed gender in a shared room; someone of unknown gender alone; a room's
  own gender, its type's roles and accessibility respected;
- everyone is either placed once or listed with a reason, never both;
- a delegation together: when every hotel could take every guest (so each delegation, at its turn,
  fits whole in a hotel), each delegation's members all sleep in one hotel;
- the single rooms go to the most senior, as many as there are;
- the same input gives the same result, in any order.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.services.logistics.allocate import REASONS, Guest, Pinned, RoomSpec, allocate

DATES = [date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), None]
ROLES = ["领导", "代表", "列席"]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def guests(draw, max_size=60):
    n = draw(st.integers(0, max_size))
    out = []
    for i in range(n):
        out.append(Guest(
            contact_id=1000 + i * 7,
            gender=draw(st.sampled_from(["男", "女", "男", "女", None])),
            group=draw(st.sampled_from(["g:甲", "g:乙", "g:丙", "u:1", "u:2", "u:3"])),
            rank=draw(st.integers(1, 120)), role_order=draw(st.integers(0, 2)), role=draw(st.sampled_from(ROLES)),
            arrival=draw(st.sampled_from(DATES)), accessible=draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans())))
    return out


@st.composite
def rooms(draw, max_size=40, hotels=3, constrained=True):
    n = draw(st.integers(0, max_size))
    out = []
    for i in range(n):
        out.append(RoomSpec(
            room_id=1 + i * 3 + draw(st.integers(0, 2)), hotel_id=draw(st.integers(1, hotels)),
            capacity=draw(st.integers(1, 4)), number=str(draw(st.integers(100, 999))), floor=draw(st.integers(1, 9)),
            gender=draw(st.sampled_from([None, None, None, "男", "女"])) if constrained else None,
            accessible=draw(st.booleans()) and draw(st.booleans()),
            roles=draw(st.sampled_from([(), (), (), ("领导",), ("代表", "列席")])) if constrained else ()))
    return out


def check_rules(guest_list, room_list, pinned, result):
    """Every rule on the whole picture (the pinned and the newly placed)."""
    by_guest = {g.contact_id: g for g in guest_list}
    room_by_id = {r.room_id: r for r in room_list}
    placed = [(p.contact_id, p.room_id) for p in result.placed]
    ids = [cid for cid, _r in placed] + [u.contact_id for u in result.unplaced]
    pinned_ids = {p.contact_id for p in pinned}
    assert sorted(ids) == sorted(cid for cid in by_guest if cid not in pinned_ids), "placed once or unplaced"
    occupants = defaultdict(list)
    for p in pinned:
        occupants[p.room_id].append(p.gender)
    for cid, room_id in placed:
        guest, room = by_guest[cid], room_by_id[room_id]
        occupants[room_id].append(guest.gender)
        if room.roles:
            assert guest.role in room.roles, "room type's roles"
        if guest.accessible:
            assert room.accessible, "accessible guest in an accessible room"
        if room.gender:
            assert guest.gender == room.gender, "room's own gender"
    for room_id, genders in occupants.items():
        assert len(genders) <= room_by_id[room_id].capacity, "never over capacity"
        if len(genders) > 1:
            assert None not in genders and len(set(genders)) == 1, "never mixed gender; unknown gender alone"
    for u in result.unplaced:
        assert u.code in REASONS and u.message


@SETTINGS
@given(guests(), rooms())
def test_rules_always_hold(guest_list, room_list):
    check_rules(guest_list, room_list, [], allocate(guest_list, room_list))


@SETTINGS
@given(guests(), rooms(), st.integers(0, 30))
def test_rules_hold_around_pinned_guests(guest_list, room_list, k):
    first = allocate(guest_list[:k], room_list)
    gender = {g.contact_id: g.gender for g in guest_list}
    pinned = [Pinned(p.contact_id, p.room_id, gender[p.contact_id]) for p in first.placed]
    result = allocate(guest_list, room_list, pinned)
    check_rules(guest_list, room_list, pinned, result)
    assert not {p.contact_id for p in pinned} & {p.contact_id for p in result.placed}


@SETTINGS
@given(guests(), rooms(), st.randoms(use_true_random=False))
def test_same_input_same_result_in_any_order(guest_list, room_list, rnd):
    expected = allocate(guest_list, room_list)
    shuffled_guests, shuffled_rooms = list(guest_list), list(room_list)
    rnd.shuffle(shuffled_guests)
    rnd.shuffle(shuffled_rooms)
    assert allocate(shuffled_guests, shuffled_rooms) == expected
    assert allocate(tuple(reversed(guest_list)), reversed(room_list)) == expected


@SETTINGS
@given(guests(max_size=40), st.data())
def test_a_delegation_stays_in_one_hotel_when_capacity_allows(guest_list, data):
    """Every hotel alone has a room for each guest (ordinary and accessible): every delegation fits
    whole in one hotel at its turn, so none is split."""
    n = len(guest_list)
    room_list, rid = [], 0
    for hotel in (1, 2, 3):
        for accessible in (False, True):
            for _ in range(n):
                rid += 1
                room_list.append(RoomSpec(room_id=rid, hotel_id=hotel, capacity=data.draw(st.integers(1, 3)),
                                          number=str(100 + rid), floor=rid % 7, accessible=accessible))
    result = allocate(guest_list, room_list)
    assert result.unplaced == ()
    hotel_of = {r.room_id: r.hotel_id for r in room_list}
    hotels = defaultdict(set)
    groups = {g.contact_id: g.group for g in guest_list}
    for p in result.placed:
        hotels[groups[p.contact_id]].add(hotel_of[p.room_id])
    assert all(len(h) == 1 for h in hotels.values()), dict(hotels)


@SETTINGS
@given(guests(max_size=40), st.integers(0, 10), st.integers(0, 20))
def test_single_rooms_go_to_the_most_senior(guest_list, singles, doubles):
    """One hotel, rooms with no constraint, nobody accessible: the single rooms' guests are exactly
    the most senior, as many as there are single rooms."""
    guest_list = [Guest(g.contact_id, g.gender, g.group, g.rank, g.role_order, "代表", g.arrival) for g in guest_list]
    room_list = [RoomSpec(room_id=i + 1, hotel_id=1, capacity=1 if i < singles else 2, number=str(100 + i))
                 for i in range(singles + doubles)]
    result = allocate(guest_list, room_list)
    in_singles = {p.contact_id for p in result.placed if p.room_id <= singles}
    expected = {g.contact_id for g in sorted(guest_list, key=lambda g: g.seniority)[:singles]}
    assert in_singles == expected


def test_delegation_goes_to_the_hotel_that_takes_it_whole():
    team = [Guest(i, "男", "g:甲") for i in range(1, 5)]
    room_list = [RoomSpec(1, hotel_id=1, capacity=3, number="101"),
                 RoomSpec(2, hotel_id=2, capacity=2, number="201"), RoomSpec(3, hotel_id=2, capacity=2, number="202")]
    result = allocate(team, room_list)
    assert {p.room_id for p in result.placed} == {2, 3}


def test_same_day_arrivals_share():
    d1, d2 = date(2026, 12, 1), date(2026, 12, 2)
    team = [Guest(1, "男", "g", arrival=d2), Guest(2, "男", "g", arrival=d1), Guest(3, "男", "g", arrival=d2),
            Guest(4, "男", "g", arrival=d1)]
    result = allocate(team, [RoomSpec(r, 1, 2, number=str(r)) for r in (1, 2)])
    rooms_of = {p.contact_id: p.room_id for p in result.placed}
    assert rooms_of[2] == rooms_of[4] and rooms_of[1] == rooms_of[3]


def test_unknown_gender_sleeps_alone_and_reasons_are_given():
    leaders_only = RoomSpec(2, 1, 2, number="2", roles=("领导",))
    result = allocate([Guest(1, None, "g"), Guest(2, None, "g", role="领导"),
                       Guest(3, "女", "h", role="领导", accessible=True), Guest(4, "男", "h", role="代表")],
                      [RoomSpec(1, 1, 2, number="1"), leaders_only], [Pinned(99, 2, "男")])
    assert [(p.contact_id, p.room_id) for p in result.placed] == [(1, 1)]
    assert {u.contact_id: u.code for u in result.unplaced} == {2: "gender_unknown", 3: "no_accessible_room",
                                                               4: "no_room_for_role"}


def test_no_bed_of_their_gender():
    result = allocate([Guest(1, "男", "g"), Guest(2, "女", "g")], [RoomSpec(1, 1, 2, number="1")])
    assert [u.code for u in result.unplaced] == ["no_room_for_gender"]
    assert "士" in result.unplaced[0].message


def test_a_thousand_people_into_five_hundred_rooms_quickly():
    rnd = random.Random(18)
    guest_list = [Guest(i, rnd.choice(["男", "女"]) if rnd.random() > 0.03 else None, f"g{rnd.randrange(80)}",
                        rank=rnd.randrange(1, 200), role_order=rnd.randrange(3), role="代表",
                        arrival=date(2026, 12, rnd.randrange(1, 4)), accessible=rnd.random() < 0.02)
                  for i in range(1, 1001)]
    room_list = [RoomSpec(i, hotel_id=1 + i % 4, capacity=1 if i % 10 == 0 else 2 if i % 10 < 9 else 3,
                          number=str(1000 + i), floor=i % 12, accessible=i % 25 == 0) for i in range(1, 501)]
    began = time.perf_counter()
    result = allocate(guest_list, room_list)
    elapsed = time.perf_counter() - began
    check_rules(guest_list, room_list, [], result)
    assert elapsed < 2.0, elapsed
    assert len(result.placed) > 900


def test_spare_single_rooms_keep_a_delegation_together():
    """The senior's delegation goes whole to hotel 2 (he shares there), so hotel 1's single room is
    owed to nobody: the three women take hotel 1's double and that single rather than being split
    across the hotels."""
    men = [Guest(1, "男", "g:乙", rank=1), *(Guest(i, "男", "g:乙", rank=60) for i in (2, 3, 4))]
    women = [Guest(i, "女", "g:甲", rank=50) for i in (5, 6, 7)]
    room_list = [RoomSpec(10, hotel_id=1, capacity=1, number="101"), RoomSpec(11, hotel_id=1, capacity=2, number="102"),
                 *(RoomSpec(20 + i, hotel_id=2, capacity=2, number=f"20{i}") for i in range(3))]
    result = allocate([*men, *women], room_list)
    rooms_of = {p.contact_id: p.room_id for p in result.placed}
    assert result.unplaced == ()
    assert {rooms_of[i] for i in (5, 6, 7)} == {10, 11}
    assert {rooms_of[i] for i in (1, 2, 3, 4)} <= {20, 21, 22}
