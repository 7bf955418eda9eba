"""Turning the rows under the header into normalized contacts or row-level rejections."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.services.contacts_reader.errors import row_message
from app.services.contacts_reader.formats import Cell
from app.services.contacts_reader.table import SYNONYMS, Columns, cell_text, header_key
from app.services.phones import PhoneKind, normalize_name, normalize_phone, normalize_unit_name

# A footer row starts with one of these ("制表人：李雷", "填表日期：2026年11月5日", "注：…").
_FOOTER_RE = re.compile(
    r"^\s*(制表人|制表|填表人|填报人|填表|审核人|审核|审批人|负责人|经办人|联系人|"
    r"填表日期|填报日期|制表日期|日期|注|备注|说明|合计|总计|共计)\s*[:：]?"
)
_FOOTER_BARE_RE = re.compile(r"^\s*(合计|总计|共计)")


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


def _is_footer(texts: list[str]) -> bool:
    first = next((t for t in texts if t.strip()), "")
    if not first:
        return False
    match = _FOOTER_RE.match(first)
    if match is None:
        return False
    # "联系人" is also a name header synonym; as a footer it must be followed by a colon.
    rest = first[match.end(1) :].lstrip()
    return rest[:1] in (":", "：") or _FOOTER_BARE_RE.match(first) is not None or not rest


def build_rows(grid: list[list[Cell]], columns: Columns, *, allow_landline: bool) -> list[DirectoryRow]:
    out: list[DirectoryRow] = []
    seen: dict[str, int] = {}
    idx = columns.index
    name_col, phone_col = idx["name"], idx["phone"]
    unit_col, title_col, dept_col = idx.get("unit"), idx.get("title"), idx.get("department")

    def at(cells: list[Cell], col: int | None) -> Cell:
        return cells[col] if col is not None and col < len(cells) else None

    for offset, cells in enumerate(grid[columns.header_row :]):
        row_number = columns.header_row + offset + 1
        raw_name, raw_phone = at(cells, name_col), at(cells, phone_col)
        name_text, phone_text = cell_text(raw_name).strip(), cell_text(raw_phone).strip()
        # Blank rows, and template rows where only 序号 was pre-filled, are skipped silently.
        if not name_text and not phone_text:
            continue
        texts = [cell_text(c) for c in cells]
        if _is_footer(texts):
            continue
        if header_key(raw_name) in SYNONYMS["name"]:
            continue  # the header repeated (a list printed over several pages)
        phone = normalize_phone(raw_phone)
        row = DirectoryRow(
            row=row_number,
            name=normalize_name(raw_name),
            phone=phone.number,
            phone_kind=phone.kind,
            phone_raw=phone.raw,
            unit=" ".join(cell_text(at(cells, unit_col)).split()),
            title=" ".join(cell_text(at(cells, title_col)).split()),
            department=" ".join(cell_text(at(cells, dept_col)).split()),
            extras={
                label: text.strip()
                for col, label in columns.extras.items()
                if col < len(texts) and (text := texts[col]).strip()
            },
        )
        if not row.name:
            row.code = "name_missing"
        elif phone.error == "phone_missing":
            row.code = "phone_missing"
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
