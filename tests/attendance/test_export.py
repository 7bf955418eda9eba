"""Attendance exports read back with real parsers: the xlsx (openpyxl) equals the table row by row,
no cell is a formula; the PDF's CJK text is real text (pypdfium2 extracts it)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from app.services.attendance import export as ex
from app.services.attendance import query as svc
from app.services.attendance.query import AttendanceError, Filters
from models import AuditLog
from tests.attendance.conftest import NOW
from tests.attendance.test_service import PEOPLE, UNITS
from tests.browser import ARTIFACTS

RANGE = Filters(date(2026, 11, 1), date(2026, 11, 30))


def sheet_rows(ws) -> list[list]:
    rows = [list(r) for r in ws.iter_rows(min_row=ex.HEADER_ROW + 1, values_only=True)]
    return [r for r in rows if r and r[0] is not None and isinstance(r[0], int)]


def test_xlsx_equals_the_table(att, db):
    result = svc.attendance(svc.console_viewer(att.organizer), RANGE, now=NOW)
    out = ex.export(result, "xlsx", actor="contact:1", now=NOW, sort="rate")
    assert out.filename == "考勤统计-2026-11-01至2026-11-30-2026-11-23.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(out.data))
    assert wb.sheetnames == ["按人员", "按单位", "会议"]
    people = wb["按人员"]
    assert [c.value for c in people[ex.HEADER_ROW]] == ex.PEOPLE_HEADERS
    rows = sheet_rows(people)
    tables = ex.tables(result, sort="rate")
    assert rows == tables.people
    # The numbers are the hand-built ones, in the order asked for (worst rate first).
    assert {r[1]: (r[4], r[6], r[7], r[8], r[9], r[10]) for r in rows} == PEOPLE
    assert [r[1] for r in rows] == ["李二", "张一", "李一", "张二", "张三"]
    assert {r[1]: (r[3], r[5], r[6], r[7], r[8], r[9]) for r in sheet_rows(wb["按单位"])} == UNITS
    assert sheet_rows(wb["会议"]) == tables.meetings
    assert [r[3] for r in tables.meetings] == ["MT1", "MT2", "MT3"]
    assert "计入会议 3 个" in people["A2"].value
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "attendance.export"))
    assert entry.actor == "contact:1" and entry.data["format"] == "xlsx" and entry.data["file"] == out.filename


def test_no_cell_becomes_a_formula(att, db):
    att.people["a1"].name = "=HYPERLINK(\"http://x\")"
    db.session.flush()
    result = svc.attendance(svc.console_viewer(att.organizer), RANGE, now=NOW)
    wb = openpyxl.load_workbook(io.BytesIO(ex.export(result, "xlsx", actor="t", now=NOW).data))
    cell = next(c for row in wb["按人员"].iter_rows() for c in row if c.value == "=HYPERLINK(\"http://x\")")
    assert cell.data_type == "s" and cell.quotePrefix


def test_pdf_text_is_extractable_and_carries_the_numbers(att):
    result = svc.attendance(svc.unit_office_viewer(att.fgj), RANGE, now=NOW)
    out = ex.export(result, "pdf", actor="unit_account:fgj", now=NOW)
    assert out.filename == "区发展和改革局-考勤统计-2026-11-01至2026-11-30-2026-11-23.pdf"
    doc = pdfium.PdfDocument(out.data)
    text = "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    assert "考勤统计" in text and "单位：区发展和改革局" in text and "第 1 页 共 1 页" in text
    assert "人员出勤情况" in text and "各单位出勤情况" in text and "计入统计的会议" in text
    for name in ("张一", "张二", "张三"):
        assert name in text
    assert "李一" not in text and "区财政局" not in text
    # 张一 over MT1, MT2, MT3 and MT6 (a unit office counts every meeting): 4 3 3 1 0 1 75.0
    lines = [line.split() for line in text.splitlines()]
    assert any(row[:1] == ["张一"] or row[1:2] == ["张一"] for row in lines)
    assert "75.0" in text and "局长" in text
    ARTIFACTS.mkdir(exist_ok=True)  # looked at: it should read like an office's filed table
    doc[0].render(scale=1.5).to_pil().save(ARTIFACTS / "attendance-pdf-page1.png")


def test_a_format_is_checked():
    with pytest.raises(AttendanceError) as err:
        ex.check_format("docx")
    assert err.value.code == "format_invalid" and "xlsx" in err.value.message


def test_a_long_pdf_repeats_its_header_and_numbers_its_pages(att, factory, db):
    """Enough people for three pages: every page has the running header, the table's header row and
    "第 X 页 共 Y 页"; no row is split (each name appears once, whole)."""
    meeting = att.meetings["MT1"]
    extra = [factory.contact(att.fgj, name=f"王{i:03d}", title="干部") for i in range(90)]
    for person in extra:
        factory.invitee(meeting, person)
    db.session.flush()
    result = svc.attendance(svc.CLI_VIEWER, RANGE, now=NOW)
    doc = pdfium.PdfDocument(ex.export(result, "pdf", actor="t", now=NOW).data)
    pages = [doc[i].get_textpage().get_text_range() for i in range(len(doc))]
    assert len(pages) >= 3
    for number, text in enumerate(pages, start=1):
        assert f"第 {number} 页 共 {len(pages)} 页" in text
        assert "考勤统计" in text and "生成时间：2026-11-23 12:00" in text
    people_pages = [t for t in pages if "王0" in t]
    assert len(people_pages) >= 2 and all("姓名" in t and "出勤率(%)" in t for t in people_pages)
    everything = "\n".join(pages)
    assert all(everything.count(f"王{i:03d}") == 1 for i in range(90))
    doc[1].render(scale=1.5).to_pil().save(ARTIFACTS / "attendance-pdf-page2.png")
