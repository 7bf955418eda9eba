"""Seat plans on the database: geometry checked with stable codes, auto-assign keeping hand-placed
seats, moves and swaps in one transaction, the database refusing two on one seat, the card's text."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.logistics import seating
from app.services.logistics.seating import SeatingError
from models import AuditLog, SeatAssignment, SeatPlan
from tests.seating.helpers import invite_people

FORM = {"name": "主会场", "rows": "4", "seats_per_row": "10", "aisles": "5", "numbering": "odd_right",
        "rostrum_rows": "1", "rostrum_seats": "5", "sections": "", "blocked": "", "on_card": "1"}


@pytest.fixture
def hall(factory):
    meeting = factory.meeting(title="全区干部大会")
    people = invite_people(factory, meeting, 30, units=4, leaders=3)
    plan = seating.create_plan(meeting, FORM, actor="test")
    factory.db.session.flush()
    return meeting, plan, people


def seats_of(plan) -> dict[int, tuple[int, int]]:
    from app.extensions import db

    return {a.contact_id: (a.row, a.seat) for a in db.session.scalars(
        select(SeatAssignment).where(SeatAssignment.plan_id == plan.id))}


def test_auto_assign_seats_everyone_and_card_fields_say_where(hall):
    meeting, plan, people = hall
    out = seating.auto_assign(meeting, plan, actor="test")
    assert out.placed == 30 and out.unseated == []
    seats = seats_of(plan)
    # The three leaders on the rostrum, the 1st in its centre: 主席台 1 排 1 号 (numbered from the centre).
    assert seats[people[0].id] == (-1, 3)
    fields = seating.card_fields(meeting.id)
    assert fields[people[0].id] == {"seat": "主席台 1 排 1 号"}
    assert all(v["seat"].endswith(" 号") for v in fields.values()) and len(fields) == 30


def test_card_fields_is_one_query(hall, db):
    meeting, plan, _people = hall
    seating.auto_assign(meeting, plan, actor="test")
    from sqlalchemy import event

    count = []
    listener = lambda *a, **k: count.append(1)  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        seating.card_fields(meeting.id)
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(count) <= 2


def test_only_the_card_plan_goes_on_the_card(hall):
    meeting, plan, _people = hall
    second = seating.create_plan(meeting, {**FORM, "name": "分会场", "on_card": ""}, actor="test")
    seating.auto_assign(meeting, second, actor="test")
    assert seating.card_fields(meeting.id) == {}
    seating.update_plan(meeting, second.id, {**FORM, "name": "分会场", "on_card": "1"}, actor="test")
    assert len(seating.card_fields(meeting.id)) == 30
    from app.extensions import db

    db.session.refresh(plan)
    assert plan.on_card is False


def test_a_hand_placed_seat_survives_auto_assign(hall):
    meeting, plan, people = hall
    seating.auto_assign(meeting, plan, actor="test")
    someone = people[20]
    seating.move(meeting, plan, someone.id, 4, 10, actor="test")
    seating.auto_assign(meeting, plan, actor="test")
    assert seats_of(plan)[someone.id] == (4, 10)


def test_swap_exchanges_two_seats(hall):
    meeting, plan, people = hall
    seating.auto_assign(meeting, plan, actor="test")
    a, b = people[5].id, people[25].id
    before = seats_of(plan)
    seating.swap(meeting, plan, a, b, actor="test")
    after = seats_of(plan)
    assert after[a] == before[b] and after[b] == before[a]


def test_a_seat_someone_took_meanwhile_is_seat_taken(hall):
    meeting, plan, people = hall
    seating.auto_assign(meeting, plan, actor="test")
    seats = seats_of(plan)
    target = seats[people[10].id]
    with pytest.raises(SeatingError) as err:  # the caller thought the seat was free
        seating.move(meeting, plan, people[11].id, target[0], target[1], actor="test")
    assert err.value.code == "seat_taken" and err.value.status == 409
    assert seats_of(plan) == seats


def test_unseated_person_onto_an_occupied_seat_sends_the_occupant_back(hall):
    meeting, plan, people = hall
    seating.auto_assign(meeting, plan, actor="test")
    seating.unassign(meeting, plan, people[12].id, actor="test")
    target = seats_of(plan)[people[13].id]
    seating.move(meeting, plan, people[12].id, *target, actor="test", occupant=people[13].id)
    seats = seats_of(plan)
    assert seats[people[12].id] == target and people[13].id not in seats


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "", "name_invalid"), ("name", "x" * 65, "name_invalid"), ("name", "a\x00b", "input_invalid"),
    ("rows", "0", "rows_invalid"), ("rows", "-1", "rows_invalid"), ("rows", "1e3", "rows_invalid"),
    ("rows", "201", "rows_invalid"), ("seats_per_row", "abc", "seats_invalid"), ("rows", "99999999999", "rows_invalid"),
    ("aisles", "10", "aisles_invalid"), ("aisles", "三", "aisles_invalid"), ("numbering", "zigzag", "numbering_invalid"),
    ("rostrum_rows", "7", "rostrum_invalid"), ("rostrum_seats", "0", "rostrum_invalid"),
    ("sections", "一团", "section_invalid"), ("sections", "一团 1-9 1-3", "section_invalid"),
    ("sections", "一团 1-2 1-5\n二团 2-3 4-6", "section_invalid"), ("sections", "一团 3-1 1-2", "section_invalid"),
    ("blocked", "3排99号", "blocked_invalid"), ("blocked", "主席台2排1号", "blocked_invalid"),
    ("blocked", "<script>", "blocked_invalid"), ("session", "9", "session_invalid"), ("session", "x", "session_invalid"),
    ("rostrum_people", "查无此人", "rostrum_people_invalid"), ("name", "a" * 100000, "input_invalid"),
])
def test_hostile_plan_input_is_refused_and_nothing_written(factory, db, field, value, code):
    meeting = factory.meeting()
    invite_people(factory, meeting, 2)
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    with pytest.raises(SeatingError) as err:
        seating.create_plan(meeting, {**FORM, field: value}, actor="test")
    assert err.value.code == code
    assert err.value.message and not err.value.message.isascii()
    assert db.session.scalar(select(func.count()).select_from(SeatPlan).where(SeatPlan.meeting_id == meeting.id)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


def test_too_many_seats(factory):
    with pytest.raises(SeatingError) as err:
        seating.create_plan(factory.meeting(), {**FORM, "rows": "200", "seats_per_row": "200", "aisles": ""},
                            actor="test")
    assert err.value.code == "too_many_seats"


def test_plans_of_another_meeting_are_not_found(hall, factory):
    _meeting, plan, _people = hall
    other = factory.meeting()
    with pytest.raises(SeatingError) as err:
        seating.get_plan(other, plan.id)
    assert err.value.code == "plan_not_found" and err.value.status == 404


def test_blocked_seats_and_sections_by_the_forms_words(factory):
    meeting = factory.meeting()
    invite_people(factory, meeting, 12, units=2, groups={i: "第一代表团" for i in range(4)})
    plan = seating.create_plan(meeting, {**FORM, "rostrum_rows": "0", "sections": "第一代表团 2-2 1-4",
                                         "blocked": "1排1号 损坏，1排2号"}, actor="test")
    assert plan.blocked == [{"row": 1, "seat": 5, "reason": "reserved"}, {"row": 1, "seat": 6, "reason": "broken"}]
    assert seating.blocked_text(plan) == "1排2号 预留，1排1号 损坏"  # by position, left to right
    out = seating.auto_assign(meeting, plan, actor="test")
    assert out.unseated == []
    view = seating.plan_view(meeting, plan)
    row2 = view.hall[1]
    assert [s.who.group for s in row2[:4]] == ["第一代表团"] * 4
    assert all(s.who is None for s in view.hall[0] if s.blocked)


def test_a_move_into_another_delegations_section_is_refused(factory):
    meeting = factory.meeting()
    people = invite_people(factory, meeting, 4, groups={0: "一团"})
    plan = seating.create_plan(meeting, {**FORM, "rostrum_rows": "0", "sections": "一团 1-1 1-10"}, actor="test")
    with pytest.raises(SeatingError) as err:
        seating.move(meeting, plan, people[1].id, 1, 3, actor="test")
    assert err.value.code == "seat_invalid" and "一团" in err.value.message
    seating.move(meeting, plan, people[0].id, 1, 3, actor="test")


def test_geometry_shrunk_frees_the_seats_that_are_gone(hall):
    meeting, plan, _people = hall
    seating.auto_assign(meeting, plan, actor="test")
    _plan, freed = seating.update_plan(meeting, plan.id, {**FORM, "rows": "2"}, actor="test")
    assert freed == 7  # 27 in the hall over rows of 10: row 3 held 7


def test_an_archived_meeting_is_the_record_its_seats_do_not_change(hall):
    from app.services.errors import DomainError
    from models import MeetingState

    meeting, plan, people = hall
    seating.auto_assign(meeting, plan, actor="test")
    before = seats_of(plan)
    meeting.state = MeetingState.ARCHIVED
    for call in (lambda: seating.auto_assign(meeting, plan, actor="t"),
                 lambda: seating.unassign(meeting, plan, people[0].id, actor="t"),
                 lambda: seating.clear(meeting, plan, actor="t"),
                 lambda: seating.create_plan(meeting, {**FORM, "name": "新"}, actor="t")):
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "state_invalid"
    assert seats_of(plan) == before


@pytest.mark.parametrize(("contact", "row", "seat", "code"), [
    ("abc", "1", "1", "person_not_invited"), ("-1", "1", "1", "person_not_invited"),
    ("99999999999999999999", "1", "1", "person_not_invited"), (None, "1", "1", "person_not_invited"),
    ("OK", "x", "1", "seat_invalid"), ("OK", "1", "", "seat_invalid"), ("OK", "0", "1", "seat_invalid"),
    ("OK", "-2", "1", "seat_invalid"), ("OK", "99999999999999999999", "1", "seat_invalid"),
    ("OK", "1", "<script>", "seat_invalid"),
])
def test_hostile_move_input(hall, contact, row, seat, code):
    meeting, plan, people = hall
    with pytest.raises(SeatingError) as err:
        seating.move(meeting, plan, people[0].id if contact == "OK" else contact, row, seat, actor="t")
    assert err.value.code == code
    assert seats_of(plan) == {}


def test_the_door_sees_the_seat_at_once_after_every_kind_of_write(hall):
    """Seats are written with bulk statements, yet the door's per-process copy of the cards (kept
    while the meeting cache's copy stands: app/services/cards/book.py) learns of each change."""
    from app.services import meeting_cache
    from app.services.cards import book

    meeting, plan, people = hall
    who = people[7].id

    def seat() -> str | None:
        meeting_cache.meeting_with_sessions(meeting.code, lambda _code: meeting)
        return book.for_door(meeting, lambda _m, b: b.allocated.fixed.get(who, {}).get("seat"))

    assert seat() is None
    seating.auto_assign(meeting, plan, actor="t")
    first = seat()
    assert first and first == seating.card_fields(meeting.id)[who]["seat"]
    seating.move(meeting, plan, who, 4, 1, actor="t")
    assert seat() == seating.seat_text(plan, 4, 1) != first
    seating.unassign(meeting, plan, who, actor="t")
    assert seat() is None
    seating.auto_assign(meeting, plan, actor="t")
    assert seat() is not None
    seating.clear(meeting, plan, actor="t")
    assert seat() is None
