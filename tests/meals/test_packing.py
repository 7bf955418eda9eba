"""The automatic plan for tables and cars (app/services/logistics/packing.py), on its own: never
over a place's seats, blocks kept together, leaders at the head table by rank, reserved tables for
their delegation only, the unplaced listed with a reason, and the same input giving the same plan."""

from __future__ import annotations

from collections import Counter, defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.logistics.packing import Place, by_delegation, by_unit, pack
from app.services.logistics.people import Person

LEADER, DELEGATE = "领导", "代表"


def person(cid: int, *, unit: int = 1, group: str | None = None, role: str = DELEGATE, rank: int = 100,
           diet: tuple[str, ...] = ()) -> Person:
    return Person(contact_id=cid, name=f"人{cid:04d}", unit_id=unit, unit_name=f"单位{unit}", unit_order=unit,
                  role=role, group=group, gender=None, rank=rank, title="", arrival=None, departure=None,
                  needs_room=False, accessible=False, diet=diet, photo=None, registration_id=None)


def where(plan) -> dict[int, list[int]]:
    out = defaultdict(list)
    for cid, place in plan.placed.items():
        out[place].append(cid)
    return out


def test_a_unit_sits_together_and_tables_fill_in_order():
    people = [person(i, unit=1 + i // 4) for i in range(12)]  # three units of four
    places = [Place(10 + i, str(i + 1), 6) for i in range(3)]
    plan = pack(people, places, together=by_delegation)
    assert plan.unplaced == []
    tables = {cid: place for cid, place in plan.placed.items()}
    for unit in range(3):
        assert len({tables[i] for i in range(unit * 4, unit * 4 + 4)}) == 1
    # Units 1 and 2 fill tables 1 and 2; unit 3 has no table with four free seats but table 3.
    assert [tables[0], tables[4], tables[8]] == [10, 11, 12]


def test_a_delegation_beats_the_unit_and_a_big_one_is_split_in_few_pieces():
    people = [person(i, unit=i % 3, group="第一代表团") for i in range(15)] + [person(100, unit=5)]
    places = [Place(1, "1", 10), Place(2, "2", 10)]
    plan = pack(people, places, together=by_delegation)
    counts = Counter(plan.placed[i] for i in range(15))
    assert sorted(counts.values()) == [5, 10]  # two pieces, not scattered
    assert plan.unplaced == []


def test_leaders_take_the_head_table_by_rank_and_nobody_else_does():
    people = [person(1, role=LEADER, rank=3), person(2, role=LEADER, rank=1), person(3, role=LEADER, rank=2),
              person(4), person(5)]
    places = [Place(1, "主桌", 2, head=True), Place(2, "1", 10)]
    plan = pack(people, places, together=by_delegation)
    assert sorted(where(plan)[1]) == [2, 3]  # the two best ranks
    assert plan.placed[1] == 2 and plan.placed[4] == 2


def test_a_reserved_table_takes_only_its_delegation_and_the_rest_are_told_why():
    people = [person(1, group="甲团"), person(2, group="甲团"), person(3, unit=2), person(4, unit=2)]
    places = [Place(1, "甲团桌", 4, reserved="甲团"), Place(2, "1", 1)]
    plan = pack(people, places, together=by_delegation, where="餐桌")
    assert where(plan)[1] == [1, 2]
    assert [u.code for u in plan.unplaced] == ["only_reserved"]
    assert "预留" in plan.unplaced[0].reason


def test_no_seat_left_is_said_so():
    plan = pack([person(i) for i in range(3)], [Place(1, "1 号车", 2)], together=by_unit, where="车辆")
    assert len(plan.placed) == 2
    assert [(u.contact_id, u.code) for u in plan.unplaced] == [(2, "no_seat")]
    assert plan.unplaced[0].reason == "座位已满：所有车辆都已坐满"


def test_people_already_there_count_against_the_seats():
    plan = pack([person(1), person(2)], [Place(1, "1", 3, taken=2), Place(2, "2", 3)], together=by_unit)
    assert where(plan) == {2: [1, 2]}


# -- properties on generated data ------------------------------------------------------------------

people_lists = st.lists(
    st.tuples(st.integers(1, 6), st.sampled_from([None, None, "甲团", "乙团"]), st.sampled_from([LEADER, DELEGATE,
              DELEGATE, DELEGATE]), st.integers(1, 5)),
    max_size=80).map(lambda rows: [person(i + 1, unit=u, group=g, role=r, rank=k) for i, (u, g, r, k) in enumerate(rows)])
place_lists = st.lists(
    st.tuples(st.integers(1, 12), st.booleans(), st.sampled_from([None, None, None, "甲团"]), st.integers(0, 3)),
    max_size=12).map(lambda rows: [Place(100 + i, str(i + 1), seats, min(taken, seats), head and i == 0, reserved)
                                   for i, (seats, head, reserved, taken) in enumerate(rows)])


@settings(max_examples=150, deadline=None)
@given(people_lists, place_lists, st.sampled_from([by_delegation, by_unit]))
def test_never_over_capacity_everyone_accounted_for_and_deterministic(people, places, together):
    plan = pack(people, places, together=together)
    load = Counter(plan.placed.values())
    for place in places:
        assert place.taken + load[place.id] <= place.seats
        if place.reserved:
            assert all(p.group == place.reserved for p in people if plan.placed.get(p.contact_id) == place.id)
        if place.head:
            assert all(p.role == LEADER for p in people if plan.placed.get(p.contact_id) == place.id)
    unplaced = {u.contact_id for u in plan.unplaced}
    assert unplaced.isdisjoint(plan.placed) and unplaced | set(plan.placed) == {p.contact_id for p in people}
    if unplaced:  # someone is left out only when no seat they may take is free
        open_seats = sum(p.seats - p.taken - load[p.id] for p in places if not p.head and not p.reserved)
        assert open_seats == 0
    assert pack(list(reversed(people)), places, together=together) == plan


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(1, 8), min_size=1, max_size=10), st.integers(8, 12), st.integers(0, 3))
def test_a_block_that_fits_a_table_is_never_split_when_there_are_tables_enough(sizes, seats, spare):
    people, cid = [], 0
    for unit, size in enumerate(sizes):
        for _ in range(size):
            cid += 1
            people.append(person(cid, unit=unit))
    places = [Place(i + 1, str(i + 1), seats) for i in range(len(sizes) + spare)]
    plan = pack(people, places, together=by_unit)
    assert plan.unplaced == []
    for unit in range(len(sizes)):
        assert len({plan.placed[p.contact_id] for p in people if p.unit_id == unit}) == 1
