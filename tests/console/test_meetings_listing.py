"""The meeting list's service: who sees what, China-time day groups, filters, the numbers, and its
speed with 10,000 invitees."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from app.services.meetings import listing
from app.services.meetings.organizers import add_organizer
from app.services.signin.write import sign_in
from app.services.timeutil import LOCAL_TZ
from models import Contact, Invitee, MeetingSession, MeetingState, MeetingUnit, SignIn
from tests.console.conftest import login_as


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


def _codes(rows) -> list[str]:
    return [r.meeting.code for r in rows]


def test_groups_by_china_day_and_orders_each(console, factory, db):
    now = _at(23, 0, 30)  # 00:30 in China is still the day before in UTC: the day must be China's
    specs = {"TD1": (_at(23, 9), 3), "TD2": (_at(22, 20), 30), "UP1": (_at(25, 9), 2),
             "UP2": (_at(24, 9), 2), "PS1": (_at(20, 9), 2), "PS2": (_at(22, 21), 2)}
    for code, (starts, hours) in specs.items():
        m = factory.meeting(code, title=f"分组测试{code}", starts_at=starts, hours=hours)
        m.unit_id = console.unit.id
    db.session.flush()
    found = listing.meetings_for(console.owner, now=now, q="分组测试")
    assert _codes(found.today) == ["TD2", "TD1"]  # TD2 began yesterday and runs into today
    assert _codes(found.upcoming) == ["UP2", "UP1"]
    assert _codes(found.past) == ["PS2", "PS1"]  # latest first
    assert found.past_total == 2 and found.pages == 1


def test_rights_decide_what_is_listed(console, factory, db):
    mine = factory.meeting("MINE", title="本单位会议")
    mine.unit_id = console.unit.id
    theirs = factory.meeting("THEIRS", title="他单位会议")
    theirs.unit_id = console.other_unit.id
    legacy = factory.meeting("LEGACY", title="没有主办单位的旧会议")
    db.session.flush()
    add_organizer("LEGACY", console.viewer.phone, actor="t", right="viewer")
    add_organizer("THEIRS", console.owner.phone, actor="t", right="staff")
    now = datetime.now(UTC)

    def listed(contact) -> dict[str, str]:
        found = listing.meetings_for(contact, now=now, state="all")
        return {r.meeting.code: r.right for r in found.today + found.upcoming + found.past}

    assert listed(console.owner) == {"CON1": "owner", "MINE": "owner", "THEIRS": "staff"}
    assert listed(console.viewer) == {"CON1": "viewer", "LEGACY": "viewer"}
    assert listed(console.outsider) == {"THEIRS": "owner"}
    assert listed(console.stranger) == {}
    assert listing.meetings_for(None, now=now).empty
    assert not listing.meetings_for(console.stranger, now=now).any_visible
    assert legacy.code not in listed(console.owner)


def test_state_filter_and_archived_hidden(console, factory, db):
    m = factory.meeting("ARCH", title="归档会议")
    m.unit_id = console.unit.id
    m.state = MeetingState.ARCHIVED
    draft = factory.meeting("DRF", title="草稿会议", publish=False)
    draft.unit_id = console.unit.id
    db.session.flush()
    now = datetime.now(UTC)

    def codes(**kw) -> set[str]:
        found = listing.meetings_for(console.owner, now=now, **kw)
        return set(_codes(found.today + found.upcoming + found.past))

    assert codes() == {"CON1", "DRF"}
    assert codes(state="archived") == {"ARCH"}
    assert codes(state="draft") == {"DRF"}
    assert codes(state="all") == {"CON1", "DRF", "ARCH"}
    assert codes(q="归档") == set() and listing.meetings_for(console.owner, now=now, q="归档").any_visible
    assert codes(q="50%") == set()


def test_past_meetings_are_paged(console, factory, db):
    for i in range(listing.PAST_PER_PAGE + 3):
        m = factory.meeting(f"OLD{i:02d}", title="旧会", starts_at=_at(1, 9) + timedelta(hours=i))
        m.unit_id = console.unit.id
    db.session.flush()
    now = _at(23, 12)
    first = listing.meetings_for(console.owner, now=now, q="旧会")
    second = listing.meetings_for(console.owner, now=now, q="旧会", page=2)
    assert first.pages == 2 and len(first.past) == listing.PAST_PER_PAGE and len(second.past) == 3
    assert first.past[0].meeting.code == f"OLD{listing.PAST_PER_PAGE + 2:02d}"
    assert listing.meetings_for(console.owner, now=now, q="旧会", page=99).page == 2


def test_counts_follow_the_current_session_and_the_roster(console, factory, db):
    meeting = console.meeting
    now = datetime.now(UTC)
    first = meeting.sessions[0]
    later = MeetingSession(position=2, title="明天", starts_at=first.starts_at + timedelta(days=1),
                           ends_at=first.ends_at + timedelta(days=1),
                           signin_opens_at=first.signin_opens_at + timedelta(days=1),
                           signin_closes_at=first.signin_closes_at + timedelta(days=1))
    meeting.sessions.append(later)
    db.session.flush()
    sign_in(meeting, first, console.people[0], method="scan", check_window=False)
    sign_in(meeting, first, console.people[1], method="scan", check_window=False)
    sign_in(meeting, later, console.people[2], method="scan", check_window=False)
    pending = factory.invitee(meeting, factory.contact(console.unit))
    pending.status = "pending"
    db.session.flush()
    counts = listing.meeting_counts([meeting], now=now)[meeting.id]
    assert (counts.invitees, counts.signed_in, counts.sessions, counts.current_position) == (4, 2, 2, 1)
    # Admission "units": everyone active in the listed units, the invitees of other units too, once.
    meeting.admission = "units"
    db.session.add(MeetingUnit(meeting_id=meeting.id, unit_id=console.unit.id))
    db.session.flush()
    in_unit = db.session.scalars(select(Contact.id).where(Contact.unit_id == console.unit.id,
                                                          Contact.active.is_(True))).all()
    others = [p for p in console.people if p.unit_id != console.unit.id]
    counts = listing.meeting_counts([meeting], now=now)[meeting.id]
    assert counts.invitees == len(in_unit) + len(others)


def test_all_meetings_for_the_cli(console, factory, db):
    m = factory.meeting("ZZB9", title="组织部会")
    m.unit_id = console.other_unit.id
    db.session.flush()
    assert [x.code for x in listing.all_meetings(unit_code="ZZB")] == ["ZZB9"]
    assert {x.code for x in listing.all_meetings()} == {"CON1", "ZZB9"}


def test_list_page_stays_fast_with_ten_thousand_invitees(client, console, factory, db):
    meeting = console.meeting
    session = meeting.sessions[0]
    unit_id = console.unit.id
    db.session.execute(insert(Contact), [
        {"unit_id": unit_id, "name": f"代表{i}", "phone": f"1390{i:07d}", "active": True} for i in range(10_000)])
    ids = db.session.scalars(select(Contact.id).where(Contact.phone.like("1390%"))).all()
    db.session.execute(insert(Invitee), [{"meeting_id": meeting.id, "contact_id": cid, "role": "代表",
                                          "status": "approved"} for cid in ids])
    db.session.execute(insert(SignIn), [{"meeting_id": meeting.id, "session_id": session.id, "contact_id": cid,
                                         "method": "scan", "signed_at": datetime.now(UTC)} for cid in ids[:6000]])
    # A units meeting over the same 10,000, and a few more meetings to list.
    big = factory.meeting("BIGU", title="全体大会", admission="units")
    big.unit_id = unit_id
    db.session.add(MeetingUnit(meeting_id=big.id, unit_id=unit_id))
    for i in range(20):
        m = factory.meeting(f"PERF{i}", title=f"历史会议{i}", starts_at=datetime.now(UTC) - timedelta(days=i + 2))
        m.unit_id = unit_id
    db.session.commit()
    login_as(client, console, "owner")
    html = client.get("/admin").get_data(as_text=True)
    assert "<dd>10004</dd>" in html and "<dd>6000</dd>" in html
    # Two rounds of 20, the better one counts: the test machine is shared with other suites.
    rounds = []
    for _ in range(2):
        timings = []
        for _ in range(20):
            started = time.perf_counter()
            assert client.get("/admin").status_code == 200
            timings.append(time.perf_counter() - started)
        rounds.append(sorted(timings)[18])  # the 95th percentile of 20
    assert min(rounds) < 0.3, f"p95 {min(rounds) * 1000:.0f} ms"
