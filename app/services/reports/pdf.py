"""A report as a PDF for filing: A4 (landscape when a table is wide), a title block (report,
meeting, time and place, which sessions, when made), key figures, charts drawn as vectors from the
same numbers as the tables, tables whose header row repeats on every page and which break only
between rows, and on every page a running header (meeting · report) and "第 X 页 共 Y 页".

Text is Noto Sans CJK SC embedded as a TrueType subset (:mod:`.pdffont`): selectable, searchable,
extractable. Cells are wrapped here by measuring characters (CJK wraps anywhere), not by reportlab
Paragraphs, which would cost seconds on a 10,000-row 签到表.
"""

from __future__ import annotations

import io
from datetime import datetime

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import (
    BaseDocTemplate,
    CondPageBreak,
    Flowable,
    Frame,
    KeepTogether,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from app.services.reports import pdffont
from app.services.reports.base import Chart, ReportData, Section
from app.services.timeutil import fmt_range_cn, local

BODY_SIZE = 8.5
HEAD_SIZE = 9
SIGNATURE_HEADER = "签名"
#: The side of the 签名 column's check box, in points.
BOX_PT = 9
INK = colors.HexColor("#1f2937")
RULE = colors.HexColor("#9ca3af")
HEAD_BG = colors.HexColor("#e5e7eb")
SERIES = [colors.HexColor("#b91c1c"), colors.HexColor("#1d4ed8"), colors.HexColor("#047857"),
          colors.HexColor("#b45309")]
MARGIN = 15 * mm
TABLE_PAD = 2.5
HEADER_PAD = 3.5
#: Sections with more columns than this (the signature column included) are laid out on landscape A4.
PORTRAIT_MAX_COLUMNS = 7


def cell_text(value: object) -> str:
    """How a value reads on paper."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _chars(report: ReportData, pages_text: str) -> tuple[set[str], set[str]]:
    regular: set[str] = set(pages_text)
    bold: set[str] = set(report.title) | set(report.meeting.title)
    for s in report.sections:
        bold |= set(s.title)
        regular |= set(s.title) | set("".join(s.headers)) | set(s.note) | set(s.empty_text)
        bold |= set("".join(s.headers))
        for k, v in s.facts:
            regular |= set(k) | set(v)
            bold |= set(v)
        if s.chart:
            bold |= set(s.chart.title)
            regular |= set(s.chart.title) | set("".join(s.chart.labels)) | set("".join(n for n, _ in s.chart.series))
        for row in s.rows if s.pdf_table else ():
            for v in row:
                regular.update(cell_text(v))
    return regular, bold


class NumberedCanvas(rl_canvas.Canvas):
    """Draws "第 X 页 共 Y 页" once the page count is known (pages are kept until save)."""

    def __init__(self, *args, footer, **kwargs):
        super().__init__(*args, **kwargs)
        self._saved: list[dict] = []
        self._footer = footer

    def showPage(self):  # noqa: N802 - reportlab's name
        self._saved.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved)
        for state in self._saved:
            self.__dict__.update(state)
            self._footer(self, self._pageNumber, total)
            super().showPage()
        super().save()


_widths: dict[str, dict[str, float]] = {}


def _char_width(font: str, ch: str) -> float:
    """The width of ``ch`` at size 1 (remembered: a 10,000-row table measures the same few
    thousand characters over and over)."""
    if font not in _widths and len(_widths) >= 8:
        _widths.clear()  # fonts of reports long written: keep a worker's memory bounded
    table = _widths.setdefault(font, {})
    w = table.get(ch)
    if w is None:
        w = table[ch] = stringWidth(ch, font, 1000) / 1000
    return w


_NO_LINE_START = set("）)]】」』》〉，。、；：！？…%％’”·")


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """``text`` broken into lines no wider than ``width`` (any character may end a line)."""
    if not text or (len(text) * size <= width and "\n" not in text):
        return text
    if "\n" not in text and sum(_char_width(font, ch) for ch in text) * size <= width:
        return text
    lines, line, used = [], [], 0.0
    for ch in text:
        if ch == "\n":
            lines.append("".join(line))
            line, used = [], 0.0
            continue
        w = _char_width(font, ch) * size
        if line and used + w > width:
            carry: list[str] = []
            if ch in _NO_LINE_START and len(line) > 1:  # 禁则: a closing mark never starts a line
                carry = [line.pop()]
            lines.append("".join(line))
            line, used = carry, sum(_char_width(font, c) * size for c in carry)
        line.append(ch)
        used += w
    lines.append("".join(line))
    return "\n".join(lines)


def _column_widths(section: Section, avail: float) -> list[float]:
    weights = list(section.widths or [1] * len(section.headers))
    if section.signature:
        weights.append(max(8.0, sum(weights) * 0.12))
    total = sum(weights)
    return [avail * w / total for w in weights]


class RowTable(Flowable):
    """A table of any length that breaks only between rows, with its header row on every page.

    reportlab's Table re-measures every remaining row at each page break (quadratic: a 10,000-row
    签到表 took 20 s); here each row's height is known beforehand (its wrapped lines), a page takes
    the rows that fit, and the grid and text are drawn directly on the canvas.
    """

    def __init__(self, header: list[str], rows: list[list[str]], widths: list[float], *, font: str, bold: str,
                 row_pad: float, bold_last: bool = False, start: int = 0, heights: list[float] | None = None,
                 boxes: bool = False):
        super().__init__()
        self.header, self.rows, self.widths = header, rows, widths
        self.font, self.bold, self.row_pad, self.bold_last = font, bold, row_pad, bold_last
        #: A check box drawn in each row's last cell (the 签到表's 签名: tick or sign on paper; the ticks
        #: are keyed back in on the console's 补录纸质签到表 page).
        self.boxes = boxes
        self.start = start
        self.header_h = self._lines(header) * HEAD_SIZE * 1.3 + 2 * HEADER_PAD
        self.heights = heights if heights is not None else [
            self._lines(r) * BODY_SIZE * 1.3 + 2 * row_pad for r in rows]
        self.end = len(rows)

    @staticmethod
    def _lines(cells: list[str]) -> int:
        return max([c.count("\n") + 1 for c in cells] or [1])

    def wrap(self, avail_width, avail_height):
        self.width = sum(self.widths)
        self.height = self.header_h + sum(self.heights[self.start:self.end])
        return self.width, self.height

    def split(self, avail_width, avail_height):
        used, end = self.header_h, self.start
        while end < len(self.rows) and used + self.heights[end] <= avail_height:
            used += self.heights[end]
            end += 1
        if end == self.start:
            return []  # not even one row fits: the frame moves on to the next page
        first = self._part(self.start, end)
        return [first] if end >= len(self.rows) else [first, self._part(end, len(self.rows))]

    def _part(self, start: int, end: int) -> RowTable:
        part = RowTable(self.header, self.rows, self.widths, font=self.font, bold=self.bold, row_pad=self.row_pad,
                        bold_last=self.bold_last, start=start, heights=self.heights, boxes=self.boxes)
        part.end = end
        return part

    def draw(self):
        c = self.canv
        widths = self.widths
        xs = [0.0]
        for w in widths:
            xs.append(xs[-1] + w)
        top = self.height
        c.saveState()
        c.setFillColor(HEAD_BG)
        c.rect(0, top - self.header_h, xs[-1], self.header_h, stroke=0, fill=1)
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        ys = [top, top - self.header_h]
        for h in self.heights[self.start:self.end]:
            ys.append(ys[-1] - h)
        path = c.beginPath()
        for y in ys:
            path.moveTo(0, y)
            path.lineTo(xs[-1], y)
        for x in xs:
            path.moveTo(x, ys[0])
            path.lineTo(x, ys[-1])
        c.drawPath(path, stroke=1, fill=0)
        if self.boxes:  # drawn, not text: the sheet's text stays what the rows say
            c.setStrokeColor(INK)
            for i, y in zip(range(self.start, self.end), ys[1:-1], strict=True):
                h = self.heights[i]
                c.rect(xs[-2] + 5, y - h / 2 - BOX_PT / 2, BOX_PT, BOX_PT, stroke=1, fill=0)
            c.setStrokeColor(RULE)
        text = c.beginText()
        text.setFillColor(INK)
        self._cells(text, self.header, xs, top, self.header_h, self.bold, HEAD_SIZE, HEADER_PAD, centre=True)
        y = top - self.header_h
        for i in range(self.start, self.end):
            h = self.heights[i]
            last = self.bold_last and i == len(self.rows) - 1
            self._cells(text, self.rows[i], xs, y, h, self.bold if last else self.font, BODY_SIZE, self.row_pad)
            y -= h
        c.drawText(text)
        c.restoreState()

    def _cells(self, text, cells: list[str], xs: list[float], top: float, height: float, font: str, size: float,
               pad: float, centre: bool = False) -> None:
        text.setFont(font, size, size * 1.3)
        leading = size * 1.3
        for col, value in enumerate(cells):
            if not value:
                continue
            lines = value.split("\n")
            # Vertically centred: the block of lines in the middle of the row.
            baseline = top - (height - len(lines) * leading) / 2 - size * 0.95
            for n, line in enumerate(lines):
                x = xs[col] + TABLE_PAD
                if centre:
                    x = (xs[col] + xs[col + 1] - stringWidth(line, font, size)) / 2
                text.setTextOrigin(x, baseline - n * leading)
                text.textOut(line)


def section_table(section: Section, avail: float, font: str, bold: str) -> RowTable:
    widths = _column_widths(section, avail)
    headers = [*section.headers, *([SIGNATURE_HEADER] if section.signature else [])]
    inner = [w - 2 * TABLE_PAD for w in widths]
    head = [_wrap(h, bold, HEAD_SIZE, w) for h, w in zip(headers, inner, strict=True)]
    n = len(section.headers)
    rows = []
    for row in section.rows:
        cells = [_wrap(cell_text(v), font, BODY_SIZE, inner[i]) for i, v in enumerate(row[:n])]
        if section.signature:
            cells.append("")
        rows.append(cells)
    bold_last = bool(section.rows and section.rows[-1] and section.rows[-1][0] == "合计")
    # Room to sign by hand on the 签到表.
    return RowTable(head, rows, widths, font=font, bold=bold, row_pad=7 if section.signature else 3,
                    bold_last=bold_last, boxes=section.signature)


def _figures(facts: list[tuple[str, str]], avail: float, font: str, bold: str) -> Table:
    """Key figures as a row of boxes: the number large, its label under it (the summary's headline)."""
    per_row = 5 if len(facts) > 5 else len(facts)
    cells = [facts[i:i + per_row] for i in range(0, len(facts), per_row)]
    data = []
    for chunk in cells:
        chunk = chunk + [("", "")] * (per_row - len(chunk))
        data.append([v for _k, v in chunk])
        data.append([k for k, _v in chunk])
    width = avail / per_row
    style = [("FONT", (0, r), (-1, r), bold, 17, 21) for r in range(0, len(data), 2)]
    style += [("FONT", (0, r), (-1, r), font, 8.5, 11) for r in range(1, len(data), 2)]
    style += [("ALIGN", (0, 0), (-1, -1), "CENTER"), ("TEXTCOLOR", (0, 0), (-1, -1), INK),
              ("BOX", (0, 0), (-1, -1), 0.5, RULE), ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f8fafc")),
              ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)]
    for r in range(0, len(data), 2):
        style.append(("TOPPADDING", (0, r), (-1, r), 6))
        style.append(("TEXTCOLOR", (0, r), (-1, r), SERIES[0]))
    for c in range(1, per_row):
        style.append(("LINEBEFORE", (c, 0), (c, -1), 0.5, RULE))
    return Table(data, colWidths=[width] * per_row, style=TableStyle(style))


