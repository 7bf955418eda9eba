"""Building and writing a report: the one entry the console, its jobs and the CLI call.

Small exports are answered in the request; a report whose rows grow with the meeting's people runs
as a job past :data:`INLINE_MAX_PEOPLE` listed people (the console shows its progress and offers
the download). Every export is in the audit log (``report.export``) with who, which and the format.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.services import audit, storage
from app.services.reports import pdf, xlsx
from app.services.reports.base import Context, Kind, ReportData, ReportError
from app.services.reports.registry import get_kind
from app.services.signin.rules import SignInError, get_session
from app.services.timeutil import local
from models import Contact, Invitee, Meeting, MeetingSession, MeetingUnit

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
#: Up to this many invitees a report is made while the person waits (well under a second).
INLINE_MAX_PEOPLE = 1500


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    content_type: str


def check_format(fmt: str) -> str:
    fmt = (fmt or "").strip().lower()
    if fmt not in FORMATS:
        raise ReportError("format_invalid")
    return fmt


def session_of(meeting: Meeting, position: int | None) -> MeetingSession | None:
    """The session by position, None for the whole meeting. :raise ReportError: ``session_invalid``."""
    if position is None:
        return None
    try:
        return get_session(meeting, int(position))
    except (SignInError, ValueError, TypeError):
        raise ReportError("session_invalid", position=position) from None


def build(meeting: Meeting, kind: Kind | str, session: MeetingSession | None = None, *,
          now: datetime | None = None) -> ReportData:
    kind = get_kind(kind) if isinstance(kind, str) else kind
    now = now or datetime.now(UTC)
    ctx = Context(meeting, session, now)
    return ReportData(kind.key, kind.title, meeting, session, now, kind.build(ctx), compact=kind.compact)


def filename(meeting: Meeting, kind: Kind, session: MeetingSession | None, fmt: str, now: datetime) -> str:
    """``<meeting title>-<report>[-第N场]-<date>.<fmt>``, as an office names its files."""
    title = "".join(ch for ch in meeting.title if ch not in '\\/:*?"<>|\r\n\t').strip() or meeting.code
    part = f"-第{session.position}场" if session is not None and len(meeting.sessions) > 1 else ""
    return f"{title}-{kind.title}{part}-{local(now):%Y-%m-%d}.{fmt}"


def render(report: ReportData, fmt: str) -> bytes:
    return pdf.write(report) if fmt == "pdf" else xlsx.write(report)


def export(meeting: Meeting, kind_key: str, fmt: str, *, position: int | None = None, actor: str,
           now: datetime | None = None) -> Export:
    """The file of report ``kind_key`` in ``fmt`` for the meeting (or session ``position``),
    recorded in the audit log as exported by ``actor``.

    :raise ReportError: ``report_unknown``, ``format_invalid``, ``session_invalid``.
    """
    kind = get_kind(kind_key)
    fmt = check_format(fmt)
    session = session_of(meeting, position)
    now = now or datetime.now(UTC)
    data = render(build(meeting, kind, session, now=now), fmt)
    name = filename(meeting, kind, session, fmt, now)
    audit.record(actor, "report.export", meeting_id=meeting.id, target=f"report:{kind.key}", format=fmt,
                 session=session.position if session is not None else None, file=name)
    return Export(data, name, FORMATS[fmt])


def runs_as_job(meeting: Meeting, kind: Kind) -> bool:
    """Whether this export is too big to make while the person waits: its rows grow with the people
    and the meeting lists more than :data:`INLINE_MAX_PEOPLE` (invitees, or the listed units' people)."""
    if not kind.scales:
        return False
    count = int(db.session.scalar(
        select(func.count()).select_from(Invitee).where(Invitee.meeting_id == meeting.id)) or 0)
    if count <= INLINE_MAX_PEOPLE and meeting.admission == "units":
        count += int(db.session.scalar(
            select(func.count()).select_from(Contact).join(MeetingUnit, MeetingUnit.unit_id == Contact.unit_id)
            .where(MeetingUnit.meeting_id == meeting.id, Contact.active.is_(True))) or 0)
    return count > INLINE_MAX_PEOPLE


def export_job(meeting_id: int, kind_key: str, fmt: str, position: int | None, actor: str) -> dict:
    """The job (app/jobs.py) behind a large export: build and write the file, keep it in storage, and
    answer what the download needs. One unit of work: the audit row commits with the job's end."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise ReportError("report_unknown", kind=kind_key)
    jobs.report_progress(0, 3, "正在读取签到数据")
    kind = get_kind(kind_key)
    fmt = check_format(fmt)
    session = session_of(meeting, position)
    now = datetime.now(UTC)
    report = build(meeting, kind, session, now=now)
    rows = sum(len(s.rows) for s in report.sections)
    jobs.report_progress(1, 3, f"正在生成{'PDF' if fmt == 'pdf' else 'Excel'}文件（{rows} 行）")
    data = render(report, fmt)
    name = filename(meeting, kind, session, fmt, now)
    audit.record(actor, "report.export", meeting_id=meeting.id, target=f"report:{kind.key}", format=fmt,
                 session=session.position if session is not None else None, file=name, job=jobs.current_job_id())
    sha = storage.put(data)
    jobs.report_progress(3, 3, "已生成")
    return {"sha": sha, "filename": name, "content_type": FORMATS[fmt]}
