"""A meeting's sign-in sessions (场次: a congress has a morning and an afternoon sitting) and its
agenda (议程).

A session's position is printed: it is the last part of its QR scene ``m:<code>:<position>``. So an
existing session is never renumbered, and a removed session's position is never given again (an old
poster of the removed session must not sign people into a new one): a new session takes one more
than the highest position the meeting ever had, which the audit log remembers for removed ones.

The meeting's times cover its sessions: adding or moving a session outside them widens them (the
sessions are the detail, the meeting's times their summary; on a published meeting that widening is
recorded as a change of time like any other, see :mod:`app.services.meetings.lifecycle`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.services import audit
from app.services.contacts.reader.errors import DirectoryFileError
from app.services.contacts.reader.formats import open_workbook
from app.services.errors import DomainError
from app.services.live import schedules
from app.services.meetings.lifecycle import record_changes, require_editable, snapshot
from app.services.meetings.meetings import DEFAULT_SIGNIN_LEAD, TITLE_MAX
from models import AuditLog, Meeting, MeetingSession, Reminder, SignIn, Vote

AGENDA_MAX_ROWS = 100
#: field -> (its name in messages and file headers, longest value)
AGENDA_FIELDS: dict[str, tuple[str, int]] = {"time": ("时间", 5), "title": ("议程", 200), "speaker": ("发言人", 100),
                                             "place": ("地点", 100)}
#: Header texts a spreadsheet may use for each field (the first is the one we document).
AGENDA_HEADERS: dict[str, tuple[str, ...]] = {
    "time": ("时间", "时段", "time"),
    "title": ("议程", "议题", "内容", "事项", "title"),
    "speaker": ("发言人", "主讲人", "报告人", "speaker"),
    "place": ("地点", "会场", "place"),
}
#: 09:30, 9:30, 9.30 (a phone's number pad has no colon) or 0930.
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.]?([0-5]\d)$")
AGENDA_FILE_MAX_BYTES = 2 * 1024 * 1024


class SessionError(DomainError):
    messages = {
        "session_not_found": "找不到第 {position} 场",
        "session_title_too_long": "场次名称不能超过 {limit} 个字",
        "session_time_missing": "请填写场次的{field}",
        "session_time_order": "场次结束时间必须晚于开始时间",
        "signin_window_invalid": "签到截止时间必须晚于签到开始时间",
        "signin_opens_too_late": "签到开始时间不能晚于场次结束时间",
        "session_has_signins": "第 {position} 场“{title}”已有 {count} 条签到记录，不能删除（签到记录须保留）",
        "session_has_records": "第 {position} 场“{title}”已有{what}，不能删除",
        "last_session": "会议至少要有一个签到场次，不能删除最后一场",
        "agenda_invalid": "议程第 {row} 行：{problem}",
        "agenda_too_many": "议程最多 {limit} 项",
        "agenda_file_invalid": "议程文件无法读取：{detail}",
    }
    statuses = {"session_not_found": 404, "session_has_signins": 409, "session_has_records": 409}


def get_session_at(meeting: Meeting, position: int) -> MeetingSession:
    for s in meeting.sessions:
        if s.position == position:
            return s
    raise SessionError("session_not_found", position=position)


def next_position(meeting: Meeting) -> int:
    """One more than the highest position this meeting ever had, removed sessions included."""
    highest = max((s.position for s in meeting.sessions), default=0)
    removed = db.session.scalars(
        select(AuditLog.data).where(AuditLog.meeting_id == meeting.id, AuditLog.action == "session.remove")
    ).all()
    highest = max([highest, *(int(d.get("position") or 0) for d in removed if isinstance(d, dict))])
    return highest + 1


def signin_counts(meeting: Meeting) -> dict[int, int]:
    """Live sign-ins per session position, in one query."""
    rows = db.session.execute(
        select(MeetingSession.position, func.count(SignIn.id))
        .join(SignIn, (SignIn.session_id == MeetingSession.id) & SignIn.revoked_at.is_(None))
        .where(MeetingSession.meeting_id == meeting.id).group_by(MeetingSession.position)
    ).all()
    return {position: n for position, n in rows}


def _check_times(title: str, starts: dt.datetime, ends: dt.datetime, opens: dt.datetime,
                 closes: dt.datetime) -> None:
    if len(title) > TITLE_MAX:
        raise SessionError("session_title_too_long", limit=TITLE_MAX)
    if ends <= starts:
        raise SessionError("session_time_order")
    if closes <= opens:
        raise SessionError("signin_window_invalid")
    if opens >= ends:
        raise SessionError("signin_opens_too_late")


def _cover(meeting: Meeting, session: MeetingSession) -> None:
    """Widen the meeting's times to hold ``session``."""
    if session.starts_at < meeting.starts_at:
        meeting.starts_at = session.starts_at
    if session.ends_at > meeting.ends_at:
        meeting.ends_at = session.ends_at


