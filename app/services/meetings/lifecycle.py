"""A meeting after it is created: its settings, its state, and copies of it.

States go one way: 草稿 (draft) → 已发布 (published) → 已结束 (closed) → 已归档 (archived), with one
step back (reopen: closed → published) for a meeting closed by mistake. An archived meeting is
read-only; to hold it again, copy it.

What an organizer may choose here, and the rules that hold:
- the organizing unit (主办单位) is one the editor organizes for (the CLI, acting as the deployment,
  may name any unit);
- the meeting's times cover its sessions. A meeting with one session that mirrors its times (how
  every meeting is created) carries the session along when its times change; with several sessions
  the organizer arranges them on the sessions page and the meeting's times must still cover them
  (refusing is safer than silently moving a sitting people were told about);
- a published meeting's change of time or venue is recorded as ``meeting.changed`` (before and
  after) for the notices channel; nobody is notified from here, and the pages say so.

Caches: every change here goes through the ORM, so the process-local meeting cache is cleared on
flush and the other processes are told after commit (:mod:`app.services.meeting_cache`). The live
headcount's cached roster depends on admission and the listed units: a change of either drops it
after the commit.
"""

from __future__ import annotations

import copy as copy_module
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from app.extensions import db
from app.services import audit
from app.services.contacts.units import get_unit
from app.services.errors import DomainError
from app.services.live.headcount import forget_roster
from app.services.meetings.meetings import (
    TITLE_MAX,
    MeetingError,
    check_text,
    clean_intro,
    create_meeting,
)
from app.services.meetings.organizers import organizes_for, organizing_units
from app.services.timeutil import fmt_range_cn
from app.tx import on_commit
from models import (
    Admission,
    Contact,
    Invitee,
    Meeting,
    MeetingSession,
    MeetingState,
    Presence,
    Unit,
)

STATE_NAMES = {MeetingState.DRAFT: "草稿", MeetingState.PUBLISHED: "已发布", MeetingState.CLOSED: "已结束",
               MeetingState.ARCHIVED: "已归档"}
PRESENCE_NAMES = {Presence.SCAN: "仅扫码", Presence.SCAN_OR_LINK: "扫码或链接",
                  Presence.LINK_IN_WINDOW: "签到时段内可用链接"}
ADMISSION_NAMES = {Admission.INVITEES: "仅受邀人员", Admission.UNITS: "所列单位全体",
                   Admission.APPROVAL: "开放签到、会务审核"}
#: Late after more than four hours is no rule at all; a typo (600 for 60) is refused instead.
LATE_MAX = 240
COPY_SUFFIX = "（副本）"
#: What attendees were told and would need telling again when it changes.
NOTICE_FIELDS = {"starts_at": "时间", "ends_at": "时间", "venue": "地点"}

#: verb -> (state it must be in, state it goes to, what to say when it is not)
TRANSITIONS: dict[str, tuple[str, str, str]] = {
    "publish": (MeetingState.DRAFT, MeetingState.PUBLISHED, "只有草稿可以发布"),
    "close": (MeetingState.PUBLISHED, MeetingState.CLOSED, "只有已发布的会议可以结束"),
    "archive": (MeetingState.CLOSED, MeetingState.ARCHIVED, "只有已结束的会议可以归档"),
    "reopen": (MeetingState.CLOSED, MeetingState.PUBLISHED, "只有已结束的会议可以重新开放"),
}


class MeetingChangeError(DomainError):
    messages = {
        "state_invalid": "会议当前为“{state}”，{why}",
        "no_sessions": "会议还没有签到场次，请先添加场次再发布",
        "unit_required": "请选择主办单位",
        "unit_not_yours": "您不是“{unit}”的会议组织者，不能选择该单位为主办单位",
        "no_organizing_unit": "您还不是任何主办单位的会议组织者，不能新建会议；请联系系统管理员开通",
        "presence_invalid": "签到方式只能是 scan（仅扫码）、scan_or_link（扫码或链接）或 link_in_window（签到时段内可用链接）",
        "late_invalid": "迟到判定须为 0–{limit} 之间的整数（分钟）：{value}",
        "sessions_outside": "会议时间须涵盖各签到场次：第 {position} 场“{title}”为 {when}，请先在“场次与议程”中调整该场次，或放宽会议时间",
        "time_missing": "请填写{field}",
        "state_filter_invalid": "状态只能是 draft、published、closed、archived 或 all：{state}",
    }
    statuses = {"no_organizing_unit": 403}


