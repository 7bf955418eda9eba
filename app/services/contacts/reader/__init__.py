"""Reading a unit office's contact directory (通讯录) as offices really write it.

Pure library code: bytes in, a :class:`DirectoryFile` out, no database. The import service decides
what to write (and adds ``phone_in_other_unit``); this package only reads, normalizes and judges
each row on its own and against the rest of the file.

    result = read_directory(data, "通讯录.xlsx")
    for row in result.rejected:
        print(row.row, row.code, row.message)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.services.contacts.reader.errors import (
    FILE_MESSAGES,
    ROW_MESSAGES,
    SKIP_MESSAGES,
    DirectoryFileError,
    row_message,
)
from app.services.contacts.reader.formats import MAX_COLUMNS, Format, open_workbook
from app.services.contacts.reader.rows import DirectoryRow, build_rows
from app.services.contacts.reader.table import find_header

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ROWS",
    "FILE_MESSAGES",
    "MAX_COLUMNS",
    "ROW_MESSAGES",
    "SKIP_MESSAGES",
    "DirectoryFile",
    "DirectoryFileError",
    "DirectoryRow",
    "read_directory",
    "row_message",
]

#: 20 MiB holds a 100,000-row xlsx several times over and bounds what a parser is handed.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
#: Sheet rows (title, header and blank rows included), the same count the office sees in Excel.
DEFAULT_MAX_ROWS = 200_000


@dataclass(slots=True)
class DirectoryFile:
    filename: str
    format: Format
    sheet_name: str  # "" for csv
    header_row: int  # 1-based sheet row of the header (the lower one of a two-level header)
    columns: dict[str, str]  # field ("name", "phone", "unit", "title", "department") -> header text
    extra_columns: list[str]  # other header texts, kept in each row's extras
    rows: list[DirectoryRow] = field(default_factory=list)
    encoding: str | None = None  # csv only: "utf-8", "gb18030", ...
    #: Rows skipped on purpose ({row, code, message}), e.g. the template's example row.
    skipped: list[dict[str, object]] = field(default_factory=list)

    @property
    def accepted(self) -> list[DirectoryRow]:
        return [row for row in self.rows if row.ok]

    @property
    def rejected(self) -> list[DirectoryRow]:
        return [row for row in self.rows if not row.ok]


def read_directory(
    data: bytes,
    filename: str,
    *,
    allow_landline: bool = False,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_rows: int = DEFAULT_MAX_ROWS,
    on_rows: Callable[[int, int], None] | None = None,
) -> DirectoryFile:
    """Locate the table in an xlsx/xls/csv upload and judge every data row.

    ``on_rows(done, total)`` is told every few thousand rows judged (a job's progress bar).

    Raises :class:`DirectoryFileError` when the file as a whole cannot be used.
    """
    if len(data) > max_bytes:
        raise DirectoryFileError(
            "file_too_large", size_mb=len(data) / 1024 / 1024, limit_mb=max_bytes / 1024 / 1024
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DirectoryFileError("empty_file")
    workbook = open_workbook(data, filename, max_rows=max_rows)
    any_cells = False
    for grid in workbook.grids:
        if len(grid.rows) > max_rows:
            raise DirectoryFileError("too_many_rows", limit=max_rows)
        any_cells = any_cells or any(any(c not in (None, "") for c in r) for r in grid.rows[:50])
        columns = find_header(grid.rows)
        if columns is None:
            continue
        skipped: list[dict[str, object]] = []
        rows = build_rows(grid.rows, columns, allow_landline=allow_landline, skipped=skipped, on_rows=on_rows)
        return DirectoryFile(
            filename=filename,
            format=workbook.format,
            sheet_name=grid.sheet_name,
            header_row=columns.header_row,
            columns=dict(columns.labels),
            extra_columns=list(columns.extras.values()),
            rows=rows,
            encoding=grid.encoding,
            skipped=skipped,
        )
    raise DirectoryFileError("no_header" if any_cells else "empty_file")