def add_session(meeting: Meeting, *, actor: str, title: str = "", starts_at: dt.datetime | None,
                ends_at: dt.datetime | None, signin_opens_at: dt.datetime | None = None,
                signin_closes_at: dt.datetime | None = None) -> MeetingSession:
    """A new session at the next position never used. Sign-in opens ``DEFAULT_SIGNIN_LEAD`` before
    the start and closes at the end unless told; a blank title is "第 N 场".

    :raise SessionError: ``session_time_missing``, ``session_title_too_long``, ``session_time_order``,
        ``signin_window_invalid``, ``signin_opens_too_late``; :raise MeetingChangeError:
        ``state_invalid`` (archived).
    """
    require_editable(meeting)
    if starts_at is None:
        raise SessionError("session_time_missing", field="开始时间")
    if ends_at is None:
        raise SessionError("session_time_missing", field="结束时间")
    position = next_position(meeting)
    title = (title or "").strip() or f"第 {position} 场"
    opens = signin_opens_at or starts_at - DEFAULT_SIGNIN_LEAD
    closes = signin_closes_at or ends_at
    _check_times(title, starts_at, ends_at, opens, closes)
    before = snapshot(meeting)
    session = MeetingSession(position=position, title=title, starts_at=starts_at, ends_at=ends_at,
                             signin_opens_at=opens, signin_closes_at=closes)
    meeting.sessions.append(session)
    _cover(meeting, session)
    db.session.flush()
    audit.record(actor, "session.add", meeting_id=meeting.id, target=f"session:{session.id}", position=position,
                 title=title, starts_at=starts_at.isoformat(), ends_at=ends_at.isoformat())
    record_changes(meeting, actor, before)
    return session


def update_session(meeting: Meeting, position: int, *, actor: str, title: str | None = None,
                   starts_at: dt.datetime | None = None, ends_at: dt.datetime | None = None,
                   signin_opens_at: dt.datetime | None = None,
                   signin_closes_at: dt.datetime | None = None) -> MeetingSession:
    """Change what is given. A moved start carries the sign-in opening along (same lead), a moved
    end the closing (same tail), unless those are given too. Its position never changes.

    :raise SessionError: ``session_not_found`` (404) and as :func:`add_session`.
    """
    require_editable(meeting)
    session = get_session_at(meeting, position)
    new_title = session.title if title is None else (title.strip() or session.title)
    starts = starts_at or session.starts_at
    ends = ends_at or session.ends_at
    opens = signin_opens_at or starts - (session.starts_at - session.signin_opens_at)
    closes = signin_closes_at or ends + (session.signin_closes_at - session.ends_at)
    _check_times(new_title, starts, ends, opens, closes)
    old = _session_values(session)
    before = snapshot(meeting)
    session.title, session.starts_at, session.ends_at = new_title, starts, ends
    session.signin_opens_at, session.signin_closes_at = opens, closes
    _cover(meeting, session)
    db.session.flush()
    new = _session_values(session)
    changes = {k: [old[k], new[k]] for k in old if old[k] != new[k]}
    if changes:
        audit.record(actor, "session.update", meeting_id=meeting.id, target=f"session:{session.id}",
                     position=position, changes=changes)
    if "starts_at" in changes:  # scheduled reminders follow the start (the one rule: schedules.retime)
        schedules.retime(meeting, session, actor=actor)
    record_changes(meeting, actor, before)
    return session


def _session_values(session: MeetingSession) -> dict[str, Any]:
    return {"title": session.title, "starts_at": session.starts_at.isoformat(),
            "ends_at": session.ends_at.isoformat(), "signin_opens_at": session.signin_opens_at.isoformat(),
            "signin_closes_at": session.signin_closes_at.isoformat()}


def remove_session(meeting: Meeting, position: int, *, actor: str) -> None:
    """Remove a session nobody signed in to. Sign-ins, votes and reminders of a session are records
    (and the database would delete them with it), so a session that has any stays.

    :raise SessionError: ``session_not_found`` (404), ``last_session``, ``session_has_signins``
        (409), ``session_has_records`` (409); :raise MeetingChangeError: ``state_invalid``.
    """
    require_editable(meeting)
    session = get_session_at(meeting, position)
    if len(meeting.sessions) <= 1:
        raise SessionError("last_session")
    signins = db.session.scalar(select(func.count()).select_from(SignIn).where(SignIn.session_id == session.id))
    if signins:
        raise SessionError("session_has_signins", position=position, title=session.title, count=signins)
    votes = db.session.scalar(select(func.count()).select_from(Vote).where(Vote.session_id == session.id))
    # A scheduled reminder that never went out is no record: it is cancelled with the session.
    reminders = db.session.scalar(select(func.count()).select_from(Reminder).where(
        Reminder.session_id == session.id, Reminder.status.not_in(schedules.UNSENT)))
    if votes or reminders:
        what = "、".join(w for w, n in (("投票", votes), ("催签记录", reminders)) if n)
        raise SessionError("session_has_records", position=position, title=session.title, what=what)
    session_id = session.id
    schedules.cancel_all(session)
    meeting.sessions.remove(session)  # delete-orphan: the row goes, its codes with it
    db.session.flush()
    audit.record(actor, "session.remove", meeting_id=meeting.id, target=f"session:{session_id}",
                 position=position, title=session.title)