def state_name(state: str) -> str:
    return STATE_NAMES.get(state, state)


def require_editable(meeting: Meeting) -> None:
    """:raise MeetingChangeError: ``state_invalid`` for an archived meeting (it is the record)."""
    if meeting.state == MeetingState.ARCHIVED:
        raise MeetingChangeError("state_invalid", state=state_name(meeting.state),
                                 why="已归档的会议不能修改；如需再次召开，请复制会议")


def invitee_count(meeting: Meeting) -> int:
    """Approved invitees (walk-ins waiting or refused are not on the list)."""
    return db.session.scalar(select(func.count()).select_from(Invitee).where(
        Invitee.meeting_id == meeting.id, Invitee.status == "approved")) or 0


# -- creating ---------------------------------------------------------------------------------------
def pick_unit(editor: Contact | None, unit_code: str | None) -> Unit | None:
    """The organizing unit ``editor`` names. None for the CLI (``editor`` None) naming none.

    :raise MeetingChangeError: ``no_organizing_unit`` (403), ``unit_required``, ``unit_not_yours``;
        :raise UnitError: ``unit_not_found``.
    """
    unit_code = (unit_code or "").strip()
    if editor is None:
        return get_unit(unit_code) if unit_code else None
    if not organizing_units(editor):
        raise MeetingChangeError("no_organizing_unit")
    if not unit_code:
        raise MeetingChangeError("unit_required")
    unit = get_unit(unit_code)
    if not organizes_for(editor, unit.id):
        raise MeetingChangeError("unit_not_yours", unit=unit.name)
    return unit


def new_meeting(editor: Contact, *, actor: str, unit_code: str, title: str, starts_at: datetime | None,
                ends_at: datetime | None, venue: str = "", intro: str = "",
                admission: str = Admission.INVITEES, code: str = "") -> Meeting:
    """A console user creates a draft for one of the units they organize for; they own it through
    that unit. ``code`` blank: one is made up.

    :raise MeetingChangeError: as :func:`pick_unit`, ``time_missing``; :raise MeetingError: as
        :func:`create_meeting`.
    """
    unit = pick_unit(editor, unit_code)
    if starts_at is None:
        raise MeetingChangeError("time_missing", field="开始时间")
    if ends_at is None:
        raise MeetingChangeError("time_missing", field="结束时间")
    return create_meeting(code, title, actor=actor, starts_at=starts_at, ends_at=ends_at, venue=venue,
                          intro=intro, admission=admission, unit=unit)


# -- settings ---------------------------------------------------------------------------------------
@dataclass
class SettingsChange:
    meeting: Meeting
    #: field -> (before, after), only what really changed
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: The rotating screen code was switched on because presence became "scan".
    rotating_qr_auto: bool = False

    @property
    def unnotified(self) -> list[str]:
        """What attendees of a published meeting were told and is now different (时间, 地点):
        nobody is notified automatically."""
        if self.meeting.state != MeetingState.PUBLISHED:
            return []
        return list(dict.fromkeys(NOTICE_FIELDS[f] for f in self.changes if f in NOTICE_FIELDS))


