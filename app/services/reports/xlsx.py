"""A report as an xlsx workbook: one sheet per section (title, key figures, a bold header row, the
rows), written in openpyxl's streaming mode so 10,000 rows take well under a second.

Cells never become formulas: text is always a string cell, and text that a spreadsheet would read
as a formula (``=``, ``+``, ``-``, ``@``…, :func:`app.services.exports.is_dangerous`) keeps Excel's
quote prefix, as the project's other exports do."""

from __future__ import annotations

import io
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.services.exports import is_dangerous
from app.services.reports.base import ReportData
from app.services.timeutil import local

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"


def _cell(ws, value, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws)
    if value is None or isinstance(value, (bool, int, float)):
        cell.value = value
    elif isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, date):
        cell.value = value
    else:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
        cell.value = text
        cell.data_type = "s"  # never inferred as a formula
        if is_dangerous(text):
            cell.quotePrefix = True
    if font is not None:
        cell.font = font
    return cell


def sheet_title(title: str, taken: set[str]) -> str:
    for ch in '[]:*?/\\':
        title = title.replace(ch, " ")
    base = (title.strip() or "Sheet")[:28]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


#: Rows above the header row in every sheet: title, meeting, scope and time, figures, blank.
HEADER_ROW = 5


def write(report: ReportData) -> bytes:
    """The workbook. Each sheet: row 1 the report's title, 2 the meeting, 3 the scope and when it was
    made, 4 the key figures, 5 the header row, then the rows (row ``HEADER_ROW + 1`` on)."""
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    made = local(report.generated_at).strftime("%Y-%m-%d %H:%M")
    for section in report.sections:
        ws = wb.create_sheet(sheet_title(section.title, taken))
        widths = section.widths or [10] * len(section.headers)
        scale = 120 / max(1.0, sum(widths))
        for i, w in enumerate(widths):
            ws.column_dimensions[get_column_letter(i + 1)].width = max(6, min(50, w * scale))
        ws.freeze_panes = f"A{HEADER_ROW + 1}"
        ws.append([_cell(ws, f"{report.title} · {section.title}" if section.title != report.title else report.title,
                         font=_TITLE)])
        ws.append([_cell(ws, report.meeting.title)])
        ws.append([_cell(ws, f"{report.scope}　生成于 {made}")])
        ws.append([_cell(ws, "　".join(f"{k}：{v}" for k, v in section.facts) or section.note)])
        ws.append([_cell(ws, h, font=_BOLD) for h in section.headers])
        for row in section.rows:
            ws.append([_cell(ws, v) for v in row])
        if section.facts and section.note:
            ws.append([])
            ws.append([_cell(ws, section.note)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