# -- agenda -----------------------------------------------------------------------------------------
def clean_agenda(rows: list[Any], *, row_numbers: list[int] | None = None) -> list[dict[str, str]]:
    """The agenda as stored: rows of {"time", "title", "speaker", "place"}, blank rows dropped,
    times as HH:MM. ``row_numbers`` name the rows in messages (a file's own row numbers).

    :raise SessionError: ``agenda_invalid`` (which row, what is wrong), ``agenda_too_many``.
    """
    if not isinstance(rows, list):
        raise SessionError("agenda_invalid", row=1, problem="议程应为列表")
    cleaned = []
    for index, raw in enumerate(rows):
        number = row_numbers[index] if row_numbers else index + 1
        if not isinstance(raw, dict):
            raise SessionError("agenda_invalid", row=number, problem="格式不正确")
        item = {}
        for key, (name, limit) in AGENDA_FIELDS.items():
            value = raw.get(key)
            value = "" if value is None else str(value).strip()
            if len(value) > limit and key != "time":
                raise SessionError("agenda_invalid", row=number, problem=f"{name}不能超过 {limit} 个字")
            item[key] = value
        if not any(item.values()):
            continue
        item["time"] = _agenda_time(item["time"], number)
        if not item["title"]:
            raise SessionError("agenda_invalid", row=number, problem="请填写议程内容")
        cleaned.append(item)
    if len(cleaned) > AGENDA_MAX_ROWS:
        raise SessionError("agenda_too_many", limit=AGENDA_MAX_ROWS)
    return cleaned


def _agenda_time(text: str, number: int) -> str:
    text = text.replace("：", ":").strip()
    if not text:
        return ""
    match = _TIME_RE.match(text)
    if match is None:
        raise SessionError("agenda_invalid", row=number, problem=f"时间“{text[:20]}”格式不正确（示例：09:30，可留空）")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def set_agenda(meeting: Meeting, rows: list[Any], *, actor: str,
               row_numbers: list[int] | None = None) -> list[dict[str, str]]:
    """Replace the agenda with ``rows`` (checked by :func:`clean_agenda`); returns what is stored."""
    require_editable(meeting)
    agenda = clean_agenda(rows, row_numbers=row_numbers)
    if agenda != (meeting.agenda or []):
        meeting.agenda = agenda
        db.session.flush()
        audit.record(actor, "meeting.agenda", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                     items=len(agenda))
    return agenda


def read_agenda_file(data: bytes, filename: str) -> tuple[list[dict[str, Any]], list[int]]:
    """An agenda file: a JSON list of {"time","title","speaker","place"}, or a spreadsheet (xlsx,
    xls, csv) with the columns 时间, 议程, 发言人, 地点 (议程 is required). Returns (rows, their row
    numbers in the file) for :func:`set_agenda`.

    :raise SessionError: ``agenda_file_invalid``.
    """
    if not data.strip():
        raise SessionError("agenda_file_invalid", detail="文件是空的")
    if len(data) > AGENDA_FILE_MAX_BYTES:
        raise SessionError("agenda_file_invalid", detail="文件过大（议程文件不应超过 2 MB）")
    if filename.lower().endswith(".json") or data.lstrip()[:1] in (b"[", b"{"):
        try:
            rows = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise SessionError("agenda_file_invalid", detail="不是有效的 JSON") from None
        if not isinstance(rows, list):
            raise SessionError("agenda_file_invalid", detail="JSON 应为列表，每项含 time、title、speaker、place")
        return rows, list(range(1, len(rows) + 1))
    try:
        workbook = open_workbook(data, filename, max_rows=AGENDA_MAX_ROWS * 5)
        for grid in workbook.grids:
            found = _table(grid.rows)
            if found is not None:
                return found
    except DirectoryFileError as exc:
        raise SessionError("agenda_file_invalid", detail=exc.message.replace("通讯录 ", "")) from None
    raise SessionError("agenda_file_invalid", detail="未找到表头：表格中需要有“议程”列（可选：时间、发言人、地点）")


def _table(grid: list[list[Any]]) -> tuple[list[dict[str, Any]], list[int]] | None:
    for header_index, header in enumerate(grid[:10]):
        names = [str(c).strip().lower() if c is not None else "" for c in header]
        columns = {}
        for key, accepted in AGENDA_HEADERS.items():
            for i, name in enumerate(names):
                if name in accepted:
                    columns[key] = i
                    break
        if "title" not in columns:
            continue
        rows, numbers = [], []
        for offset, cells in enumerate(grid[header_index + 1:], start=header_index + 2):
            rows.append({key: _cell(cells[i]) if i < len(cells) else "" for key, i in columns.items()})
            numbers.append(offset)
        return rows, numbers
    return None


def _cell(value: Any) -> str:
    """A cell as text; spreadsheet times (a time, a datetime or a fraction of a day) as HH:MM."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, dt.timedelta):
        minutes = int(value.total_seconds() // 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
