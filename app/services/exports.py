"""Spreadsheet exports (xlsx) that are safe to open in Excel or WPS.

Formula injection: a cell whose text starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
return, which some spreadsheet programs strip before looking) would be run as a formula when the
file is opened. Such text is stored as a plain string cell with Excel's "quote prefix" flag: the
exact text is kept (a label "=1+1" stays "=1+1", readable by any program), and the spreadsheet
shows it as text and keeps it text when the cell is edited.

Where an export is built (issue 21.10), the one rule: up to :data:`INLINE_MAX_CELLS` cells an xlsx
is written while the person waits (openpyxl: about 0.1 s of CPU); a larger one is written by a job
(app/jobs.py), whose page shows the progress and offers the download (:func:`stored`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from app.services import storage

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
INLINE_MAX_CELLS = 5_000
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def runs_as_job(rows: int, columns: int) -> bool:
    """Is an export of about ``rows`` x ``columns`` cells too big to write while the person waits?"""
    return rows * max(columns, 1) > INLINE_MAX_CELLS


def stored(data: bytes, filename: str, content_type: str = XLSX_TYPE) -> dict[str, str]:
    """A job's result for a file: kept in storage, downloaded from ``/jobs/<id>/download``."""
    return {"sha": storage.put(data), "filename": filename, "content_type": content_type}


def safe_filename(text: str) -> str:
    """A file name part without the characters Windows refuses."""
    return "".join(ch for ch in text if ch not in '\\/:*?"<>|\r\n\t').strip()


def is_dangerous(text: str) -> bool:
    return text.startswith(FORMULA_TRIGGERS)


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], *, sheet_title: str = "Sheet1") -> bytes:
    """An xlsx workbook with one sheet: a bold header row, then ``rows``.

    Values may be str, int, float, bool, date/datetime (naive: write local time) or None.
    """
    wb = Workbook()
    ws = wb.active
    ws.title = _sheet_title(sheet_title)
    for col, header in enumerate(headers, start=1):
        cell = _put(ws, 1, col, header)
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            _put(ws, r, col, value)
    for col, header in enumerate(headers, start=1):
        ws.column_dimensions[ws.cell(1, col).column_letter].width = max(10, min(40, len(str(header)) * 2 + 4))
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _put(ws, row: int, col: int, value: object):
    cell = ws.cell(row=row, column=col)
    if value is None or isinstance(value, (bool, int, float, date, datetime)):
        cell.value = value.replace(tzinfo=None) if isinstance(value, datetime) else value
        return cell
    text = ILLEGAL_CHARACTERS_RE.sub("", str(value))
    cell.value = text
    # Never let openpyxl infer a formula (it does for any text starting with "="): always a string.
    cell.data_type = "s"
    if is_dangerous(text):
        cell.quotePrefix = True
    return cell


def _sheet_title(title: str) -> str:
    for ch in '[]:*?/\\':
        title = title.replace(ch, " ")
    return (title.strip() or "Sheet1")[:31]