def update_settings(meeting: Meeting, *, actor: str, editor: Contact | None = None, title: str | None = None,
                    starts_at: datetime | None = None, ends_at: datetime | None = None,
                    venue: str | None = None, intro: str | None = None, unit_code: str | None = None,
                    admission: str | None = None, listed_unit_codes: list[str] | None = None,
                    presence: str | None = None, late_after_minutes: int | str | None = None,
                    rotating_qr: bool | None = None, mask_names: bool | None = None,
                    sms_fallback: bool | None = None) -> SettingsChange:
    """Change what is given (None leaves a field as it is). Everything is checked before anything
    is changed. ``editor`` is the console user (None for the CLI): a new organizing unit must be
    one they organize for.

    Presence "scan" switches the rotating screen code on unless ``rotating_qr`` says otherwise: a
    static code on the screen can be photographed and sent to someone who is not in the room.

    :raise MeetingChangeError: ``state_invalid`` (archived), ``presence_invalid``, ``late_invalid``,
        ``sessions_outside``, as :func:`pick_unit`; :raise MeetingError: ``title_missing``,
        ``too_long``, ``time_order``, ``admission_invalid``; :raise UnitError: ``unit_not_found``.
    """
    require_editable(meeting)
    wanted: dict[str, Any] = {}
    if title is not None:
        wanted["title"] = title.strip()
    if venue is not None:
        wanted["venue"] = venue.strip()
    if intro is not None:
        wanted["intro"] = clean_intro(intro)
    check_text(title=wanted.get("title", meeting.title), venue=wanted.get("venue", meeting.venue),
               intro=wanted.get("intro", meeting.intro))
    starts = starts_at or meeting.starts_at
    ends = ends_at or meeting.ends_at
    if ends <= starts:
        raise MeetingError("time_order")
    wanted["starts_at"], wanted["ends_at"] = starts, ends
    if admission is not None:
        if admission not in set(Admission):
            raise MeetingError("admission_invalid")
        wanted["admission"] = admission
    if presence is not None:
        if presence not in set(Presence):
            raise MeetingChangeError("presence_invalid")
        wanted["presence"] = presence
    if late_after_minutes is not None:
        wanted["late_after_minutes"] = _minutes(late_after_minutes)
    if mask_names is not None:
        wanted["mask_names"] = bool(mask_names)
    if sms_fallback is not None:
        wanted["sms_fallback"] = bool(sms_fallback)
    auto_qr = (rotating_qr is None and wanted.get("presence") == Presence.SCAN
               and meeting.presence != Presence.SCAN and not meeting.rotating_qr)
    if rotating_qr is not None or auto_qr:
        wanted["rotating_qr"] = True if auto_qr else bool(rotating_qr)
    unit = None
    if unit_code is not None and unit_code.strip():
        current = meeting.organizing_unit.code if meeting.organizing_unit else None
        if unit_code.strip() != current:
            unit = pick_unit(editor, unit_code) if editor is not None else get_unit(unit_code)
    listed = None
    if listed_unit_codes is not None:
        listed = [get_unit(c) for c in dict.fromkeys(c.strip() for c in listed_unit_codes if c.strip())]
    moved = (starts, ends) != (meeting.starts_at, meeting.ends_at)
    follow = _single_mirroring_session(meeting)
    if moved and not follow:
        _check_covers(meeting, starts, ends)

    before = snapshot(meeting)
    if len(meeting.sessions) == 1 and meeting.sessions[0].title == meeting.title and "title" in wanted:
        meeting.sessions[0].title = wanted["title"]  # the one session named after the meeting keeps that name
    if moved and follow:
        _move_session(meeting.sessions[0], starts, ends)
    for key, value in wanted.items():
        if getattr(meeting, key) != value:
            setattr(meeting, key, value)
    if unit is not None:
        meeting.unit_id = unit.id
        meeting.organizing_unit = unit
    if listed is not None and {u.id for u in listed} != {u.id for u in meeting.units}:
        meeting.units = listed
    db.session.flush()
    result = SettingsChange(meeting, changes=diff(before, snapshot(meeting)), rotating_qr_auto=auto_qr)
    record_changes(meeting, actor, before, result.changes)
    return result


def _minutes(value: int | str) -> int:
    text = str(value).strip()
    try:
        minutes = int(text)
    except ValueError:
        raise MeetingChangeError("late_invalid", limit=LATE_MAX, value=text) from None
    if not 0 <= minutes <= LATE_MAX:
        raise MeetingChangeError("late_invalid", limit=LATE_MAX, value=text)
    return minutes


def _single_mirroring_session(meeting: Meeting) -> bool:
    """A meeting's only session, still at the meeting's own times (as created): it moves along."""
    sessions = meeting.sessions
    return (len(sessions) == 1 and sessions[0].starts_at == meeting.starts_at
            and sessions[0].ends_at == meeting.ends_at)


