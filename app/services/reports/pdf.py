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
    Frame,
    KeepTogether,
    LongTable,
    PageBreak,
    PageTemplate,
    Paragraph,
    Spacer,
    TableStyle,
)

from app.services.reports import pdffont
from app.services.reports.base import Chart, ReportData, Section
from app.services.timeutil import fmt_range_cn, local

BODY_SIZE = 8.5
HEAD_SIZE = 9
SIGNATURE_HEADER = "签名"
INK = colors.HexColor("#1f2937")
RULE = colors.HexColor("#9ca3af")
HEAD_BG = colors.HexColor("#e5e7eb")
SERIES = [colors.HexColor("#b91c1c"), colors.HexColor("#1d4ed8"), colors.HexColor("#047857"),
          colors.HexColor("#b45309")]
MARGIN = 15 * mm
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
            regular |= set(s.chart.title) | set("".join(s.chart.labels)) | set("".join(n for n, _ in s.chart.series))
        for row in s.rows:
            for v in row:
                regular.update(cell_text(v))
    return regular, bold


class _NumberedCanvas(rl_canvas.Canvas):
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


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """``text`` broken into lines no wider than ``width`` (any character may end a line)."""
    if not text or (len(text) * size <= width and "\n" not in text):
        return text
    lines, line, used = [], [], 0.0
    for ch in text:
        if ch == "\n":
            lines.append("".join(line))
            line, used = [], 0.0
            continue
        w = stringWidth(ch, font, size)
        if line and used + w > width:
            lines.append("".join(line))
            line, used = [], 0.0
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


def _table(section: Section, avail: float, font: str, bold: str) -> LongTable:
    widths = _column_widths(section, avail)
    pad = 2.5
    headers = [*section.headers, *([SIGNATURE_HEADER] if section.signature else [])]
    data = [[_wrap(h, bold, HEAD_SIZE, w - 2 * pad) for h, w in zip(headers, widths, strict=True)]]
    inner = [w - 2 * pad for w in widths]
    n = len(section.headers)
    for row in section.rows:
        cells = [_wrap(cell_text(v), font, BODY_SIZE, inner[i]) for i, v in enumerate(row[:n])]
        if section.signature:
            cells.append("")
        data.append(cells)
    row_pad = 6 if section.signature else 2.5  # room to sign by hand
    style = [
        ("FONT", (0, 0), (-1, 0), bold, HEAD_SIZE, HEAD_SIZE * 1.3),
        ("FONT", (0, 1), (-1, -1), font, BODY_SIZE, BODY_SIZE * 1.3),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD_BG),
        ("GRID", (0, 0), (-1, -1), 0.5, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (-1, 0), "CENTER"),
        ("LEFTPADDING", (0, 0), (-1, -1), pad),
        ("RIGHTPADDING", (0, 0), (-1, -1), pad),
        ("TOPPADDING", (0, 1), (-1, -1), row_pad),
        ("BOTTOMPADDING", (0, 1), (-1, -1), row_pad),
    ]
    if section.rows and section.rows[-1] and section.rows[-1][0] == "合计":
        style.append(("FONT", (0, -1), (-1, -1), bold, BODY_SIZE, BODY_SIZE * 1.3))
    # repeatRows: the header on every page; splitInRow=0 (the default): a row never breaks across pages.
    return LongTable(data, colWidths=widths, repeatRows=1, style=TableStyle(style))


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
    regular_chars, bold_chars = _chars(report, subtitle + scope + running + "0123456789")
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
    note_style = ParagraphStyle("note", fontName=font, fontSize=8, leading=11, textColor=colors.HexColor("#4b5563"),
                                wordWrap="CJK", spaceBefore=3)

    story: list = [Paragraph(_esc(report.title), title_style), Paragraph(_esc(meeting.title), meeting_style),
                   Paragraph(_esc(subtitle), info_style), Paragraph(_esc(scope), info_style), Spacer(1, 6 * mm)]
    for i, section in enumerate(report.sections):
        if i and not report.compact and len(section.rows) > 20:
            story.append(PageBreak())
        elif i:
            story.append(CondPageBreak(60 * mm))
        head: list = []
        if section.title != report.title or len(report.sections) > 1:
            head.append(Paragraph(_esc(section.title), h2))
        if section.facts:
            head.append(Paragraph("　　".join(f"{_esc(k)}：<font name='{bold}'>{_esc(v)}</font>"
                                             for k, v in section.facts), facts_style))
        if section.chart is not None and section.chart.labels:
            head.append(_chart(section.chart, avail, font))
            head.append(Spacer(1, 3 * mm))
        if head:
            story.append(KeepTogether(head))
        if section.headers:
            if section.rows:
                story.append(_table(section, avail, font, bold))
            else:
                story.append(Paragraph(_esc(section.empty_text), facts_style))
        if section.note:
            story.append(Paragraph(_esc(section.note), note_style))
        story.append(Spacer(1, 4 * mm))
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, footer=footer, **k))
    return out.getvalue()


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