def _chart(chart: Chart, avail: float, font: str) -> Drawing:
    if chart.kind == "bar":
        n = len(chart.labels)
        label_w = min(avail * 0.35, max(stringWidth(lbl, font, 7.5) for lbl in chart.labels) + 6)
        height = max(80.0, 13.0 * n + 40)
        d = Drawing(avail, height)
        c = HorizontalBarChart()
        c.x, c.y, c.width, c.height = label_w, 22, avail - label_w - 30, height - 40
        c.data = [list(reversed(values)) for _name, values in chart.series]
        c.categoryAxis.categoryNames = list(reversed(chart.labels))
        c.categoryAxis.labels.fontName = font
        c.categoryAxis.labels.fontSize = 7.5
        c.categoryAxis.labels.boxAnchor = "e"
        c.valueAxis.valueMin = 0
        c.valueAxis.valueMax = chart.max_value or max(max(v) for _n, v in chart.series) or 1
        c.valueAxis.labels.fontName = font
        c.valueAxis.labels.fontSize = 7.5
        c.barLabelFormat = "%.1f" if chart.max_value == 100 else "%d"
        c.barLabels.fontName = font
        c.barLabels.fontSize = 6.5
        c.barLabels.boxAnchor = "w"
        c.barLabels.dx = 3
        for i in range(len(chart.series)):
            c.bars[i].fillColor = SERIES[i % len(SERIES)]
            c.bars[i].strokeColor = None
        d.add(c)
    else:
        height = 170.0
        d = Drawing(avail, height)
        c = HorizontalLineChart()
        c.x, c.y, c.width, c.height = 36, 30, avail - 50, height - 50
        c.data = [values for _name, values in chart.series]
        names = list(chart.labels)
        step = max(1, len(names) // 12)
        c.categoryAxis.categoryNames = [lbl if i % step == 0 else "" for i, lbl in enumerate(names)]
        c.categoryAxis.labels.fontName = font
        c.categoryAxis.labels.fontSize = 7
        c.categoryAxis.labels.angle = 0
        c.valueAxis.valueMin = 0
        top = max([max(v) for _n, v in chart.series if v] + [chart.max_value or 0, 1])
        c.valueAxis.valueMax = top
        c.valueAxis.valueStep = max(1, int(top / 5))
        c.valueAxis.labels.fontName = font
        c.valueAxis.labels.fontSize = 7
        for i in range(len(chart.series)):
            c.lines[i].strokeColor = SERIES[i % len(SERIES)]
            c.lines[i].strokeWidth = 1.5
        d.add(c)
        legend_x = 40
        for i, (name, _v) in enumerate(chart.series):
            d.add(String(legend_x, height - 10, f"— {name}", fontName=font, fontSize=7.5,
                         fillColor=SERIES[i % len(SERIES)]))
            legend_x += stringWidth(f"— {name}", font, 7.5) + 16
    return d


def write(report: ReportData) -> bytes:
    meeting = report.meeting
    made = local(report.generated_at).strftime("%Y-%m-%d %H:%M")
    when = fmt_range_cn(meeting.starts_at, meeting.ends_at)
    if report.session is not None:
        when = fmt_range_cn(report.session.starts_at, report.session.ends_at)
    place = f"　地点：{meeting.venue}" if meeting.venue else ""
    subtitle = f"时间：{when}{place}"
    scope = f"范围：{report.scope}　　生成时间：{made}"
    running = f"{meeting.title} · {report.title}"
    # Everything drawn on the page besides the story: the running header and "第 X 页 共 Y 页".
    regular_chars, bold_chars = _chars(report, subtitle + scope + running + "0123456789第页共生成时间：")
    font = pdffont.register(regular_chars)
    bold = pdffont.register(bold_chars, bold=True)

    wide = any(len(s.headers) + (1 if s.signature else 0) > PORTRAIT_MAX_COLUMNS for s in report.sections)
    pagesize = landscape(A4) if wide else A4
    page_w, page_h = pagesize
    avail = page_w - 2 * MARGIN

    def decorate(canv, doc):
        canv.saveState()
        canv.setFont(font, 8)
        canv.setFillColor(colors.HexColor("#4b5563"))
        canv.drawString(MARGIN, page_h - 10 * mm, _wrap(running, font, 8, avail * 0.7).split("\n")[0])
        canv.drawRightString(page_w - MARGIN, page_h - 10 * mm, f"生成时间：{made}")
        canv.setStrokeColor(RULE)
        canv.setLineWidth(0.5)
        canv.line(MARGIN, page_h - 11.5 * mm, page_w - MARGIN, page_h - 11.5 * mm)
        canv.restoreState()

    def footer(canv, number, total):
        canv.saveState()
        canv.setFont(font, 8.5)
        canv.setFillColor(colors.HexColor("#4b5563"))
        canv.drawCentredString(page_w / 2, 8 * mm, f"第 {number} 页 共 {total} 页")
        canv.restoreState()

    frame = Frame(MARGIN, 14 * mm, avail, page_h - 14 * mm - 15 * mm, leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    out = io.BytesIO()
    doc = BaseDocTemplate(out, pagesize=pagesize, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=15 * mm,
                          bottomMargin=14 * mm, title=f"{meeting.title}-{report.title}", author="会易",
                          subject=report.title, creator="会易 Huiyi")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])

    title_style = ParagraphStyle("title", fontName=bold, fontSize=18, leading=24, alignment=1, textColor=INK,
                                 wordWrap="CJK", spaceAfter=4)
    meeting_style = ParagraphStyle("meeting", fontName=bold, fontSize=12.5, leading=17, alignment=1, textColor=INK,
                                   wordWrap="CJK", spaceAfter=2)
    info_style = ParagraphStyle("info", fontName=font, fontSize=9, leading=13, alignment=1,
                                textColor=colors.HexColor("#374151"), wordWrap="CJK")
    h2 = ParagraphStyle("h2", fontName=bold, fontSize=12, leading=16, textColor=INK, wordWrap="CJK",
                        spaceBefore=6, spaceAfter=4)
    facts_style = ParagraphStyle("facts", fontName=font, fontSize=10, leading=15, textColor=INK, wordWrap="CJK",
                                 spaceAfter=4)
    chart_title = ParagraphStyle("chart", fontName=bold, fontSize=9.5, leading=13, textColor=INK, wordWrap="CJK",
                                 spaceBefore=2, spaceAfter=2)
    note_style = ParagraphStyle("note", fontName=font, fontSize=8, leading=11, textColor=colors.HexColor("#4b5563"),
                                wordWrap="CJK", spaceBefore=3)

    story: list = [Paragraph(_esc(report.title), title_style), Paragraph(_esc(meeting.title), meeting_style),
                   Paragraph(_esc(subtitle), info_style), Paragraph(_esc(scope), info_style), Spacer(1, 6 * mm)]
    for i, section in enumerate(report.sections):
        if i and not report.compact and len(section.rows) > 20:
            story.append(PageBreak())
        elif i and not report.compact:
            story.append(CondPageBreak(60 * mm))
        head: list = []
        if section.title != report.title or len(report.sections) > 1:
            head.append(Paragraph(_esc(section.title), h2))
        if section.facts and section.figures:
            head.append(_figures(section.facts, avail, font, bold))
        elif section.facts:
            head.append(Paragraph("　　".join(f"{_esc(k)}：<font name='{bold}'>{_esc(v)}</font>"
                                             for k, v in section.facts), facts_style))
        if section.chart is not None and section.chart.labels:
            head.append(Paragraph(_esc(section.chart.title), chart_title))
            head.append(_chart(section.chart, avail, font))
            head.append(Spacer(1, 3 * mm))
        if head:
            story.append(KeepTogether(head))
        if not section.pdf_table and not section.rows:
            story.append(Paragraph(_esc(section.empty_text), facts_style))
        if section.headers and section.pdf_table:
            if section.rows:
                story.append(section_table(section, avail, font, bold))
            else:
                story.append(Paragraph(_esc(section.empty_text), facts_style))
        if section.note:
            story.append(Paragraph(_esc(section.note), note_style))
        story.append(Spacer(1, 4 * mm))
    doc.build(story, canvasmaker=lambda *a, **k: NumberedCanvas(*a, footer=footer, **k))
    return out.getvalue()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
