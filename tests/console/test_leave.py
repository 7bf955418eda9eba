"""请假 and the headcount: a person on leave leaves 应到 and is counted as 请假; deactivated people are
expected nowhere; missing people carry their 职务."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.live import headcount
from app.services.meetings import leaves
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from models import Admission, AuditLog, Leave, MeetingUnit


def _numbers(meeting):
    return headcount.numbers(meeting, get_session(meeting), recent=False)


def test_leave_takes_a_person_out_of_expected_and_shows_as_leave(db, console):
    meeting, person = console.meeting, console.people[0]
    before = _numbers(meeting)  # also caches the roster: the leave must invalidate it
    assert (before.expected, before.leave) == (4, 0)

    leaves.record_leave(meeting, person, reason="赴省里开会", approver="王主任", actor="contact:1")
    db.session.commit()
    after = _numbers(meeting)
    assert (after.expected, after.leave) == (3, 1)
    unit = next(u for u in after.units if u.unit_id == person.unit_id)
    assert unit.leave == 1 and person.id not in [m["id"] for m in unit.missing]
    data = after.to_dict()
    assert data["leave"] == 1 and data["expected"] == 3
    assert data["on_leave"] == [{"id": person.id, "name": person.name, "unit": person.unit.name,
                                 "reason": "赴省里开会"}]
    assert next(u for u in data["units"] if u["unit_id"] == person.unit_id)["leave"] == 1
    screen = after.to_dict(with_missing=False, mask=True)
    assert "on_leave" not in screen and screen["leave"] == 1 and "missing" not in screen["units"][0]

    # Recording again updates the one row; cancelling brings the person back.
    leaves.record_leave(meeting, person, reason="身体不适", approver="李书记", actor="contact:1")
    db.session.commit()
    row = db.session.scalar(select(Leave).where(Leave.meeting_id == meeting.id))
    assert (row.reason, row.approver) == ("身体不适", "李书记")
    assert db.session.scalar(select(func.count()).select_from(Leave)) == 1
    assert _numbers(meeting).on_leave[0]["reason"] == "身体不适"
    leaves.cancel_leave(meeting, person, actor="contact:1")
    db.session.commit()
    back = _numbers(meeting)
    assert (back.expected, back.leave, back.on_leave) == (4, 0, [])
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.action.startswith("leave."))
                                 .order_by(AuditLog.id)).all()
    assert actions == ["leave.record", "leave.record", "leave.cancel"]
    with pytest.raises(leaves.LeaveError) as err:
        leaves.cancel_leave(meeting, person, actor="contact:1")
    assert err.value.code == "leave_not_found" and err.value.status == 409


@pytest.mark.parametrize(("reason", "approver", "code"), [
    ("", "王主任", "leave_reason_missing"), ("出差", " ", "leave_approver_missing"),
    ("出" * 201, "王主任", "leave_too_long")])
def test_leave_needs_a_reason_and_an_approver(db, console, reason, approver, code):
    with pytest.raises(leaves.LeaveError) as err:
        leaves.record_leave(console.meeting, console.people[0], reason=reason, approver=approver, actor="t")
    assert err.value.code == code
    assert db.session.scalar(select(func.count()).select_from(Leave)) == 0


def test_only_expected_people_go_on_leave(db, console):
    with pytest.raises(leaves.LeaveError) as err:
        leaves.record_leave(console.meeting, console.stranger, reason="出差", approver="王主任", actor="t")
    assert err.value.code == "not_expected" and console.stranger.name in err.value.message


def test_someone_on_leave_who_comes_anyway_counts_as_arrived(db, console):
    meeting, people = console.meeting, console.people
    leaves.record_leave(meeting, people[0], reason="出差", approver="王主任", actor="t")
    db.session.commit()
    session = get_session(meeting)
    for p in people:
        sign_in(meeting, session, p, method="scan", check_window=False)
    db.session.commit()
    n = _numbers(meeting)
    assert (n.expected, n.arrived, n.leave, n.rate) == (3, 4, 1, 100.0)


def test_deactivated_people_leave_expected_and_missing_carry_their_title(db, console):
    meeting, people = console.meeting, console.people
    people[0].title = "副局长"
    people[1].active = False
    db.session.commit()
    n = _numbers(meeting)
    assert n.expected == 3
    missing = {m["id"]: m for u in n.to_dict()["units"] for m in u["missing"]}
    assert people[1].id not in missing
    assert missing[people[0].id] == {"id": people[0].id, "name": people[0].name, "title": "副局长"}
    assert missing[people[2].id]["title"] is None


def test_units_admission_counts_active_people_of_listed_units_and_their_leave(db, console, factory):
    meeting = console.meeting
    meeting.admission = Admission.UNITS
    db.session.add(MeetingUnit(meeting_id=meeting.id, unit_id=console.other_unit.id))
    db.session.commit()
    everyone = _numbers(meeting).expected
    # 组织部: 他部门陈 and two invitees, all active; a deactivated colleague is not expected.
    factory.contact(console.other_unit, name="已调走", active=False)
    db.session.commit()
    headcount.forget_roster(get_session(meeting).id)
    assert _numbers(meeting).expected == everyone
    leaves.record_leave(meeting, console.outsider, reason="外出", approver="陈部长", actor="t")
    db.session.commit()
    n = _numbers(meeting)
    assert (n.expected, n.leave) == (everyone - 1, 1)
    assert [p["id"] for p in n.on_leave] == [console.outsider.id]
