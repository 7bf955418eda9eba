"""Reading a report's files back with real parsers: openpyxl for xlsx, pdfium for PDF text."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from openpyxl import load_workbook

from app.services.reports.xlsx import HEADER_ROW
from tests.browser import ARTIFACTS


def xlsx_sheets(data: bytes) -> dict[str, dict]:
    """{sheet title: {"title", "meeting", "scope", "facts", "headers", "rows", "cells"}}."""
    wb = load_workbook(io.BytesIO(data))
    out = {}
    for ws in wb.worksheets:
        values = [list(r) for r in ws.iter_rows(values_only=True)]
        header = values[HEADER_ROW - 1]
        width = len([h for h in header if h is not None])
        rows = []
        for r in values[HEADER_ROW:]:
            if all(v is None for v in r):
                break
            rows.append(list(r[:width]))
        out[ws.title] = {"title": values[0][0], "meeting": values[1][0], "scope": values[2][0],
                         "facts": values[3][0], "headers": list(header[:width]), "rows": rows, "ws": ws}
    return out


def pdf_pages(data: bytes) -> list[str]:
    doc = pdfium.PdfDocument(data)
    try:
        return [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    finally:
        doc.close()


def pdf_text(data: bytes) -> str:
    return "\n".join(pdf_pages(data))


def render_png(data: bytes, name: str, *, page: int = 0, scale: float = 1.6) -> Path:
    """Page ``page`` as a PNG under test-artifacts/ (looked at by people; checked for ink here)."""
    ARTIFACTS.mkdir(exist_ok=True)
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[page].render(scale=scale).to_pil()
    finally:
        doc.close()
    path = ARTIFACTS / name
    image.save(path)
    return path


def pdf_fonts(data: bytes) -> bytes:
    """The raw PDF, for asserting on its font objects (embedded TrueType, no Type3 pictures)."""
    return data


def row_line(row: list) -> str:
    """How a row reads in the PDF's extracted text: its non-empty cells, as printed, by spaces."""
    from app.services.reports.pdf import cell_text

    return " ".join(t for t in (cell_text(v) for v in row) if t)


def assert_pdf_rows(data: bytes, rows: list[list]) -> None:
    """Every row is one line of the PDF's text, in order."""
    lines = [line.strip() for line in pdf_text(data).splitlines()]
    at = 0
    for row in rows:
        want = row_line(row)
        assert want in lines[at:], f"missing or out of order: {want!r}"
        at = lines.index(want, at) + 1
