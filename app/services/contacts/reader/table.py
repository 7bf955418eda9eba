"""Finding the table in a sheet: which row is the header and which column holds which field.

Offices put a title above the header, merge cells, add notes like "（必填）" into header text and
use many names for the same column. A header row is the first row (among the first
``HEADER_SCAN_ROWS``) that has a name column and a phone column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from app.services.contacts.reader.formats import Cell

HEADER_SCAN_ROWS = 30

FIELDS = ("name", "phone", "unit", "title", "department")

#: Header synonyms per field, after :func:`header_key` normalization.
SYNONYMS: dict[str, frozenset[str]] = {
    "name": frozenset(
        {
            "姓名",
            "名字",
            "人员姓名",
            "参会人",
            "参会人员",
            "参会人姓名",
            "参会人员姓名",
            "联系人",
            "联系人姓名",
        }
    ),
    "unit": frozenset({"单位", "所在单位", "工作单位", "单位名称", "所属单位", "单位全称"}),
    "title": frozenset({"职务", "职位", "现任职务", "职务职级", "行政职务"}),
    "department": frozenset(
        {"部门", "处室", "科室", "所在部门", "所在处室", "所在科室", "内设机构", "部门处室"}
    ),
}
#: Phone headers by preference: a mobile column beats a generic one, which beats an office line.
PHONE_SYNONYMS: tuple[frozenset[str], ...] = (
    frozenset(
        {"手机", "手机号", "手机号码", "移动电话", "手机电话", "移动电话号码", "本人手机", "本人手机号"}
    ),
    frozenset({"联系电话", "电话", "联系方式", "电话号码", "联系号码", "联系手机"}),
    frozenset({"办公电话", "座机", "固定电话", "办公室电话", "单位电话"}),
)

# Traditional forms of the characters in header synonyms (Big5 files from Hong Kong/Taiwan units).
_TRADITIONAL = str.maketrans("機號碼電話聯繫係單職務門動稱屬處構絡", "机号码电话联系系单职务门动称属处构络")
_ANNOTATION_RE = re.compile(r"\([^)]*\)|\[[^\]]*\]|[*★☆※:：]")


def cell_text(value: Cell) -> str:
    """A cell as the office sees it: numbers without '.0', dates as ISO dates, None as ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value)


def header_key(value: Cell) -> str:
    """'手机号码\\n（必填）' -> '手机号码'; '姓　名' -> '姓名'."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    text = _ANNOTATION_RE.sub("", text).translate(_TRADITIONAL)
    return "".join(text.split())


def header_label(value: Cell) -> str:
    """Header text kept for display (extras keys): whitespace runs collapsed, nothing dropped."""
    return " ".join(cell_text(value).split())


@dataclass(slots=True)
class Columns:
    """0-based column index per field, plus the other labelled columns kept as extras."""

    header_row: int  # 1-based sheet row of the (last) header row
    index: dict[str, int] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)  # field -> header text as written
    extras: dict[int, str] = field(default_factory=dict)  # column index -> header text


def _match(row: list[Cell]) -> tuple[dict[str, int], dict[str, int]]:
    """Field -> column, and for the phone the preference rank of the chosen column."""
    found: dict[str, int] = {}
    phone_rank = len(PHONE_SYNONYMS)
    for col, value in enumerate(row):
        key = header_key(value)
        if not key:
            continue
        for name, words in SYNONYMS.items():
            if key in words and name not in found:
                found[name] = col
        for rank, words in enumerate(PHONE_SYNONYMS):
            if key in words and rank < phone_rank:
                found["phone"], phone_rank = col, rank
    return found, {"phone": phone_rank}


def find_header(rows: list[list[Cell]]) -> Columns | None:
    for i, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        found, ranks = _match(row)
        if "name" not in found or "phone" not in found:
            continue
        header_rows = [row]
        # A two-level header ("联系方式" merged over "手机 | 办公电话"): the row below refines it.
        if i + 1 < len(rows):
            below, below_ranks = _match(rows[i + 1])
            if below and not _looks_like_data(rows[i + 1], found):
                header_rows.append(rows[i + 1])
                for name, col in below.items():
                    if name != "phone" or below_ranks["phone"] <= ranks["phone"]:
                        found[name] = col
        columns = Columns(header_row=i + len(header_rows), index=found)
        width = max(len(r) for r in header_rows)
        for col in range(width):
            label = next(
                (
                    header_label(r[col])
                    for r in reversed(header_rows)
                    if col < len(r) and cell_text(r[col]).strip()
                ),
                "",
            )
            owner = next((name for name, c in found.items() if c == col), None)
            if owner:
                columns.labels[owner] = label
            elif label:
                columns.extras[col] = label
        return columns
    return None


def _looks_like_data(row: list[Cell], found: dict[str, int]) -> bool:
    col = found["phone"]
    value = cell_text(row[col]) if col < len(row) else ""
    return any(ch.isdigit() for ch in value)