def _move_session(session: MeetingSession, starts: datetime, ends: datetime) -> None:
    """Move ``session`` to [starts, ends], its sign-in window keeping its lead and its tail."""
    lead = session.starts_at - session.signin_opens_at
    tail = session.signin_closes_at - session.ends_at
    session.starts_at, session.ends_at = starts, ends
    session.signin_opens_at, session.signin_closes_at = starts - lead, ends + tail


def _check_covers(meeting: Meeting, starts: datetime, ends: datetime) -> None:
    for s in meeting.sessions:
        if s.starts_at < starts or s.ends_at > ends:
            raise MeetingChangeError("sessions_outside", position=s.position, title=s.title,
                                     when=fmt_range_cn(s.starts_at, s.ends_at))


# -- what changed -----------------------------------------------------------------------------------
_TRACKED = ("title", "starts_at", "ends_at", "venue", "intro", "admission", "presence", "late_after_minutes",
            "rotating_qr", "mask_names", "sms_fallback", "unit", "units")


def snapshot(meeting: Meeting) -> dict[str, Any]:
    """The meeting's settings as plain values (times as ISO text), to compare and to record."""
    values: dict[str, Any] = {}
    for key in _TRACKED:
        if key == "unit":
            values[key] = meeting.organizing_unit.code if meeting.organizing_unit else None
        elif key == "units":
            values[key] = sorted(u.code for u in meeting.units)
        else:
            value = getattr(meeting, key)
            values[key] = value.isoformat() if isinstance(value, datetime) else value
    return values


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    return {k: (before[k], after[k]) for k in before if before[k] != after[k]}


def record_changes(meeting: Meeting, actor: str, before: dict[str, Any],
                   changes: dict[str, tuple[Any, Any]] | None = None) -> dict[str, tuple[Any, Any]]:
    """Audit what changed since ``before``: ``meeting.update`` always, and ``meeting.changed`` (the
    before and after of time and venue) when a published meeting's attendees would need telling.
    Drops the headcount's cached roster after the commit when who is expected may have changed."""
    if changes is None:
        changes = diff(before, snapshot(meeting))
    if not changes:
        return changes
    target = f"meeting:{meeting.id}"
    audit.record(actor, "meeting.update", meeting_id=meeting.id, target=target,
                 changes={k: list(v) for k, v in changes.items()})
    noticed = [k for k in changes if k in NOTICE_FIELDS]
    if noticed and meeting.state == MeetingState.PUBLISHED:
        audit.record(actor, "meeting.changed", meeting_id=meeting.id, target=target,
                     before={k: changes[k][0] for k in noticed}, after={k: changes[k][1] for k in noticed},
                     notified=False)
    if "admission" in changes or "units" in changes:
        forget_rosters(meeting)
    return changes


def forget_rosters(meeting: Meeting) -> None:
    session_ids = [s.id for s in meeting.sessions]
    on_commit(lambda: [forget_roster(sid) for sid in session_ids])


# -- state ------------------------------------------------------------------------------------------
def transition(meeting: Meeting, verb: str, *, actor: str) -> Meeting:
    """Move ``meeting`` along its states: ``publish``, ``close``, ``archive`` or ``reopen``.

    :raise MeetingChangeError: ``state_invalid`` (from the wrong state), ``no_sessions`` (publish).
    """
    source, target, why = TRANSITIONS[verb]
    if meeting.state != source:
        raise MeetingChangeError("state_invalid", state=state_name(meeting.state), why=why)
    if verb == "publish" and not meeting.sessions:
        raise MeetingChangeError("no_sessions")
    meeting.state = target
    db.session.flush()
    audit.record(actor, f"meeting.{verb}", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 before=source, after=target)
    return meeting


def publish(meeting: Meeting, *, actor: str) -> Meeting:
    return transition(meeting, "publish", actor=actor)


def close(meeting: Meeting, *, actor: str) -> Meeting:
    return transition(meeting, "close", actor=actor)


def archive(meeting: Meeting, *, actor: str) -> Meeting:
    return transition(meeting, "archive", actor=actor)


def reopen(meeting: Meeting, *, actor: str) -> Meeting:
    return transition(meeting, "reopen", actor=actor)


