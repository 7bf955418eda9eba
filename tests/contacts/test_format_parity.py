"""Issue 21.13: one directory, every format, the same accepted and refused rows.

The fixtures are made by real writers (scripts/make_contact_fixtures.py --parity): LibreOffice saved
the xlsx, xls and both csv encodings; openpyxl and the csv module wrote the script's files, whose phone
column holds numbers (int, float; "13800138001.0" in the csv). Each is read by the project's reader.
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from app.services.contacts.reader import read_directory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"

FILES = [
    "parity_lo.xlsx",
    "parity_lo.xls",
    "parity_lo_utf8.csv",
    "parity_lo_gbk.csv",
    "parity_script_int.xlsx",
    "parity_script_float.xlsx",
    "parity_script_float.csv",
]

# (sheet row, name, phone, code): the same for every file.
EXPECTED = [
    (3, "李四", "13800138001", None),
    (4, "王五", "13800138002", None),
    (5, "钱七", "13800138004", None),
    (6, "阿卜杜·热合曼", "13800138005", None),
    (7, "孙八", None, "phone_damaged"),  # "1.38001E+10"
    (8, "周九", "13800100000", "phone_damaged"),  # the same, typed back as a number
    (9, "吴十", None, "phone_invalid"),
    (10, "郑十一", "13800138002", "phone_duplicate_in_file"),
    (11, "陈十三", "13800138006", None),  # another unit's: the import service refuses it
    (12, "褚十四", "13800138007", None),
]


def outcome(name: str) -> tuple[list[tuple], list[dict]]:
    result = read_directory((FIXTURES / name).read_bytes(), name)
    return [(r.row, r.name, r.phone, r.code) for r in result.rows], result.skipped


@pytest.mark.parametrize(("a", "b"), list(combinations(FILES, 2)))
def test_every_format_pair_reads_the_same_rows(a: str, b: str) -> None:
    rows_a, skipped_a = outcome(a)
    rows_b, skipped_b = outcome(b)
    assert rows_a == rows_b == EXPECTED
    assert [s["row"] for s in skipped_a] == [s["row"] for s in skipped_b] == [2]


@pytest.mark.parametrize("name", FILES)
def test_damaged_numbers_say_so_and_how_to_fix_the_column(name: str) -> None:
    rows = {r.row: r for r in read_directory((FIXTURES / name).read_bytes(), name).rows}
    for number in (7, 8):
        message = rows[number].message or ""
        assert "科学计数法" in message and "设置为文本格式" in message and "重新输入" in message, message
    assert "1.38001E+10" in (rows[7].message or "")
    assert "138-0010-0000" in (rows[8].message or "")  # how to write it if the number really is so


@pytest.mark.parametrize("name", FILES)
def test_the_template_example_row_is_skipped_and_said_so(name: str) -> None:
    result = read_directory((FIXTURES / name).read_bytes(), name)
    assert "13800138000" not in {r.phone for r in result.rows}
    assert result.skipped == [{"row": 2, "code": "example_row", "message": "模板中的示例行（张三 / 13800138000），已跳过"}]


@pytest.mark.parametrize(
    ("cell", "phone", "code"),
    [
        ("13800138001.0", "13800138001", None),  # a float written out as text by a script
        (13800138001.0, "13800138001", None),
        ("138-0010-0000", "13800100000", None),  # written with separators: the office means it
        ("'13800100000", "13800100000", None),  # marked as text in a csv: the office means it
        (13800100000, "13800100000", "phone_damaged"),
        ("13800100000", "13800100000", "phone_damaged"),
        ("1.38001E+10", None, "phone_damaged"),
    ],
)
def test_number_shapes(cell: object, phone: str | None, code: str | None) -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "手机"])
    ws.append(["李四", cell])
    out = io.BytesIO()
    wb.save(out)
    row = read_directory(out.getvalue(), "a.xlsx").rows[0]
    assert (row.phone, row.code) == (phone, code)


def test_a_name_that_lost_a_rare_character_to_gbk_is_refused_not_imported_wrong() -> None:
    # Excel's "CSV" on Chinese Windows writes GBK, and "?" for a character GBK lacks (䶮).
    text = "姓名,手机号码\n王䶮,13800138011\n李四,13800138012\n"
    as_excel_writes_it = text.encode("gbk", errors="replace")
    rows = read_directory(as_excel_writes_it, "通讯录.csv").rows
    assert [(r.row, r.name, r.code) for r in rows] == [(2, "王?", "name_garbled"), (3, "李四", None)]
    assert "另存为 UTF-8" in rows[0].message and "Excel" in rows[0].message
    # The same directory as UTF-8 (or xlsx) keeps the character and imports it.
    assert read_directory(text.encode("utf-8"), "通讯录.csv").rows[0].name == "王䶮"
