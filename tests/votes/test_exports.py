"""xlsx export: text that looks like a formula stays text."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

import openpyxl

from app.services.exports import write_xlsx

HOSTILE = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1",
           "=cmd|' /C calc'!A0"]


def test_formula_like_text_comes_back_as_plain_strings():
    data = write_xlsx(["标签", "数量"], [[text, i] for i, text in enumerate(HOSTILE)] + [["正常", -5]])
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    for i, text in enumerate(HOSTILE, start=2):
        cell = ws.cell(i, 1)
        # XML turns a bare CR into LF on reading; the text is otherwise exact
        assert cell.value == text.replace("\r", "\n") and cell.data_type == "s" and cell.quotePrefix
    assert ws.cell(len(HOSTILE) + 2, 2).value == -5  # real numbers stay numbers
    assert not ws.cell(len(HOSTILE) + 2, 1).quotePrefix
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no formula element anywhere


def test_types_headers_and_odd_characters():
    data = write_xlsx(["姓名", "时间", "是否"], [["张三\x07", datetime(2026, 11, 22, 9, 30), True], [None, None, None]],
                      sheet_title="投票/结果:[1]")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.active
    assert ws.title == "投票 结果  1"
    assert [c.value for c in ws[1]] == ["姓名", "时间", "是否"] and ws["A1"].font.bold
    assert ws["A2"].value == "张三" and ws["B2"].value == datetime(2026, 11, 22, 9, 30) and ws["C2"].value is True
