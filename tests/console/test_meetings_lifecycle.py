"""A meeting's life: creating for an organizing unit, settings and their rules, the state machine,
closing sign-in, copying; and the caches every change must invalidate."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.extensions import get_redis
from app.services import meeting_cache
from app.services.errors import DomainError
from app.services.live import headcount
from app.services.meetings import lifecycle
from app.services.meetings.meetings import RESERVED_CODES, create_meeting, get_meeting, new_meeting_code
from app.services.signin.write import sign_in
from models import AuditLog, Invitee, Leave, Meeting, MeetingSession, MeetingState, Organizer, SignIn
from tests.factories import ANCHOR


def _codes(db, action: str, meeting_id: int) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action,
                                                          AuditLog.meeting_id == meeting_id).order_by(AuditLog.id)))


def _refused(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


def _draft(factory, console, code="DRAFT1", **kw) -> Meeting:
    m = factory.meeting(code, title="全区工作会议", starts_at=ANCHOR, publish=False, **kw)
    m.unit_id = console.unit.id
    factory.db.session.flush()
    return m


# -- create -----------------------------------------------------------------------------------------
def test_new_meeting_needs_an_organizing_unit_of_the_editor(console, db):
    kw = {"actor": "t", "title": "会", "starts_at": ANCHOR, "ends_at": ANCHOR + timedelta(hours=2)}
    _refused("no_organizing_unit", lifecycle.new_meeting, console.staff, unit_code="BGS", **kw)
    _refused("unit_required", lifecycle.new_meeting, console.owner, unit_code="", **kw)
    _refused("unit_not_yours", lifecycle.new_meeting, console.owner, unit_code="ZZB", **kw)
    _refused("unit_not_found", lifecycle.new_meeting, console.owner, unit_code="NOPE", **kw)
    _refused("time_missing", lifecycle.new_meeting, console.owner, unit_code="BGS", actor="t", title="会",
             starts_at=None, ends_at=ANCHOR)
    m = lifecycle.new_meeting(console.owner, unit_code="BGS", **kw)
    assert m.unit_id == console.unit.id and m.state == MeetingState.DRAFT
    assert m.sessions[0].signin_opens_at == ANCHOR - timedelta(hours=2)


def test_codes_are_generated_unique_and_reserved_words_refused(db, console):
    made = {new_meeting_code() for _ in range(50)}
    assert len(made) == 50 and all(re.fullmatch(r"[A-HJKMNP-Z2-9]{6}", c) for c in made)
    kw = {"actor": "t", "starts_at": ANCHOR, "ends_at": ANCHOR + timedelta(hours=1)}
    for word in ("login", "LOGOUT", "new", "system", "codes"):
        assert word.lower() in RESERVED_CODES
        _refused("meeting_code_reserved", create_meeting, word, "会", **kw)
    auto = create_meeting("", "会", **kw)
    assert len(auto.code) == 6 and get_meeting(auto.code).id == auto.id
    _refused("too_long", create_meeting, "", "会" * 201, **kw)
    _refused("too_long", create_meeting, "", "会", venue="地" * 201, **kw)


# -- the state machine ------------------------------------------------------------------------------
ALLOWED = {("draft", "publish"): "published", ("published", "close"): "closed",
           ("closed", "archive"): "archived", ("closed", "reopen"): "published"}


@pytest.mark.parametrize("state", ["draft", "published", "closed", "archived"])
@pytest.mark.parametrize("verb", ["publish", "close", "archive", "reopen"])
def test_state_machine(console, factory, db, state, verb):
    m = _draft(factory, console)
    m.state = state
    db.session.flush()
    target = ALLOWED.get((state, verb))
    if target is None:
        error = _refused("state_invalid", lifecycle.transition, m, verb, actor="t")
        assert f"会议当前为“{lifecycle.STATE_NAMES[state]}”" in error.message
        assert m.state == state and _codes(db, f"meeting.{verb}", m.id) == []
    else:
        lifecycle.transition(m, verb, actor="t")
        assert m.state == target
        assert _codes(db, f"meeting.{verb}", m.id)[0].data == {"before": state, "after": target}


def test_publish_refuses_a_meeting_without_sessions(console, factory, db):
    m = _draft(factory, console)
    db.session.delete(m.sessions[0])
    db.session.flush()
    db.session.refresh(m)
    _refused("no_sessions", lifecycle.publish, m, actor="t")
    assert m.state == "draft"


def test_close_signin_ends_open_windows_only(console, factory, db):
    m = _draft(factory, console)
    now = ANCHOR + timedelta(minutes=30)
    _refused("state_invalid", lifecycle.close_signin, m, actor="t", now=now)
    lifecycle.publish(m, actor="t")
    early = MeetingSession(position=2, title="上午", starts_at=ANCHOR - timedelta(hours=4),
                           ends_at=ANCHOR - timedelta(hours=2), signin_opens_at=ANCHOR - timedelta(hours=5),
                           signin_closes_at=ANCHOR - timedelta(hours=2))
    later = MeetingSession(position=3, title="明天", starts_at=ANCHOR + timedelta(days=1),
                           ends_at=ANCHOR + timedelta(days=1, hours=2),
                           signin_opens_at=ANCHOR + timedelta(days=1, hours=-2),
                           signin_closes_at=ANCHOR + timedelta(days=1, hours=2))
    m.sessions.extend([early, later])
    db.session.flush()
    assert lifecycle.close_signin(m, actor="t", now=now) == [1, 3]
    assert m.sessions[0].signin_closes_at == now
    assert early.signin_closes_at == ANCHOR - timedelta(hours=2)  # already closed: untouched
    assert later.signin_opens_at == now and later.signin_closes_at == now
    assert _codes(db, "meeting.signin_close", m.id)[0].data["sessions"] == [1, 3]


# -- settings ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("kw", "code"), [
    ({"title": "  "}, "title_missing"),
    ({"title": "会" * 201}, "too_long"),
    ({"intro": "介" * 5001}, "too_long"),
    ({"ends_at": ANCHOR - timedelta(hours=1)}, "time_order"),
    ({"admission": "all"}, "admission_invalid"),
    ({"presence": "face"}, "presence_invalid"),
    ({"late_after_minutes": "-1"}, "late_invalid"),
    ({"late_after_minutes": "241"}, "late_invalid"),
    ({"late_after_minutes": "十"}, "late_invalid"),
    ({"unit_code": "ZZB"}, "unit_not_yours"),
    ({"listed_unit_codes": ["NOPE"]}, "unit_not_found"),
])
def test_settings_refusals_change_nothing(console, factory, db, kw, code):
    m = _draft(factory, console)
    before = lifecycle.snapshot(m)
    _refused(code, lifecycle.update_settings, m, actor="t", editor=console.owner,
             **({"venue": "新地点", "late_after_minutes": 5} | kw))
    assert lifecycle.snapshot(m) == before
    assert _codes(db, "meeting.update", m.id) == []


def test_settings_change_and_audit(console, factory, db):
    m = _draft(factory, console)
    change = lifecycle.update_settings(m, actor="t", editor=console.owner, title="全区工作会议（调整）",
                                       venue="礼堂", admission="units", listed_unit_codes=["BGS", "ZZB", "BGS"],
                                       presence="link_in_window", late_after_minutes="15", mask_names=True)
    assert m.title == "全区工作会议（调整）" and m.venue == "礼堂" and m.late_after_minutes == 15
    assert sorted(u.code for u in m.units) == ["BGS", "ZZB"] and m.mask_names is True
    assert m.sessions[0].title == "全区工作会议（调整）"  # the only session carried the meeting's title
    assert set(change.changes) == {"title", "venue", "admission", "units", "presence", "late_after_minutes",
                                   "mask_names"}
    assert change.unnotified == []  # a draft: nobody was told anything yet
    assert _codes(db, "meeting.changed", m.id) == []
    update = _codes(db, "meeting.update", m.id)[0]
    assert update.data["changes"]["venue"] == ["", "礼堂"]
    # Saving the same again changes nothing and records nothing.
    again = lifecycle.update_settings(m, actor="t", editor=console.owner, venue="礼堂")
    assert again.changes == {} and len(_codes(db, "meeting.update", m.id)) == 1


def test_published_meeting_change_of_time_or_venue_is_recorded_for_notices(console, factory, db):
    m = _draft(factory, console)
    lifecycle.publish(m, actor="t")
    old_start = m.starts_at
    change = lifecycle.update_settings(m, actor="t", starts_at=ANCHOR + timedelta(hours=1),
                                       ends_at=ANCHOR + timedelta(hours=4), venue="新址")
    assert change.unnotified == ["时间", "地点"]
    changed = _codes(db, "meeting.changed", m.id)
    assert len(changed) == 1 and changed[0].data["notified"] is False
    assert changed[0].data["before"]["starts_at"] == old_start.isoformat()
    assert changed[0].data["after"] == {"starts_at": (ANCHOR + timedelta(hours=1)).isoformat(),
                                        "ends_at": (ANCHOR + timedelta(hours=4)).isoformat(), "venue": "新址"}
    lifecycle.update_settings(m, actor="t", intro="新简介")
    assert len(_codes(db, "meeting.changed", m.id)) == 1  # the intro is not a notice matter


def test_single_session_follows_the_meeting_and_several_must_be_covered(console, factory, db):
    m = _draft(factory, console)
    session = m.sessions[0]
    lead = session.starts_at - session.signin_opens_at
    lifecycle.update_settings(m, actor="t", starts_at=ANCHOR + timedelta(days=1),
                              ends_at=ANCHOR + timedelta(days=1, hours=2))
    assert session.starts_at == ANCHOR + timedelta(days=1) and session.ends_at == m.ends_at
    assert session.starts_at - session.signin_opens_at == lead and session.signin_closes_at == m.ends_at
    m.sessions.append(MeetingSession(position=2, title="下午", starts_at=m.starts_at + timedelta(hours=3),
                                     ends_at=m.starts_at + timedelta(hours=5),
                                     signin_opens_at=m.starts_at + timedelta(hours=2),
                                     signin_closes_at=m.starts_at + timedelta(hours=5)))
    m.ends_at = m.starts_at + timedelta(hours=5)
    db.session.flush()
    error = _refused("sessions_outside", lifecycle.update_settings, m, actor="t",
                     ends_at=m.starts_at + timedelta(hours=4))
    assert "第 2 场“下午”" in error.message
    assert m.ends_at == m.starts_at + timedelta(hours=5)


def test_presence_scan_switches_the_rotating_code_on_unless_told(console, factory, db):
    m = _draft(factory, console)
    change = lifecycle.update_settings(m, actor="t", presence="scan")
    assert m.rotating_qr is True and change.rotating_qr_auto
    m2 = _draft(factory, console, code="DRAFT2")
    change = lifecycle.update_settings(m2, actor="t", presence="scan", rotating_qr=False)
    assert m2.rotating_qr is False and not change.rotating_qr_auto


def test_unit_can_move_only_to_a_unit_the_editor_organizes_for(console, factory, db):
    from models import UnitOrganizer

    m = _draft(factory, console)
    _refused("unit_not_yours", lifecycle.update_settings, m, actor="t", editor=console.owner, unit_code="ZZB")
    db.session.add(UnitOrganizer(unit_id=console.other_unit.id, contact_id=console.owner.id))
    db.session.flush()
    lifecycle.update_settings(m, actor="t", editor=console.owner, unit_code="ZZB")
    assert m.unit_id == console.other_unit.id
    lifecycle.update_settings(m, actor="cli", unit_code="BGS")  # the CLI may name any unit
    assert m.unit_id == console.unit.id


def test_archived_meetings_are_read_only(console, factory, db):
    m = _draft(factory, console)
    m.state = MeetingState.ARCHIVED
    db.session.flush()
    error = _refused("state_invalid", lifecycle.update_settings, m, actor="t", venue="x")
    assert "已归档" in error.message and "复制" in error.message


# -- caches -----------------------------------------------------------------------------------------
def test_a_settings_change_reaches_the_meeting_cache_and_the_roster(console, db):
    m = console.meeting
    cached = get_meeting(m.code, cached=True)
    assert cached.presence == "scan_or_link"
    r = get_redis()
    version = r.get(meeting_cache.VERSION_KEY)
    session_id = m.sessions[0].id
    r.set(headcount.roster_key(session_id), "[]")
    lifecycle.update_settings(m, actor="t", presence="scan")
    db.session.commit()
    assert r.get(meeting_cache.VERSION_KEY) != version
    assert get_meeting(m.code, cached=True).presence == "scan"
    assert r.get(headcount.roster_key(session_id)) is not None  # who is expected did not change
    lifecycle.update_settings(m, actor="t", listed_unit_codes=["ZZB"])
    assert r.get(headcount.roster_key(session_id)) is not None  # not before the commit
    db.session.commit()
    assert r.get(headcount.roster_key(session_id)) is None
    r.set(headcount.roster_key(session_id), "[]")
    lifecycle.update_settings(m, actor="t", admission="units")
    db.session.commit()
    assert r.get(headcount.roster_key(session_id)) is None
    assert headcount.numbers(m, m.sessions[0]).expected > 4  # everyone in BGS and ZZB now


def test_refused_change_leaves_the_roster_alone(console, db):
    m = console.meeting
    r = get_redis()
    r.set(headcount.roster_key(m.sessions[0].id), "[]")
    with pytest.raises(DomainError):
        lifecycle.update_settings(m, actor="t", admission="units", presence="nope")
    db.session.rollback()
    assert r.get(headcount.roster_key(m.sessions[0].id)) is not None


# -- copy -------------------------------------------------------------------------------------------
def test_copy_carries_the_meeting_but_not_its_people_or_records(console, factory, db):
    from app.services.meetings.sessions import add_session, set_agenda

    src = console.meeting
    lifecycle.update_settings(src, actor="t", venue="礼堂", intro="简介", admission="units",
                              listed_unit_codes=["BGS"], presence="scan", late_after_minutes=10, mask_names=True)
    set_agenda(src, [{"time": "09:00", "title": "开幕", "speaker": "王", "place": "主会场"}], actor="t")
    second = add_session(src, actor="t", title="下午", starts_at=src.starts_at + timedelta(hours=1),
                         ends_at=src.starts_at + timedelta(hours=2))
    pending = factory.invitee(src, factory.contact(console.unit))
    pending.status = "pending"
    factory.invitee(src, console.people[0], role="领导", group_name="第一组", seat="A1")
    db.session.add(Leave(meeting_id=src.id, contact_id=console.people[1].id, reason="出差", approver="王主任",
                         recorded_by="t"))
    sign_in(src, src.sessions[0], console.people[2], method="scan", check_window=False)
    starts = ANCHOR + timedelta(days=30)
    copy = lifecycle.copy_meeting(src, actor="contact:1", editor=console.owner, starts_at=starts, with_invitees=True)
    shift = starts - src.starts_at
    assert copy.title == "区委常委扩大会议（副本）" and copy.state == "draft" and copy.code != src.code
    assert (copy.venue, copy.intro, copy.admission, copy.presence) == ("礼堂", "简介", "units", "scan")
    assert copy.late_after_minutes == 10 and copy.mask_names and copy.rotating_qr
    assert [u.code for u in copy.units] == ["BGS"] and copy.unit_id == console.unit.id
    assert copy.agenda == src.agenda and copy.agenda is not src.agenda
    assert [(s.position, s.title) for s in copy.sessions] == [(1, "区委常委扩大会议（副本）"), (2, "下午")]
    for new, old in zip(copy.sessions, [src.sessions[0], second], strict=True):
        assert new.starts_at == old.starts_at + shift and new.signin_opens_at == old.signin_opens_at + shift
        assert new.signin_closes_at == old.signin_closes_at + shift
    invitees = db.session.scalars(select(Invitee).where(Invitee.meeting_id == copy.id)).all()
    assert len(invitees) == 4 + 0  # the four approved ones; the pending walk-in stays behind
    assert {i.contact_id for i in invitees} == {p.id for p in console.people}
    leader = next(i for i in invitees if i.contact_id == console.people[0].id)
    assert (leader.role, leader.group_name, leader.seat, leader.status) == ("领导", "第一组", "A1", "approved")
    def count(model, meeting_id=copy.id) -> int:
        return db.session.scalar(select(func.count()).select_from(model).where(model.meeting_id == meeting_id))

    assert count(SignIn) == 0 and count(Leave) == 0 and count(Organizer) == 0
    assert count(SignIn, src.id) == 1  # the source keeps its own
    assert _codes(db, "meeting.copy", copy.id)[0].data["source"] == src.code
    without = lifecycle.copy_meeting(src, actor="t", starts_at=starts, editor=console.owner)
    assert count(Invitee, without.id) == 0


def test_copy_belongs_to_a_unit_of_the_copier(console, factory, db):
    src = console.meeting
    starts = ANCHOR + timedelta(days=3)
    _refused("no_organizing_unit", lifecycle.copy_meeting, src, actor="t", editor=console.staff, starts_at=starts)
    _refused("unit_not_yours", lifecycle.copy_meeting, src, actor="t", editor=console.owner, starts_at=starts,
             unit_code="ZZB")
    # The outsider organizes for ZZB only: the copy cannot default to the source's unit.
    _refused("unit_required", lifecycle.copy_meeting, src, actor="t", editor=console.outsider, starts_at=starts)
    copy = lifecycle.copy_meeting(src, actor="t", editor=console.outsider, starts_at=starts, unit_code="ZZB")
    assert copy.unit_id == console.other_unit.id
    assert lifecycle.copy_meeting(src, actor="cli", starts_at=starts).unit_id == console.unit.id
    long_src = create_meeting("LONG1", "长" * 200, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    long_copy = lifecycle.copy_meeting(long_src, actor="cli", starts_at=starts)
    assert len(long_copy.title) == 200 and long_copy.title.endswith("（副本）")
