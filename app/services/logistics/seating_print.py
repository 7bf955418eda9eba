"""A seat plan on paper and in a spreadsheet: the PDF the hall staff tape to the door and the ushers
carry, and the xlsx list by row and by unit.

The PDF draws the hall as the audience faces it: the rostrum (主席台) on top, then the rows front to
back, each seat a box with its number and the sitter's name, aisles as gaps, the delegations'
sections tinted with a legend. A4 landscape when the rows fit at a readable box width, else A3
landscape; rows that do not fit one page continue on the next (the rostrum only on the first). Names
are real text (Noto Sans CJK through :mod:`app.services.reports.pdffont`), searchable and copyable,
sized down to fit their box and on two lines when long.

Both run as a recorded job from the console (:func:`export_job`); the CLI calls :func:`export`.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, datetime

import openpyxl
from openpyxl.styles import Alignment, Font, PatternFill
from reportlab.lib import colors
from reportlab.lib.pagesizes import A3, A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas

from app import jobs
from app.extensions import db
from app.services import audit, exports
from app.services.logistics import seating
from app.services.logistics.people import roster
from app.services.reports import pdffont
from app.services.timeutil import local
from models import Meeting, SeatPlan

FORMATS = {"pdf": "application/pdf",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
JOB_KIND = "seating_export"

MARGIN = 10 * mm
#: A seat box no narrower than this on A4 (else A3), and never narrower than MIN_BOX at all.
A4_MIN_BOX = 10 * mm
MAX_BOX = 16 * mm
MIN_BOX = 5.5 * mm
BOX_H = 9 * mm
AISLE = 4 * mm
ROW_LABEL = 9 * mm
SECTION_GAP = 3.2 * mm
INK = colors.HexColor("#1f2937")
RULE = colors.HexColor("#6b7280")
BLOCKED_FILL = colors.HexColor("#d1d5db")
ROSTRUM_FILL = colors.HexColor("#fde8e8")
SECTION_FILLS = [colors.HexColor(c) for c in ("#dbeafe", "#dcfce7", "#fef3c7", "#ede9fe", "#fce7f3", "#cffafe",
                                              "#fee2e2", "#e0e7ff", "#ecfccb", "#ffedd5")]


class SeatingPrintError(seating.SeatingError):
    messages = {**seating.SeatingError.messages, "format_invalid": "导出格式只能是 pdf 或 xlsx"}


@dataclass(frozen=True)
class Export:
    data: bytes
    filename: str
    content_type: str


def check_format(fmt: object) -> str:
    fmt = (fmt if isinstance(fmt, str) else "").strip().lower().lstrip(".")
    if fmt not in FORMATS:
        raise SeatingPrintError("format_invalid")
    return fmt


def filename(meeting: Meeting, plan: SeatPlan, fmt: str, now: datetime) -> str:
    clean = exports.safe_filename
    return f"{clean(meeting.title) or meeting.code}-座次-{clean(plan.name)}-{local(now):%Y-%m-%d}.{fmt}"


def export(meeting: Meeting, plan: SeatPlan, fmt: str, *, actor: str, now: datetime | None = None,
           progress=None) -> Export:
    """The plan as ``fmt`` (pdf or xlsx), recorded in the audit log as exported by ``actor``."""
    fmt = check_format(fmt)
    now = now or datetime.now(UTC)
    view = seating.plan_view(meeting, plan, roster(meeting.id))
    if progress:
        progress(1, 3, f"正在生成{'PDF' if fmt == 'pdf' else 'Excel'}文件（{view.seated} 个座位）")
    data = write_pdf(meeting, view, now) if fmt == "pdf" else write_xlsx(meeting, view)
    name = filename(meeting, plan, fmt, now)
    audit.record(actor, "seating.export", meeting_id=meeting.id, target=f"seat_plan:{plan.id}", format=fmt,
                 file=name, job=jobs.current_job_id())
    return Export(data, name, FORMATS[fmt])


def export_job(meeting_id: int, plan_id: int, fmt: str, actor: str) -> dict:
    """The job behind the console's export buttons: the file kept in storage for the download."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise SeatingPrintError("plan_not_found")
    jobs.report_progress(0, 3, "正在读取座次")
    out = export(meeting, seating.get_plan(meeting, plan_id), fmt, actor=actor, progress=jobs.report_progress)
    result = exports.stored(out.data, out.filename, out.content_type)
    jobs.report_progress(3, 3, "已生成")
    return result


