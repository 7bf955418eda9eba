"""Attendance across meetings as files: an xlsx workbook (按人员, 按单位, 会议 sheets) and a PDF for
filing (title block, key figures, a chart of each unit's rate, the three tables with their header
repeated on every page, "第 X 页 共 Y 页").

The cell and table pieces are the per-meeting reports' (:mod:`app.services.reports`): text cells
that never become formulas, Noto Sans CJK embedded as real text, tables that break only between
rows. Both formats write the rows of :func:`tables`, so they carry the same numbers as the page.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import BaseDocTemplate, CondPageBreak, Frame, PageTemplate, Paragraph, Spacer

from app import jobs
from app.services import audit, storage
from app.services.attendance.query import Attendance, AttendanceError, Filters, Viewer, attendance, sort_rows
from app.services.reports import pdf as report_pdf
from app.services.reports import pdffont
from app.services.reports import xlsx as report_xlsx
from app.services.reports.base import Chart, Section
from app.services.timeutil import local

FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
TITLE = "考勤统计"
NUMBER_HEADERS = ["应邀", "应到", "出席", "迟到", "请假", "缺席", "出勤率(%)"]
PEOPLE_HEADERS = ["序号", "姓名", "单位", "职务", *NUMBER_HEADERS]
UNIT_HEADERS = ["序号", "单位", "人数", *NUMBER_HEADERS]
MEETING_HEADERS = ["序号", "日期", "会议", "会议代码", *NUMBER_HEADERS]
#: Above this many units the PDF leaves the chart out (the table says it all, a chart would not fit).
CHART_MAX_UNITS = 40
#: Rows above the header row in every sheet: title, scope, when made, totals.
HEADER_ROW = 5


def check_format(fmt: str) -> str:
    fmt = (fmt or "").strip().lower()
    if fmt not in FORMATS:
        raise AttendanceError("format_invalid")
    return fmt


def _numbers(row) -> list:
    return [row.invited, row.expected, row.attended, row.late, row.leave, row.absent, row.rate]


@dataclass
class Tables:
    people: list[list]
    units: list[list]
    meetings: list[list]


def tables(result: Attendance, *, sort: str = "unit", desc: bool = False) -> Tables:
    """The rows every format writes: people in the order asked for (the page's), units and
    meetings in their default orders (worst rate first; by date)."""
    people = [[i, p.name, p.unit_name, p.title or None, *_numbers(p)]
              for i, p in enumerate(sort_rows(result.people, sort, desc=desc), start=1)]
    units = [[i, u.name, u.people, *_numbers(u)] for i, u in enumerate(result.units, start=1)]
    meetings = [[i, local(m.starts_at).date().isoformat(), m.title, m.code, *_numbers(m)]
                for i, m in enumerate(result.meetings, start=1)]
    return Tables(people, units, meetings)


def scope_text(result: Attendance) -> str:
    f = result.filters
    parts = []
    if f.date_from and f.date_to:
        parts.append(f"{f.date_from.isoformat()} 至 {f.date_to.isoformat()}")
    if f.codes:
        parts.append(f"指定会议 {len(f.codes)} 个")
    if f.q:
        parts.append(f"会议名称含“{f.q}”")
    parts.append(f"单位：{result.unit.name}" if result.unit else "全部单位")
    parts.append(f"计入会议 {len(result.meetings)} 个")
    return "　".join(parts)


def totals_text(result: Attendance) -> str:
    t = result.total
    rate = "—" if t.rate is None else f"{t.rate:.1f}%"
    return (f"应邀 {t.invited} 人次　应到 {t.expected}　出席 {t.attended}　迟到 {t.late}　请假 {t.leave}　"
            f"缺席 {t.absent}　出勤率 {rate}")


NOTE = ("说明：统计已结束的会议。应到 = 应邀 - 请假；出勤率 = 出席 / 应到。在任一场次签到即为出席，任一场次迟到即计迟到；"
        "请假后仍到会的计为出席。人数按“人次”累计。")


def filename(result: Attendance, fmt: str, now: datetime) -> str:
    """``[<unit>-]考勤统计-<from>至<to>-<date>.<fmt>``, as an office names its files."""
    f = result.filters
    unit = f"{result.unit.name}-" if result.unit else ""
    span = f"-{f.date_from.isoformat()}至{f.date_to.isoformat()}" if f.date_from and f.date_to else ""
    name = f"{unit}{TITLE}{span}-{local(now):%Y-%m-%d}"
    return "".join(ch for ch in name if ch not in '\\/:*?"<>|\r\n\t') + f".{fmt}"


def write_xlsx(result: Attendance, t: Tables, now: datetime) -> bytes:
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    made = local(now).strftime("%Y-%m-%d %H:%M")
    cell = report_xlsx.safe_cell
    for title, headers, rows, widths in (("按人员", PEOPLE_HEADERS, t.people, [6, 10, 22, 12] + [8] * 7),
                                         ("按单位", UNIT_HEADERS, t.units, [6, 24, 8] + [8] * 7),
                                         ("会议", MEETING_HEADERS, t.meetings, [6, 12, 36, 14] + [8] * 7)):
        ws = wb.create_sheet(report_xlsx.sheet_title(title, taken))
        for i, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
        ws.append([cell(ws, f"{TITLE} · {title}", font=report_xlsx._TITLE)])
        ws.append([cell(ws, scope_text(result))])
        ws.append([cell(ws, f"生成于 {made}")])
        ws.append([cell(ws, totals_text(result))])
        ws.append([cell(ws, h, font=report_xlsx._BOLD) for h in headers])
        for row in rows:
            ws.append([cell(ws, v) for v in row])
        ws.append([])
        ws.append([cell(ws, NOTE)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def write_pdf(result: Attendance, t: Tables, now: datetime) -> bytes:
    made = local(now).strftime("%Y-%m-%d %H:%M")
    scope, totals = scope_text(result), totals_text(result)
    running = f"{TITLE} · {scope}"
    number_widths = [5.5, 5.5, 5.5, 5.5, 5.5, 5.5, 8]
    sections = [
        Section("各单位出勤情况", UNIT_HEADERS, t.units, widths=[4, 22, 5, *number_widths],
                chart=_unit_chart(result), empty_text="（所选范围内没有已结束的会议）"),
        Section("人员出勤情况", PEOPLE_HEADERS, t.people, widths=[4, 9, 20, 11, *number_widths],
                empty_text="（无）"),
        Section("计入统计的会议", MEETING_HEADERS, t.meetings, widths=[4, 9, 26, 9, *number_widths],
                empty_text="（无）"),
    ]
    regular = set(scope + totals + running + made + NOTE + "0123456789.—%")
    bold = set(TITLE)
    for s in sections:
        bold |= set(s.title) | set("".join(s.headers))
        regular |= set(s.empty_text)
        for row in s.rows:
            for v in row:
                regular.update(report_pdf.cell_text(v))
        if s.chart:
            regular |= set("".join(s.chart.labels)) | set(s.chart.title) | set("".join(n for n, _ in s.chart.series))
    font = pdffont.register(regular)
    bold_font = pdffont.register(bold, bold=True)

    pagesize = landscape(A4)
    page_w, page_h = pagesize
    margin = report_pdf.MARGIN
    avail = page_w - 2 * margin
    grey = colors.HexColor("#4b5563")

    def decorate(canv, doc):
        canv.saveState()
        canv.setFont(font, 8)
        canv.setFillColor(grey)
        canv.drawString(margin, page_h - 10 * mm, report_pdf._wrap(running, font, 8, avail * 0.7).split("\n")[0])
        canv.drawRightString(page_w - margin, page_h - 10 * mm, f"生成时间：{made}")
        canv.setStrokeColor(report_pdf.RULE)
        canv.setLineWidth(0.5)
        canv.line(margin, page_h - 11.5 * mm, page_w - margin, page_h - 11.5 * mm)
        canv.restoreState()

    def footer(canv, number, total):
        canv.saveState()
        canv.setFont(font, 8.5)
        canv.setFillColor(grey)
        canv.drawCentredString(page_w / 2, 8 * mm, f"第 {number} 页 共 {total} 页")
        canv.restoreState()

    frame = Frame(margin, 14 * mm, avail, page_h - 29 * mm, leftPadding=0, rightPadding=0, topPadding=0,
                  bottomPadding=0)
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=pagesize, leftMargin=margin, rightMargin=margin, topMargin=15 * mm,
                          bottomMargin=14 * mm, title=TITLE, author="会易", subject=scope, creator="会易 Huiyi")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    ink = report_pdf.INK
    title_style = ParagraphStyle("title", fontName=bold_font, fontSize=18, leading=24, alignment=1, textColor=ink,
                                 wordWrap="CJK", spaceAfter=4)
    info = ParagraphStyle("info", fontName=font, fontSize=9.5, leading=14, alignment=1, textColor=ink,
                          wordWrap="CJK")
    h2 = ParagraphStyle("h2", fontName=bold_font, fontSize=12, leading=16, textColor=ink, wordWrap="CJK",
                        spaceBefore=6, spaceAfter=4)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13, textColor=ink, wordWrap="CJK")
    note = ParagraphStyle("note", fontName=font, fontSize=8, leading=11, textColor=grey, wordWrap="CJK",
                          spaceBefore=3)
    story: list = [Paragraph(TITLE, title_style), Paragraph(_esc(scope), info), Paragraph(_esc(totals), info),
                   Paragraph(_esc(NOTE), note), Spacer(1, 5 * mm)]
    for i, section in enumerate(sections):
        if i:
            story.append(CondPageBreak(50 * mm))
        story.append(Paragraph(section.title, h2))
        if section.chart is not None:
            story.append(report_pdf._chart(section.chart, avail, font))
            story.append(Spacer(1, 3 * mm))
        if section.rows:
            story.append(report_pdf.section_table(section, avail, font, bold_font))
        else:
            story.append(Paragraph(section.empty_text, body))
        story.append(Spacer(1, 4 * mm))
    doc.build(story, canvasmaker=lambda *a, **k: report_pdf.NumberedCanvas(*a, footer=footer, **k))
    return out.getvalue()


def _unit_chart(result: Attendance) -> Chart | None:
    units = [u for u in result.units if u.rate is not None]
    if not units or len(units) > CHART_MAX_UNITS:
        return None
    return Chart("bar", "各单位出勤率(%)", [u.name for u in units], [("出勤率(%)", [u.rate for u in units])],
                 max_value=100)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    content_type: str


def export(result: Attendance, fmt: str, *, actor: str, now: datetime, sort: str = "unit",
           desc: bool = False) -> Export:
    """The file, recorded in the audit log as exported by ``actor``. :raise AttendanceError:
    ``format_invalid``."""
    fmt = check_format(fmt)
    t = tables(result, sort=sort, desc=desc)
    data = write_pdf(result, t, now) if fmt == "pdf" else write_xlsx(result, t, now)
    name = filename(result, fmt, now)
    audit.record(actor, "attendance.export", target=f"unit:{result.unit.code}" if result.unit else None,
                 format=fmt, file=name, **result.filters.to_args(), meetings=len(result.meetings),
                 people=len(result.people))
    return Export(data, name, FORMATS[fmt])


# -- as a background job ----------------------------------------------------------------------------
#: Up to this many people rows a file is made while the person waits (well under a second for
#: xlsx; reportlab lays out a few hundred rows a second); larger ones run as a job.
INLINE_MAX_PEOPLE = {"xlsx": 5000, "pdf": 400}


def runs_as_job(result: Attendance, fmt: str) -> bool:
    return len(result.people) > INLINE_MAX_PEOPLE.get(fmt, 0)


def export_job(viewer_args: dict, filter_args: dict, fmt: str, sort: str, desc: bool, actor: str) -> dict:
    """The job (app/jobs.py) behind a large export: read again as ``viewer_args`` may now, write
    the file to storage, and answer what the download needs. Runs as one unit of work, the audit
    row committed with it."""
    now = datetime.now(UTC)
    jobs.report_progress(0, 3, "正在统计考勤")
    result = attendance(Viewer.from_args(viewer_args), Filters.from_args(filter_args), now=now)
    jobs.report_progress(1, 3, f"正在生成文件（{len(result.people)} 人）")
    out = export(result, fmt, actor=actor, now=now, sort=sort, desc=desc)
    sha = storage.put(out.data)
    jobs.report_progress(3, 3, "已完成")
    return {"sha": sha, "filename": out.filename, "content_type": out.content_type}
