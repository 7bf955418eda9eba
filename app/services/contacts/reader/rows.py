"""Turning the rows under the header into normalized contacts or row-level rejections."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from app.services.contacts.phones import PhoneKind, normalize_name, normalize_phone, normalize_unit_name
from app.services.contacts.reader.errors import row_message, skip_message
from app.services.contacts.reader.formats import Cell
from app.services.contacts.reader.table import SYNONYMS, Columns, cell_text, header_key

# A footer row starts with one of these ("制表人：李雷", "填表日期：2026年11月5日", "注：…").
_FOOTER_WORDS = (
    "制表人 制表 填表人 填报人 填表 审核人 审核 审批人 负责人 经办人 联系人 "
    "填表日期 填报日期 制表日期 日期 注 备注 说明 合计 总计 共计"
).split()
# Longest first, so that "填表日期" is not read as "填表" followed by "日期".
_FOOTER_RE = re.compile(r"^\s*(" + "|".join(sorted(_FOOTER_WORDS, key=len, reverse=True)) + r")")
_FOOTER_BARE_RE = re.compile(r"^\s*(合计|总计|共计)")

#: The example row of our templates (units office and console): recognised and skipped, so an
#: office that left it in does not import a 张三 who does not exist. A real 张三 with this number
#: also needs the template's own example values (or the word 示例 our templates put beside it).
EXAMPLE_NAME, EXAMPLE_PHONE = "张三", "13800138000"
_EXAMPLE_SIGNATURES = (
    lambda row: (row.title, row.department) == ("科员", "办公室"),  # the unit office's template
    lambda row: {"第一代表团", "A-01"} <= set(row.extras.values()),  # the console's invitee template
    lambda row: any("示例" in value for value in row.extras.values()),
)
# A number that spreadsheet software rounded to 6 significant digits (shown as 1.38001E+10, then
# saved or re-typed as a number) ends in five zeros. Written with separators (138-0010-0000), the
# office tells us the number really is so.
_BARE_NUMBER_RE = re.compile(r"\s*\d{11}(?:\.0+)?\s*")
_TRUNCATED_TAIL = "00000"
_PROGRESS_EVERY = 2_000


@dataclass(slots=True)
class DirectoryRow:
    """One data row. ``row`` is the 1-based sheet row number as the office sees it in Excel."""

    row: int
    name: str
    phone: str | None
    phone_kind: PhoneKind | None
    phone_raw: str
    unit: str
    title: str
    department: str
    extras: dict[str, str] = field(default_factory=dict)
    code: str | None = None
    message: str | None = None
    duplicate_of: int | None = None

    @property
    def ok(self) -> bool:
        return self.code is None

    @property
    def unit_key(self) -> str:
        return normalize_unit_name(self.unit)


def _is_footer_row(cells: list[Cell]) -> bool:
    for cell in cells:
        if cell is not None and cell != "":
            return isinstance(cell, str) and _is_footer(cell)
    return False


def _is_footer(first: str) -> bool:
    """Is this cell (a row's first non-empty one) a footer such as "制表人：李雷"?"""
    match = _FOOTER_RE.match(first)
    if match is None:
        return False
    # "联系人" is also a name header synonym; as a footer it must be followed by a colon.
    rest = first[match.end(1) :].lstrip()
    return rest[:1] in (":", "：") or _FOOTER_BARE_RE.match(first) is not None or not rest


def _text(value: Cell) -> str:
    # Most cells are already str; skip the call for them (this runs ~10 times per row).
    return value if type(value) is str else cell_text(value)


def _collapse(value: Cell) -> str:
    text = value if type(value) is str else cell_text(value)
    return " ".join(text.split())


def _skippable(cells: list[Cell], raw_name: Cell) -> bool:
    """A footer ("制表人：…") or the header printed again on the next page."""
    return _is_footer_row(cells) or header_key(raw_name) in SYNONYMS["name"]


def _truncated(raw: Cell, number: str) -> bool:
    """A bare number (a numeric cell, or digits alone in text) that lost its tail to rounding."""
    if not number.endswith(_TRUNCATED_TAIL):
        return False
    return isinstance(raw, int | float) or (isinstance(raw, str) and _BARE_NUMBER_RE.fullmatch(raw) is not None)


def _is_example(row: DirectoryRow) -> bool:
    if row.name != EXAMPLE_NAME or row.phone != EXAMPLE_PHONE:
        return False
    return any(signature(row) for signature in _EXAMPLE_SIGNATURES)


def build_rows(grid: list[list[Cell]], columns: Columns, *, allow_landline: bool,
               skipped: list[dict[str, object]] | None = None,
               on_rows: Callable[[int, int], None] | None = None) -> list[DirectoryRow]:
    """Judge each data row; rows skipped on purpose (the template's example) go to ``skipped``."""
    out: list[DirectoryRow] = []
    seen: dict[str, int] = {}
    idx = columns.index
    name_col, phone_col = idx["name"], idx["phone"]
    unit_col = idx.get("unit", -1)
    title_col = idx.get("title", -1)
    dept_col = idx.get("department", -1)
    extras = list(columns.extras.items())

    total = len(grid) - columns.header_row
    for offset, cells in enumerate(grid[columns.header_row :]):
        row_number = columns.header_row + offset + 1
        if on_rows is not None and offset % _PROGRESS_EVERY == 0:
            on_rows(offset, total)
        n = len(cells)
        raw_name = cells[name_col] if name_col < n else None
        raw_phone = cells[phone_col] if phone_col < n else None
        # Blank rows, and template rows where only 序号 was pre-filled, are skipped silently.
        if not _text(raw_name).strip() and not _text(raw_phone).strip():
            continue
        phone = normalize_phone(raw_phone)
        # Neither a footer nor a repeated header carries a mobile: the common row skips the check.
        if not phone.is_mobile and _skippable(cells, raw_name):
            continue
        row = DirectoryRow(
            row=row_number,
            name=normalize_name(raw_name),
            phone=phone.number,
            phone_kind=phone.kind,
            phone_raw=phone.raw,
            unit=_collapse(cells[unit_col]) if 0 <= unit_col < n else "",
            title=_collapse(cells[title_col]) if 0 <= title_col < n else "",
            department=_collapse(cells[dept_col]) if 0 <= dept_col < n else "",
            extras={
                label: text.strip()
                for col, label in extras
                if col < n and (text := _text(cells[col])) and not text.isspace()
            },
        )
        if phone.number == EXAMPLE_PHONE and _is_example(row):
            if skipped is not None:
                skipped.append({"row": row_number, "code": "example_row", "message": skip_message("example_row")})
            continue
        if not row.name:
            row.code = "name_missing"
        elif "?" in row.name or "\ufffd" in row.name:
            # A character the file's encoding could not hold (Excel writes "?" for 䶮 in a GBK csv):
            # importing "王?" would make a person nobody can match.
            row.code = "name_garbled"
            row.message = row_message("name_garbled", name=row.name)
        elif phone.error == "phone_missing":
            row.code = "phone_missing"
        elif phone.damaged:
            row.code = "phone_damaged"
            row.message = row_message("phone_damaged", detail=f"“{phone.raw}”是科学计数法显示，号码的后几位已经丢失",
                                      hint="")
        elif phone.is_mobile and _truncated(raw_phone, phone.number):  # type: ignore[arg-type]
            row.code = "phone_damaged"
            shown = phone.number
            row.message = row_message(
                "phone_damaged",
                detail=f"“{phone.raw}”末尾是 00000，像是以科学计数法显示（{shown[0]}.{shown[1:6]}E+10）后丢失了后几位",
                hint=f"（若号码确实如此，请写成 {shown[:3]}-{shown[3:7]}-{shown[7:]}）")
        elif phone.error is not None:
            row.code = "phone_invalid"
            row.message = row_message("phone_invalid", detail=phone.detail or phone.raw)
        elif phone.kind is PhoneKind.LANDLINE and not allow_landline:
            row.code = "landline_not_allowed"
            row.message = row_message("landline_not_allowed", phone=phone.display)
        elif phone.number in seen:
            row.code = "phone_duplicate_in_file"
            row.duplicate_of = seen[phone.number]
            row.message = row_message("phone_duplicate_in_file", first_row=row.duplicate_of)
        else:
            seen[phone.number] = row_number  # type: ignore[index]
        if row.code and row.message is None:
            row.message = row_message(row.code)
        out.append(row)
    return out
