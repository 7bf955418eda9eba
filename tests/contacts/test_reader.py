"""read_directory on LibreOffice-made fixtures (scripts/make_contact_fixtures.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.services.contacts.phones import PhoneKind
from app.services.contacts.reader import ROW_MESSAGES, DirectoryFileError, read_directory

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"


def read(name: str, **kwargs: object):
    return read_directory((FIXTURES / name).read_bytes(), name, **kwargs)


# (sheet row as seen in Excel, name, phone, code) for directory_full.*
FULL_EXPECTED = [
    (4, "张三", "13800138000", None),  # phone typed as a number; "张 三"
    (5, "李四", "13900139000", None),  # name is =CONCATENATE("李","四"), cached value; full-width digits
    (7, "阿卜杜·热合曼", "13700137000", None),  # bullet unified to U+00B7; +86 with spaces
    (8, "王五", "13600136000", None),  # ideographic space; 0086 and dashes
    (9, "赵六", "13500135000", None),
    (10, "", "13400134000", "name_missing"),
    (11, "钱七", None, "phone_invalid"),
    (12, "孙八", "13800138000", "phone_duplicate_in_file"),
    (13, "周九", "0755-1234567", "landline_not_allowed"),
    (14, "吴十", None, "phone_missing"),  # only an office phone: the mobile column is the phone
    (16, "John Smith", "13300133000", None),  # bare 86 prefix
    (17, "郑十一", "13200132000", None),  # NBSP in the name, (+86)
]
FULL_FILES = [
    "directory_full.xlsx",
    "directory_full.xls",
    "directory_full_utf8.csv",
    "directory_full_gbk.csv",
]


@pytest.mark.parametrize("name", FULL_FILES)
def test_full_directory_rows_as_the_office_sees_them(name: str) -> None:
    result = read(name)
    assert result.header_row == 3
    got = [(r.row, r.name, r.phone, r.code) for r in result.rows]
    assert got == FULL_EXPECTED
    # Title (1), blank rows (2, 6, 15, 18) and the footer (19, 20) are not reported at all.
    assert [r.row for r in result.accepted] == [4, 5, 7, 8, 9, 16, 17]


@pytest.mark.parametrize("name", FULL_FILES)
def test_full_directory_messages(name: str) -> None:
    rows = {r.row: r for r in read(name).rows}
    assert rows[10].message == "缺少姓名"
    assert rows[14].message == "缺少手机号"
    assert rows[11].message.startswith("手机号格式不正确")
    assert "1380013800" in rows[11].message
    assert rows[12].message == "与第 4 行手机号重复"
    assert rows[12].duplicate_of == 4
    assert rows[13].message == "“0755-1234567”是座机号码，请填写手机号"
    for row in rows.values():
        assert (row.code is None) == (row.message is None)


@pytest.mark.parametrize("name", FULL_FILES)
def test_full_directory_columns_and_extras(name: str) -> None:
    result = read(name)
    assert set(result.columns) == {"name", "phone", "unit", "title", "department"}
    assert result.columns["phone"].startswith("手机号码")
    assert result.extra_columns == ["序号", "性别", "办公电话", "备注"]
    first = result.rows[0]
    assert (first.unit, first.title, first.department) == ("XX局", "局长", "办公室")
    assert first.extras == {"序号": "1", "性别": "男", "办公电话": "010-12345678"}
    assert first.phone_kind is PhoneKind.MOBILE
    assert first.phone_raw == "13800138000"
    assert result.rows[1].extras["备注"] == "公式"
    assert result.rows[3].title == ""  # empty 职务 stays empty, not None


def test_formats_and_encodings_are_reported() -> None:
    assert read("directory_full.xlsx").format == "xlsx"
    assert read("directory_full.xls").format == "xls"
    assert read("directory_full.xlsx").sheet_name == "通讯录"
    assert read("directory_full_utf8.csv").encoding == "utf-8"
    assert read("directory_full_gbk.csv").encoding == "gb18030"


def test_landline_allowed_when_asked() -> None:
    rows = {r.row: r for r in read("directory_full.xlsx", allow_landline=True).rows}
    assert rows[13].ok
    assert rows[13].phone == "0755-1234567"
    assert rows[13].phone_kind is PhoneKind.LANDLINE


@pytest.mark.parametrize("name", ["csv_utf8.csv", "csv_utf8_bom.csv", "csv_gbk.csv"])
def test_csv_encodings(name: str) -> None:
    result = read(name)
    assert result.format == "csv"
    assert result.header_row == 2
    assert result.columns == {
        "name": "姓名",
        "phone": "手机号",
        "unit": "单位",
        "title": "职务",
        "department": "部门",
    }
    assert [(r.row, r.name, r.phone, r.unit, r.code) for r in result.rows] == [
        (3, "张三", "13800138000", "市财政局", None),
        (4, "阿卜杜·热合曼", "13900139000", "市财政局", None),
        (6, "李四", None, "市财政局", "phone_missing"),
    ]


def test_csv_bom_is_not_part_of_the_first_cell() -> None:
    data = (FIXTURES / "csv_utf8_bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert read("csv_utf8_bom.csv").encoding == "utf-8"


@pytest.mark.parametrize(
    ("name", "header_row", "columns", "rows"),
    [
        (
            "synonyms_a.xlsx",  # table starts at B2: row numbers still count from A1
            2,
            {"name": "姓名", "phone": "移动电话", "unit": "工作单位", "title": "职位", "department": "科室"},
            [(3, "刘一", "13100131000"), (4, "陈二", "13100131001")],
        ),
        (
            "synonyms_b.xlsx",
            1,
            {"name": "姓 名", "phone": "联系方式", "unit": "单位", "title": "职 务", "department": "部门"},
            [(2, "黄三", "13100131002"), (3, "林四", "13100131003")],
        ),
        (
            "synonyms_c.xlsx",  # 办公电话 and 联系电话 come first; 手机 still wins
            2,
            {"name": "姓名", "phone": "手机", "unit": "单位名称", "department": "部门"},
            [(3, "何五", "13100131005"), (4, "罗六", "13100131006")],
        ),
    ],
)
def test_header_synonyms(name: str, header_row: int, columns: dict[str, str], rows: list[tuple]) -> None:
    result = read(name)
    assert result.header_row == header_row
    assert result.columns == columns
    assert [(r.row, r.name, r.phone) for r in result.rows] == rows
    assert all(r.ok for r in result.rows)


def test_synonyms_c_keeps_other_phone_columns_as_extras() -> None:
    result = read("synonyms_c.xlsx")
    assert result.extra_columns == ["序号", "办公电话", "联系电话"]
    assert result.rows[0].extras == {"序号": "1", "办公电话": "010-11112222", "联系电话": "13100131004"}


def test_first_sheet_without_a_header_is_passed_over() -> None:
    result = read("two_sheets.xlsx")
    assert result.sheet_name == "名单"
    assert [(r.row, r.name, r.phone) for r in result.rows] == [
        (2, "冯七", "13100131007"),
        (3, "褚八", "13100131008"),
    ]


@pytest.mark.parametrize(
    ("fixture", "fake_name"),
    [
        ("directory_full.xlsx", "通讯录.xls"),
        ("directory_full.xls", "通讯录.xlsx"),
        ("directory_full_utf8.csv", "通讯录.xlsx"),
        ("directory_full.xlsx", "通讯录"),
    ],
)
def test_format_comes_from_content_not_name(fixture: str, fake_name: str) -> None:
    result = read_directory((FIXTURES / fixture).read_bytes(), fake_name)
    assert [(r.row, r.name, r.phone, r.code) for r in result.rows] == FULL_EXPECTED


def test_encrypted_xls_made_by_libreoffice() -> None:
    with pytest.raises(DirectoryFileError) as err:
        read("encrypted.xls")
    assert err.value.code == "encrypted_file"
    assert "密码" in err.value.message


def test_encrypted_ooxml_container() -> None:
    # An OLE2 file with an EncryptedPackage stream, derived from LibreOffice's encrypted xls
    # (LibreOffice 7.4 headless cannot save a password-protected xlsx; see the fixture script).
    with pytest.raises(DirectoryFileError) as err:
        read("encrypted_oox.xlsx")
    assert err.value.code == "encrypted_file"


# --- csv shapes built in the test ---------------------------------------------------------------


def test_csv_quoted_newline_counts_as_one_excel_row() -> None:
    text = '姓名,手机,备注\n张三,13800138000,"第一行\n第二行"\n李四,139-0013-9000,\n'
    result = read_directory(text.encode("utf-8"), "a.csv")
    assert [(r.row, r.name, r.extras) for r in result.rows] == [
        (2, "张三", {"备注": "第一行\n第二行"}),
        (3, "李四", {}),
    ]


def test_csv_semicolon_and_tab_delimiters() -> None:
    for sep in (";", "\t"):
        text = f"姓名{sep}手机号\n张三{sep}13800138000\n"
        assert read_directory(text.encode(), "a.csv").rows[0].phone == "13800138000"


def test_utf16_unicode_text_export() -> None:
    text = "姓名\t手机\r\n张三\t13800138000\r\n"
    result = read_directory(text.encode("utf-16"), "a.txt")
    assert result.encoding == "utf-16"
    assert result.rows[0].name == "张三"


def test_big5_falls_through_to_charset_detection() -> None:
    # Big5 bytes also decode as GB18030, into nonsense with no header: the next candidate wins.
    lines = ["姓名,手機,單位"] + [f"張三{i},1380013{i:04d},臺北市政府資訊處" for i in range(30)]
    result = read_directory("\n".join(lines).encode("big5"), "a.csv")
    assert result.encoding == "big5"
    assert result.rows[0].name == "張三0"
    assert result.rows[0].unit == "臺北市政府資訊處"


def test_two_level_header() -> None:
    text = "姓名,联系方式,\n,手机,办公电话\n张三,13800138000,010-12345678\n"
    result = read_directory(text.encode(), "a.csv")
    assert result.header_row == 2
    assert result.columns["phone"] == "手机"
    assert [(r.row, r.phone, r.extras) for r in result.rows] == [
        (3, "13800138000", {"办公电话": "010-12345678"})
    ]


def test_header_repeated_on_a_later_page_is_skipped() -> None:
    text = "姓名,手机\n张三,13800138000\n姓名,手机\n李四,13900139000\n"
    result = read_directory(text.encode(), "a.csv")
    assert [(r.row, r.name) for r in result.rows] == [(2, "张三"), (4, "李四")]


def test_footer_in_the_name_column_is_not_a_missing_phone() -> None:
    text = "姓名,手机\n张三,13800138000\n制表人：李雷,\n审核人: 韩梅梅,\n填表日期：2026-11-05,\n合计 1 人,\n"
    result = read_directory(text.encode(), "a.csv")
    assert [r.row for r in result.rows] == [2]


def test_prefilled_serial_numbers_alone_are_blank_rows() -> None:
    text = "序号,姓名,手机\n1,张三,13800138000\n2,,\n3,,\n"
    result = read_directory(text.encode(), "a.csv")
    assert [r.row for r in result.rows] == [2]


def test_duplicates_across_formats_of_the_same_number() -> None:
    text = "姓名,手机\n张三,13800138000\n李四,+86 138-0013-8000\n王五,１３８００１３８０００\n"
    rows = read_directory(text.encode(), "a.csv").rows
    assert [r.code for r in rows] == [None, "phone_duplicate_in_file", "phone_duplicate_in_file"]
    assert rows[2].message == "与第 2 行手机号重复"


def test_phone_in_other_unit_message_lives_in_the_same_table() -> None:
    assert ROW_MESSAGES["phone_in_other_unit"] == "该手机号已属于其他单位的人员"
    assert set(ROW_MESSAGES) >= {
        "name_missing",
        "phone_missing",
        "phone_invalid",
        "phone_duplicate_in_file",
        "landline_not_allowed",
    }
