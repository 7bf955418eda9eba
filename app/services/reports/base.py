"""What a report is: sections of rows (with an optional chart and key figures), built for a meeting
or one of its sessions. Builders return these; the xlsx and PDF writers only lay them out, so the
two formats (and the console's page and the CLI) always carry the same numbers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from app.services.errors import DomainError
from models import Meeting, MeetingSession


class ReportError(DomainError):
    messages = {
        "report_unknown": "没有这种报表：{kind}。可用的报表见「报表」页或 reports list",
        "format_invalid": "导出格式只能是 xlsx 或 pdf",
        "session_invalid": "本次会议没有第 {position} 场",
        "output_invalid": "无法写入文件：{path}",
    }
    statuses = {"report_unknown": 404, "session_invalid": 404}


@dataclass
class Chart:
    """A chart drawn from the section's own numbers: ``line`` (a curve over time) or ``bar``."""

    kind: str
    title: str
    labels: list[str]
    #: (name, values): one per line / bar colour.
    series: list[tuple[str, list[float]]]
    #: The value axis runs to at least this (e.g. 应到 for a filling room, 100 for rates).
    max_value: float | None = None


@dataclass
class Section:
    title: str
    headers: list[str]
    rows: list[list]
    #: Relative column widths on paper (default: equal).
    widths: list[float] | None = None
    #: Key figures shown above the table: (label, value).
    facts: list[tuple[str, str]] = field(default_factory=list)
    chart: Chart | None = None
    #: The PDF adds an empty 签名 column for the paper backup (签到表).
    signature: bool = False
    #: Shown when there are no rows (e.g. 无缺席人员).
    empty_text: str = "（无）"
    #: A note printed under the table (how a number is defined).
    note: str = ""
    #: False: the PDF shows only the chart (the one-page summary); the xlsx still has the numbers.
    pdf_table: bool = True
    #: The PDF shows the key figures as large numbers in boxes (the summary's headline).
    figures: bool = False


@dataclass
class ReportData:
    kind: str
    title: str
    meeting: Meeting
    session: MeetingSession | None
    generated_at: datetime
    sections: list[Section]
    #: A one-page summary lays out its sections compactly (no page break before a section).
    compact: bool = False

    @property
    def scope(self) -> str:
        """Which part of the meeting: 全体场次 or 第 N 场 title."""
        if self.session is None:
            return "全部场次" if len(self.meeting.sessions) > 1 else "全场"
        return f"第 {self.session.position} 场 · {self.session.title}"


@dataclass(frozen=True)
class Context:
    meeting: Meeting
    #: None: the whole meeting.
    session: MeetingSession | None
    now: datetime

    @property
    def sessions(self) -> list[MeetingSession]:
        return [self.session] if self.session is not None else list(self.meeting.sessions)


@dataclass(frozen=True)
class Kind:
    key: str
    title: str
    build: Callable[[Context], list[Section]]
    #: The organizer action it needs (organizers.RIGHTS): ``view`` for numbers only (every right),
    #: ``reports`` for lists of people with contacts or answers (staff and owners).
    action: str
    #: Rows grow with the invitees (or ballots, answers): exported as a job past a few hundred.
    scales: bool = True
    description: str = ""
    compact: bool = False