# --- PDF --------------------------------------------------------------------------------------------

def _layout(plan: SeatPlan) -> tuple[tuple[float, float], float]:
    """Page size and seat box width: A4 landscape if the widest rows fit at A4_MIN_BOX, else A3."""
    aisles = len(plan.aisles or ())
    for size in (landscape(A4), landscape(A3)):
        avail = size[0] - 2 * MARGIN - 2 * ROW_LABEL - aisles * AISLE
        widest = max(plan.seats_per_row, plan.rostrum_seats)
        box = min(MAX_BOX, avail / widest)
        if box >= A4_MIN_BOX or size == landscape(A3):
            return size, max(MIN_BOX, box)
    raise AssertionError("unreachable")


def _name_lines(name: str, font: str, width: float) -> tuple[list[str], float]:
    """The name in one line (or two when long) and the font size that fits ``width``."""
    if not name:
        return [], 0
    one = stringWidth(name, font, 1)
    size = min(7.5, width / one) if one else 7.5
    if size >= 5 or len(name) < 4:
        return [name], max(size, 3.2)
    half = (len(name) + 1) // 2
    lines = [name[:half], name[half:]]
    size = min(7.0, width / max(stringWidth(line, font, 1) for line in lines))
    return lines, max(size, 3.2)


def write_pdf(meeting: Meeting, view: seating.PlanView, now: datetime) -> bytes:
    plan = view.plan
    page, box = _layout(plan)
    sections = [s["group"] for s in plan.sections or ()]
    fills = {g: SECTION_FILLS[i % len(SECTION_FILLS)] for i, g in enumerate(sections)}
    texts = {s.who.name for rows in (view.rostrum, view.hall) for row in rows for s in row if s.who}
    title = f"{meeting.title} · 座次图（{plan.name}）"
    legend_text = "图例 主席台 已预留/损坏 无人 排 号 第 页 共 生成于 面向主席台 （续） 人 空 个座位" + "".join(sections)
    numbers = "0123456789×:-/"
    font = pdffont.register(set("".join(texts)) | set(legend_text) | set(numbers) | set(title))
    bold = pdffont.register(set(title) | set("主席台（续）") | set("".join(sections)), bold=True)

    width, height = page
    hall_w = plan.seats_per_row * box + len(plan.aisles or ()) * AISLE
    left = (width - hall_w) / 2
    top_reserved = 16 * mm  # title block
    bottom_reserved = 18 * mm  # legend and footer

    out = io.BytesIO()
    c = rl_canvas.Canvas(out, pagesize=page, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("会易")

    def x_of(pos: int, count: int, start: float, aisles: tuple[int, ...]) -> float:
        return start + (pos - 1) * box + sum(AISLE for a in aisles if pos > a)

    def draw_seat(x: float, y: float, s: seating.SeatView, fill) -> None:
        c.setLineWidth(0.4)
        c.setStrokeColor(RULE)
        c.setFillColor(BLOCKED_FILL if s.blocked else fill or colors.white)
        c.rect(x + 0.4, y, box - 0.8, BOX_H - 0.8, stroke=1, fill=1)
        c.setFillColor(RULE)
        c.setFont(font, 4.2)
        c.drawString(x + 1.1, y + BOX_H - 0.8 - 4.6, str(s.number))
        c.setFillColor(INK)
        if s.blocked:
            c.setFont(font, 5)
            c.drawCentredString(x + box / 2, y + 2.2, s.blocked)
        elif s.who:
            lines, size = _name_lines(s.who.name, font, box - 2.2)
            c.setFont(font, size)
            if len(lines) == 1:
                c.drawCentredString(x + box / 2, y + 2.0, lines[0])
            else:
                c.drawCentredString(x + box / 2, y + 1.4 + size, lines[0])
                c.drawCentredString(x + box / 2, y + 1.2, lines[1])

    def row_label(y: float, text: str, x_left: float, x_right: float) -> None:
        c.setFont(font, 6.5)
        c.setFillColor(INK)
        c.drawRightString(x_left - 1.5 * mm, y + BOX_H / 2 - 2.3, text)
        c.drawString(x_right + 1.5 * mm, y + BOX_H / 2 - 2.3, text)

    # Pages: the rostrum on the first, then as many hall rows as fit per page.
    rostrum_h = (len(view.rostrum) * BOX_H + 12 * mm) if view.rostrum else 6 * mm
    # A section's first row (and the row after its last) gets a gap above it, which holds its name.
    starts = {sec["rows"][0]: sec for sec in plan.sections or ()}
    ends = {sec["rows"][1] + 1 for sec in plan.sections or ()}

    def gap_before(row: int) -> float:
        return SECTION_GAP if row in starts or row in ends else 0.0

    room_first = height - 2 * MARGIN - top_reserved - bottom_reserved - rostrum_h
    room = height - 2 * MARGIN - top_reserved - bottom_reserved - 6 * mm
    chunks: list[list[list[seating.SeatView]]] = [[]]
    used = 0.0
    for row in view.hall:
        need = BOX_H + gap_before(row[0].row)
        if chunks[-1] and used + need > (room_first if len(chunks) == 1 else room):
            chunks.append([])
            used = 0.0
        chunks[-1].append(row)
        used += need
    total = len(chunks)

    for index, rows in enumerate(chunks, 1):
        y = height - MARGIN
        c.setFillColor(INK)
        c.setFont(bold, 13)
        c.drawCentredString(width / 2, y - 13, title + ("（续）" if index > 1 else ""))
        c.setFont(font, 7.5)
        sub = f"共 {view.capacity} 个座位 · 已安排 {view.seated} 人 · 面向主席台，座号{_numbering_note(plan.numbering)}"
        c.drawCentredString(width / 2, y - 24, sub)
        y -= top_reserved
        if index == 1 and view.rostrum:
            r_w = plan.rostrum_seats * box
            r_left = (width - r_w) / 2
            c.setFillColor(ROSTRUM_FILL)
            c.setStrokeColor(RULE)
            c.roundRect(r_left - 3 * mm, y - len(view.rostrum) * BOX_H - 8 * mm, r_w + 6 * mm,
                        len(view.rostrum) * BOX_H + 8 * mm, 2 * mm, stroke=1, fill=1)
            c.setFillColor(INK)
            c.setFont(bold, 9)
            c.drawCentredString(width / 2, y - 6.5 * mm + 1, "主席台")
            y -= 8 * mm
            for r_index, row in enumerate(view.rostrum, 1):
                y -= BOX_H
                for s in row:
                    draw_seat(x_of(s.pos, plan.rostrum_seats, r_left, ()), y, s, colors.white)
                row_label(y, f"{r_index} 排", r_left, r_left + r_w)
            y -= 4 * mm
        y -= 2 * mm
        for row in rows:
            y -= gap_before(row[0].row)
            sec = starts.get(row[0].row)
            if sec is None and row is rows[0]:  # a section going on from the page before
                sec = next((x for x in plan.sections or () if x["rows"][0] < row[0].row <= x["rows"][1]), None)
            if sec is not None:
                label = sec["group"] + ("（续）" if sec["rows"][0] < row[0].row else "")
                c.setFont(bold, 6)
                c.setFillColor(INK)
                c.drawString(x_of(sec["seats"][0], plan.seats_per_row, left, tuple(plan.aisles or ())) + 0.6,
                             y + 1.2, label)
            y -= BOX_H
            for s in row:
                draw_seat(x_of(s.pos, plan.seats_per_row, left, tuple(plan.aisles or ())), y, s,
                          fills.get(s.section) if s.section else None)
            row_label(y, f"{row[0].row} 排", left, left + hall_w)
        # Legend and footer.
        y = MARGIN + 8 * mm
        x = MARGIN
        c.setFont(font, 7)
        items = [("主席台", ROSTRUM_FILL)] if view.rostrum else []
        items += [(g, fills[g]) for g in sections] + [("已预留/损坏", BLOCKED_FILL), ("无人", colors.white)]
        c.setFillColor(INK)
        c.drawString(x, y, "图例")
        x += 10 * mm
        for label, fill in items:
            c.setFillColor(fill)
            c.setStrokeColor(RULE)
            c.rect(x, y - 1, 6 * mm, 3.2 * mm, stroke=1, fill=1)
            c.setFillColor(INK)
            c.drawString(x + 7.5 * mm, y, label)
            x += 7.5 * mm + stringWidth(label, font, 7) + 5 * mm
            if x > width - MARGIN - 40 * mm:
                x, y = MARGIN + 10 * mm, y - 4.5 * mm
        c.setFont(font, 7)
        c.setFillColor(RULE)
        c.drawString(MARGIN, MARGIN, f"生成于 {local(now):%Y-%m-%d %H:%M}")
        c.drawRightString(width - MARGIN, MARGIN, f"第 {index} 页 共 {total} 页")
        c.showPage()
    c.save()
    return out.getvalue()


def _numbering_note(numbering: str) -> str:
    return {"ltr": "从左至右编号", "odd_right": "中间为 1 号，单号在右、双号在左",
            "odd_left": "中间为 1 号，单号在左、双号在右"}.get(numbering, "")


# --- xlsx -------------------------------------------------------------------------------------------

def write_xlsx(meeting: Meeting, view: seating.PlanView) -> bytes:
    wb = openpyxl.Workbook()
    head = Font(bold=True)
    fill = PatternFill("solid", fgColor="E5E7EB")
    seats = [s for rows in (view.rostrum, view.hall) for row in rows for s in row if s.who]
    by_row = wb.active
    by_row.title = "按排"
    _sheet(by_row, ["区域", "排", "座号", "座位", "姓名", "单位", "代表团", "身份"],
           [["主席台" if s.row < 0 else "会场", abs(s.row), s.number, s.label, s.who.name, s.who.unit, s.who.group,
             s.who.role] for s in sorted(seats, key=lambda s: (s.row > 0, abs(s.row), s.number))], head, fill)
    by_unit = wb.create_sheet("按单位")
    _sheet(by_unit, ["单位", "姓名", "座位", "代表团", "身份"],
           [[s.who.unit, s.who.name, s.label, s.who.group, s.who.role]
            for s in sorted(seats, key=lambda s: (s.who.unit, s.row > 0, abs(s.row), s.number))], head, fill)
    missing = wb.create_sheet("未安排")
    _sheet(missing, ["姓名", "单位", "代表团", "身份"],
           [[p["name"], p["unit"], p["group"], p["role"]] for p in view.unseated], head, fill)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _sheet(ws, headers: list[str], rows: list[list], head: Font, fill: PatternFill) -> None:
    for col, header in enumerate(headers, 1):
        cell = exports._put(ws, 1, col, header)
        cell.font = head
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center")
    for r, row in enumerate(rows, 2):
        for col, value in enumerate(row, 1):
            exports._put(ws, r, col, value)  # never a formula (a name typed "=1+1" stays text)
    for index, header in enumerate(headers, 1):
        width = max([len(str(header)) * 2 + 2] + [len(str(r[index - 1])) * 2 + 2 for r in rows[:500]])
        ws.column_dimensions[openpyxl.utils.get_column_letter(index)].width = min(40, width)
    ws.freeze_panes = "A2"