def close_signin(meeting: Meeting, *, actor: str, now: datetime) -> list[int]:
    """End sign-in now in every session whose window is still to close; returns their positions.
    A window not yet open closes too (it opens and closes now): nobody signs in after this.

    :raise MeetingChangeError: ``state_invalid`` unless published.
    """
    if meeting.state != MeetingState.PUBLISHED:
        raise MeetingChangeError("state_invalid", state=state_name(meeting.state),
                                 why="只有已发布的会议可以截止签到")
    closed = []
    for s in meeting.sessions:
        if s.signin_closes_at > now:
            s.signin_closes_at = now
            s.signin_opens_at = min(s.signin_opens_at, now)
            closed.append(s.position)
    db.session.flush()
    if closed:
        audit.record(actor, "meeting.signin_close", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                     sessions=closed, at=now.isoformat())
    return closed


# -- copying ----------------------------------------------------------------------------------------
def copy_meeting(source: Meeting, *, actor: str, starts_at: datetime, editor: Contact | None = None,
                 unit_code: str | None = None, with_invitees: bool = False, code: str = "") -> Meeting:
    """A new draft like ``source``, moved to start at ``starts_at``: title + "（副本）", venue,
    intro, agenda, admission, listed units, settings and sessions (each moved by the same amount,
    renumbered from 1: the copy has no printed codes yet), and, if asked, the approved invitees
    with their roles, groups and seats. Never the sign-ins, leaves, walk-in requests or organizers:
    the copy belongs to its organizing unit, by default the source's when the editor organizes for
    it.

    :raise MeetingChangeError: as :func:`pick_unit`; :raise MeetingError: as :func:`create_meeting`.
    """
    if editor is not None and not (unit_code or "").strip() and source.unit_id is not None \
            and organizes_for(editor, source.unit_id):
        unit_code = source.organizing_unit.code
    if editor is None and not (unit_code or "").strip():
        unit = source.organizing_unit
    else:
        unit = pick_unit(editor, unit_code)
    shift = starts_at - source.starts_at
    title = source.title[: TITLE_MAX - len(COPY_SUFFIX)] + COPY_SUFFIX
    meeting = create_meeting(code, title, actor=actor, starts_at=source.starts_at + shift,
                             ends_at=source.ends_at + shift, venue=source.venue, intro=source.intro,
                             agenda=copy_module.deepcopy(source.agenda or []), admission=source.admission,
                             unit=unit)
    meeting.units = list(source.units)
    meeting.presence = source.presence
    meeting.late_after_minutes = source.late_after_minutes
    meeting.rotating_qr = source.rotating_qr
    meeting.mask_names = source.mask_names
    meeting.sms_fallback = source.sms_fallback
    originals = sorted(source.sessions, key=lambda s: s.position)
    for position, original in enumerate(originals, start=1):
        if position == 1:
            session = meeting.sessions[0]  # made by create_meeting: reshaped, not replaced
        else:
            session = MeetingSession(position=position)
            meeting.sessions.append(session)
        session.title = title if original.title == source.title else original.title
        session.starts_at, session.ends_at = original.starts_at + shift, original.ends_at + shift
        session.signin_opens_at = original.signin_opens_at + shift
        session.signin_closes_at = original.signin_closes_at + shift
    db.session.flush()
    invited = 0
    if with_invitees:
        columns = (Invitee.contact_id, Invitee.role, Invitee.group_name, Invitee.seat, Invitee.note)
        rows = select(db.literal(meeting.id), *columns, db.literal("approved")).where(
            Invitee.meeting_id == source.id, Invitee.status == "approved")
        # One statement: a 10,000-person list is copied without loading a row into Python.
        invited = db.session.execute(insert(Invitee).from_select(
            ["meeting_id", "contact_id", "role", "group_name", "seat", "note", "status"], rows)).rowcount
    audit.record(actor, "meeting.copy", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 source=source.code, invitees=invited, unit=unit.code if unit else None)
    return meeting


def replace_screen_link(meeting: Meeting, *, actor: str) -> int:
    """Retire every big-screen link given out so far (a link that leaked, a screen lent out): the
    key carries the meeting's ``screen_key_version``; returns the new version. Screens open on the
    old link are refused at their next request."""
    meeting.screen_key_version = (meeting.screen_key_version or 0) + 1
    audit.record(actor, "meeting.screen_link", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 version=meeting.screen_key_version)
    return meeting.screen_key_version
