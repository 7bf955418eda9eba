"""Attendance across meetings: the numbers equal the hand-built set (tests/attendance/conftest.py),
who may include which meeting, the filters and their refusals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.services.attendance import query as svc
from app.services.attendance.query import AttendanceError, Filters, Viewer
from tests.attendance.conftest import NOW
from tests.factories import ANCHOR

RANGE = Filters(date(2026, 11, 1), date(2026, 11, 30))

# (invited, attended, late, leave, absent, rate) by hand, over M1-M3 (an organizer of BGS).
PEOPLE = {
    "张一": (3, 2, 1, 0, 1, 66.7),
    "张二": (2, 2, 1, 0, 0, 100.0),
    "张三": (1, 0, 0, 1, 0, None),
    "李一": (3, 2, 0, 0, 1, 66.7),
    "李二": (2, 1, 0, 0, 1, 50.0),
}
UNITS = {"区发展和改革局": (6, 4, 2, 1, 1, 80.0), "区财政局": (5, 3, 0, 0, 2, 60.0)}
MEETINGS = {"MT1": (5, 3, 1, 1, 1, 75.0), "MT2": (3, 3, 1, 0, 0, 100.0), "MT3": (3, 1, 0, 0, 2, 33.3)}


def nums(row):
    return (row.invited, row.attended, row.late, row.leave, row.absent, row.rate)


def test_numbers_equal_the_hand_built_set(att):
    result = svc.attendance(svc.console_viewer(att.organizer), RANGE, now=NOW)
    assert {p.name: nums(p) for p in result.people} == PEOPLE
    assert {u.name: nums(u) for u in result.units} == UNITS
    assert {m.code: nums(m) for m in result.meetings} == MEETINGS
    assert nums(result.total) == (11, 7, 2, 1, 3, 70.0)
    # Default orders: people in the directory's order (units, then people, as added), units worst
    # rate first.
    assert [p.name for p in result.people] == ["张一", "张二", "张三", "李一", "李二"]
    assert [u.name for u in result.units] == ["区财政局", "区发展和改革局"]
    assert {u.name: u.people for u in result.units} == {"区发展和改革局": 3, "区财政局": 2}


def test_a_system_admin_counts_every_meeting_an_organizer_only_their_own(att):
    admin = svc.attendance(svc.console_viewer(att.admin), RANGE, now=NOW)
    assert [m.code for m in admin.meetings] == ["MT1", "MT2", "MT3", "MT6"]
    assert nums(next(p for p in admin.people if p.name == "张一")) == (4, 3, 1, 0, 1, 75.0)
    other = svc.attendance(svc.console_viewer(att.other_organizer), RANGE, now=NOW)
    assert [m.code for m in other.meetings] == ["MT6"] and [p.name for p in other.people] == ["张一"]
    # Someone with no right anywhere counts nothing, and is told nothing about any meeting.
    stranger = svc.attendance(svc.console_viewer(att.people["b2"]), RANGE, now=NOW)
    assert stranger.meetings == [] and stranger.people == [] and stranger.total.invited == 0
    with pytest.raises(AttendanceError) as err:
        svc.attendance(svc.console_viewer(att.people["b2"]), Filters(codes=("MT1",)), now=NOW)
    assert err.value.code == "meeting_not_found" and err.value.status == 404


def test_drafts_and_meetings_not_over_are_left_out_and_refused_by_name(att):
    result = svc.attendance(svc.CLI_VIEWER, Filters(date(2026, 11, 1), date(2026, 11, 30)), now=NOW)
    assert "MT4" not in [m.code for m in result.meetings] and "MT5" not in [m.code for m in result.meetings]
    for code in ("MT4", "MT5"):
        with pytest.raises(AttendanceError) as err:
            svc.attendance(svc.CLI_VIEWER, Filters(codes=("MT1", code)), now=NOW)
        assert err.value.code == "meeting_not_over"
    # Once M5 is over, it counts (everyone invited, nobody came).
    later = svc.attendance(svc.CLI_VIEWER, Filters(codes=("MT5",)), now=NOW + timedelta(hours=3))
    assert nums(later.meetings[0]) == (4, 0, 0, 0, 4, 0.0)


def test_a_unit_filter_and_the_unit_office_see_only_that_units_people(att):
    by_filter = svc.attendance(svc.console_viewer(att.organizer), Filters(RANGE.date_from, RANGE.date_to, "CZJ"),
                               now=NOW)
    assert {p.name: nums(p) for p in by_filter.people} == {k: v for k, v in PEOPLE.items() if k.startswith("李")}
    assert [u.name for u in by_filter.units] == ["区财政局"]
    assert {m.code: m.invited for m in by_filter.meetings} == {"MT1": 2, "MT2": 1, "MT3": 2}
    # A unit office asking for another unit still gets its own people only.
    office = svc.attendance(svc.unit_office_viewer(att.fgj), Filters(RANGE.date_from, RANGE.date_to, "CZJ"), now=NOW)
    assert {p.name for p in office.people} == {"张一", "张二", "张三"} and office.unit.code == "FGJ"
    assert nums(next(p for p in office.people if p.name == "张一")) == (4, 3, 1, 0, 1, 75.0)


def test_a_date_range_a_list_and_a_title_keyword(att):
    viewer = svc.console_viewer(att.organizer)
    day = (ANCHOR - timedelta(days=5)).date()
    assert [m.code for m in svc.attendance(viewer, Filters(day, day), now=NOW).meetings] == ["MT2"]
    listed = svc.attendance(viewer, Filters(codes=("MT3", "MT1")), now=NOW)
    assert [m.code for m in listed.meetings] == ["MT1", "MT3"]
    assert [m.code for m in svc.attendance(viewer, Filters(RANGE.date_from, RANGE.date_to, q="MT2"), now=NOW).meetings] \
        == ["MT2"]


def test_sorting_and_paging(att):
    result = svc.attendance(svc.console_viewer(att.organizer), RANGE, now=NOW)
    assert [p.name for p in svc.sort_rows(result.people, "rate")] == ["李二", "张一", "李一", "张二", "张三"]
    assert [p.name for p in svc.sort_rows(result.people, "rate", desc=True)] == ["张二", "张一", "李一", "李二", "张三"]
    assert [p.name for p in svc.sort_rows(result.people, "absent", desc=True)][:3] == ["张一", "李一", "李二"]
    assert [m.code for m in svc.sort_rows(result.meetings, "start", desc=True)] == ["MT3", "MT2", "MT1"]
    page = svc.page_of(result.people, 2, 2)
    assert (page.page, page.pages, page.total, [p.name for p in page.rows]) == (2, 3, 5, ["张三", "李一"])
    assert svc.page_of(result.people, 99, 2).page == 3


@pytest.mark.parametrize(("start", "end", "code"), [
    ("2026-13-01", "2026-12-01", "date_invalid"),
    ("昨天", "2026-12-01", "date_invalid"),
    ("", "2026-12-01", "date_missing"),
    ("", "", "date_missing"),
    ("2026-12-01", "2026-11-01", "range_reversed"),
    ("2010-01-01", "2026-01-01", "range_too_long"),
])
def test_bad_filters_are_refused_in_chinese(start, end, code):
    with pytest.raises(AttendanceError) as err:
        svc.make_filters(start, end)
    assert err.value.code == code and any("\u4e00" <= ch <= "\u9fff" for ch in err.value.message)


def test_dates_as_people_type_them_and_an_unknown_unit(att):
    assert svc.make_filters("2026/11/1", "20261130").date_to == date(2026, 11, 30)
    assert svc.make_filters("2026年11月1日", "2026.11.30").date_from == date(2026, 11, 1)
    with pytest.raises(AttendanceError) as err:
        svc.attendance(svc.CLI_VIEWER, Filters(RANGE.date_from, RANGE.date_to, "NOPE"), now=NOW)
    assert err.value.code == "unit_not_found"


def test_viewer_and_filters_survive_a_jobs_arguments():
    viewer = Viewer(contact_id=7)
    assert Viewer.from_args(viewer.to_args()) == viewer
    filters = Filters(date(2026, 11, 1), date(2026, 11, 30), "FGJ", ("MT1",), "常委")
    assert Filters.from_args(filters.to_args()) == filters


def test_a_meetings_staff_count_it_its_viewers_do_not(att, factory, db):
    """Attendance lists people: the right to list a meeting's people (staff, owner), not a viewer's."""
    from app.services.meetings.organizers import add_organizer
    from models import OrganizerRight

    staff = factory.contact(att.other_org, name="会务员")
    viewer = factory.contact(att.other_org, name="只读员")
    add_organizer("MT1", staff.phone, actor="test", right=OrganizerRight.STAFF)
    add_organizer("MT1", viewer.phone, actor="test", right=OrganizerRight.VIEWER)
    db.session.flush()
    as_staff = svc.attendance(svc.console_viewer(staff), RANGE, now=NOW)
    assert [m.code for m in as_staff.meetings] == ["MT1"] and nums(as_staff.meetings[0]) == MEETINGS["MT1"]
    as_viewer = svc.attendance(svc.console_viewer(viewer), RANGE, now=NOW)
    assert as_viewer.meetings == [] and as_viewer.people == []
    with pytest.raises(AttendanceError) as err:
        svc.attendance(svc.console_viewer(viewer), Filters(codes=("MT1",)), now=NOW)
    assert err.value.code == "meeting_not_found"
