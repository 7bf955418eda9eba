"""The merge of desks' scans: every scan kept once, one sign-in per person with the earliest time,
conflicts between desks shown, bad codes kept and flagged."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.services.live import headcount
from app.services.meetings import leaves
from app.services.signin import desk_sync, personal_codes
from app.services.signin.write import sign_in
from models import DeskScan, SignIn, SignInMethod
from tests.door.conftest import minutes


def _live(db, door):
    return {s.contact_id: s for s in db.session.scalars(
        select(SignIn).where(SignIn.meeting_id == door.meeting.id, SignIn.revoked_at.is_(None)))}


def test_two_desks_one_person_is_one_signin_at_the_earliest_time_and_a_conflict(db, door):
    a, b = door.desks
    p = door.people[0]
    t0 = datetime.now(UTC) - minutes(30)
    # Desk A saw them later and syncs first; desk B saw them earlier and syncs after.
    desk_sync.sync(a, [door.scan(p, t0 + minutes(3), scan_id="a1")])
    assert _live(db, door)[p.id].signed_at == t0 + minutes(3)
    result = desk_sync.sync(b, [door.scan(p, t0, scan_id="b1")])
    assert result.moved_earlier == 1
    live = _live(db, door)
    assert len(live) == 1 and live[p.id].signed_at == t0 and live[p.id].method == SignInMethod.DESK
    conflicts = desk_sync.conflicts(door.meeting)
    assert len(conflicts) == 1 and conflicts[0].name == p.name and conflicts[0].signed_at == t0
    assert sorted(s.desk for s in conflicts[0].scans) == ["1号签到台", "2号签到台"]
    # The same batch again adds nothing.
    again = desk_sync.sync(b, [door.scan(p, t0, scan_id="b1")])
    assert again.new == 0
    assert db.session.scalar(select(SignIn.id).where(SignIn.contact_id == p.id).limit(1)) is not None
    assert len(db.session.scalars(select(DeskScan)).all()) == 2
    assert headcount.database_truth(door.meeting.sessions[0].id) == (1, 0)


def test_an_online_signin_after_the_offline_scan_is_moved_to_the_scan_time(db, door):
    p = door.people[1]
    session = door.meeting.sessions[0]
    online = sign_in(door.meeting, session, p, method=SignInMethod.MINIPROGRAM)
    earlier = online.record.signed_at - minutes(10)
    desk_sync.sync(door.desks[0], [door.scan(p, earlier)])
    assert _live(db, door)[p.id].signed_at == earlier
    # A later desk scan changes nothing.
    desk_sync.sync(door.desks[1], [door.scan(p, earlier + minutes(5))])
    assert _live(db, door)[p.id].signed_at == earlier


def test_bad_codes_are_kept_and_flagged_never_signing_anyone_in(db, door, factory):
    desk = door.desks[0]
    at = datetime.now(UTC) - minutes(5)
    revoked, on_leave, removed = door.people[2], door.people[3], door.people[4]
    personal_codes.revoke(door.meeting, revoked, reason="胸卡遗失", actor=door.owner)
    leaves.record_leave(door.meeting, on_leave, reason="出差", approver="王主任", actor="test")
    stranger = factory.contact(name="名单外")
    scans = [
        door.scan(revoked, at, scan_id="revoked"),
        door.scan(personal_codes.personal_code(door.other, door.people[0]), at, scan_id="other"),
        door.scan("HY" + "A" * 128, at, scan_id="forged"),
        door.scan("not a code", at, scan_id="junk"),
        door.scan(on_leave, at, scan_id="leave"),
        door.scan(personal_codes.personal_code(door.meeting, stranger), at, scan_id="stranger"),
        door.scan(removed, at, scan_id="nosession", session=9),
        door.scan(door.people[5], datetime(2099, 1, 1, tzinfo=UTC), scan_id="expired"),
        door.scan(door.people[0], at, scan_id="ok"),
    ]
    result = desk_sync.sync(desk, scans)
    assert result.flagged == {"revoked": "revoked", "other": "other_meeting", "forged": "forged", "junk": "forged",
                              "leave": "on_leave", "stranger": "not_invited", "nosession": "session_not_found",
                              "expired": "expired"}
    assert set(_live(db, door)) == {door.people[0].id}
    flagged = desk_sync.flagged_scans(door.meeting)
    assert {f.flag for f in flagged} == set(result.flagged.values())
    assert {f.flag_label for f in flagged} >= {"代码已撤销", "非本会议代码", "无效代码", "已请假", "不在参会名单"}
    assert desk_sync.counts(door.meeting) == {"scans": 9, "flagged": 8}


def test_offline_signins_reach_the_reports_the_screen_and_the_desks_with_their_real_times(db, door):
    from app.services.reports.export import export
    from app.services.signin import desks
    from app.services.timeutil import local
    from tests.reports.helpers import xlsx_sheets

    p = door.people[0]
    at = datetime.now(UTC).replace(microsecond=0) - minutes(40)
    desk_sync.sync(door.desks[1], [door.scan(p, at)])
    session = door.meeting.sessions[0]
    # The big screen's recent sign-ins and numbers.
    recent = headcount.recent_signins(session.id)
    assert [r.name for r in recent] == [p.name] and recent[0].at == headcount._hm(at)
    assert headcount.numbers(door.meeting, session, missing=False).arrived == 1
    # The 签到表 has the desk's time and says how.
    rows = xlsx_sheets(export(door.meeting, "signin_sheet", "xlsx", actor="test").data)["签到表"]["rows"]
    mine = next(r for r in rows if r[2] == p.name)
    assert mine[7] == "验码签到" and mine[6] is not None and mine[6].minute == local(at).minute
    # Another desk's data says who signed them in.
    signed = desks.bundle(door.desks[0])["signed"]
    assert signed == [{"contact_id": p.id, "session": 1, "at": at.isoformat(), "by": "2号签到台"}]


def test_a_desk_clock_far_off_is_corrected_by_its_offset_at_sync(db, door):
    now = datetime.now(UTC).replace(microsecond=0)
    wrong = datetime(1970, 1, 2, tzinfo=UTC)  # a phone whose clock was reset
    p = door.people[3]
    desk_sync.sync(door.desks[0], [door.scan(p, wrong - minutes(10), scan_id="w")], now=now, device_now=wrong)
    row = db.session.scalar(select(DeskScan).where(DeskScan.scan_id == "w"))
    assert row.scanned_at == now - minutes(10) and row.device_at == wrong - minutes(10) and row.flag is None
    assert _live(db, door)[p.id].signed_at == now - minutes(10)
    # Within two minutes a device's own times stand.
    q = door.people[4]
    desk_sync.sync(door.desks[0], [door.scan(q, now - minutes(5), scan_id="ok")], now=now,
                   device_now=now + minutes(1))
    assert _live(db, door)[q.id].signed_at == now - minutes(5)


def test_scans_made_while_the_meeting_was_open_count_after_it_closed(db, door):
    from models import MeetingState

    p, q = door.people[0], door.people[1]
    at = datetime.now(UTC) - minutes(5)
    door.meeting.state = MeetingState.CLOSED
    door.meeting.ends_at = at + minutes(1)
    result = desk_sync.sync(door.desks[0], [door.scan(p, at, scan_id="during"),
                                            door.scan(q, at + minutes(3), scan_id="after")])
    assert result.flagged == {"after": "meeting_closed"}
    assert set(_live(db, door)) == {p.id}
