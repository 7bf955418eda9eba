"""From uploaded bytes to grids of cell values, one per sheet, refusing hostile files early.

The format is decided by content, never by the file name: offices rename files freely (an xlsx
saved as .xls still has to read), and a name must not smuggle a binary past the CSV path.
Every check that bounds memory runs before a parser sees the bytes.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import python_calamine
import xlrd
from charset_normalizer import from_bytes
from xlrd.compdoc import CompDoc, CompDocError

from app.services.contacts.reader.errors import DirectoryFileError

Format = Literal["xlsx", "xls", "csv"]
Cell = object

_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_BINARY_MAGIC: dict[bytes, str] = {
    b"%PDF": "PDF",
    b"\x89PNG": "PNG 图片",
    b"\xff\xd8\xff": "JPEG 图片",
    b"GIF8": "GIF 图片",
    b"Rar!": "RAR 压缩包",
    b"7z\xbc\xaf": "7z 压缩包",
    b"\x1f\x8b": "gzip 压缩包",
    b"BM": "BMP 图片",
}
_SPREADSHEET_SUFFIXES = (".csv", ".txt", ".xls", ".xlsx", ".xlsm", ".et", ".tsv")

#: Bounds for the xlsx container. A genuine LibreOffice/Excel sheet compresses 5-30x; a zip bomb
#: 1000x. Members under 1 MiB cannot hurt whatever their ratio.
MAX_RATIO = 200
MAX_UNCOMPRESSED = 400 * 1024 * 1024
_RATIO_FLOOR = 1024 * 1024
#: calamine materializes a dense rectangle, so width matters as much as height. Column letters
#: "DA".. or three letters (> 104 columns) are refused before calamine sees the sheet.
MAX_COLUMNS = 104
#: Cell references are the only ` r="<letters><digits>"` attributes in sheet XML (row numbers are
#: digits only); the loose pattern is 10x faster than one anchored on `<c`.
_WIDE_CELL_RE = re.compile(rb' r="(?:[D-Z][A-Z]|[A-Z]{3})\d')
_ROW_NUMBER_RE = re.compile(rb'<row\b[^>]*? r="(\d+)"')
_CHUNK = 1024 * 1024


@dataclass(slots=True)
class Grid:
    """One sheet: ``rows[i]`` is sheet row ``i + 1`` as Excel numbers it."""

    sheet_name: str
    rows: list[list[Cell]]
    encoding: str | None = None  # csv only


@dataclass(slots=True)
class Workbook:
    format: Format
    grids: Iterator[Grid]


def sniff_format(data: bytes, filename: str) -> Format:
    head = data[:8]
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    if head == _OLE2_MAGIC:
        return "xls"
    for magic, what in _BINARY_MAGIC.items():
        if head.startswith(magic):
            if filename.lower().endswith(_SPREADSHEET_SUFFIXES):
                raise DirectoryFileError("not_a_spreadsheet")
            raise DirectoryFileError("unsupported_format", detail=f"（{what}）")
    return "csv"


def open_workbook(data: bytes, filename: str, *, max_rows: int) -> Workbook:
    fmt = sniff_format(data, filename)
    if fmt == "xlsx":
        check_xlsx_container(data, max_rows=max_rows)
        return Workbook("xlsx", _calamine_grids(data, max_rows=max_rows))
    if fmt == "xls":
        _check_ole2(data)
        return Workbook("xls", _calamine_grids(data, max_rows=max_rows))
    return Workbook("csv", _csv_grids(data, max_rows=max_rows))


def _csv_grids(data: bytes, *, max_rows: int) -> Iterator[Grid]:
    """One grid per plausible decoding; the reader takes the first one with a header."""
    for text, encoding in decode_candidates(data):
        _refuse_markup(text)
        yield Grid("", parse_csv(text, max_rows=max_rows), encoding=encoding)


# --- xlsx -------------------------------------------------------------------------------------


def check_xlsx_container(data: bytes, *, max_rows: int) -> None:
    """Validate the zip before calamine: sizes, ratios, and every sheet's row and column extent.

    Members are really inflated here (zipfile stops at the declared size and checks the CRC), so
    a member that lies about its size is caught too; sheets are scanned in the same pass and the
    scan stops as soon as a limit is crossed, so a million-row sheet costs a fraction of its size.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise DirectoryFileError("corrupt_file") from None
    names = {info.filename for info in infos}
    if "xl/workbook.xml" not in names:
        detail = "（ODS）" if "mimetype" in names and "content.xml" in names else ""
        raise DirectoryFileError("unsupported_format", detail=detail)
    declared = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise DirectoryFileError("encrypted_file")
        declared += info.file_size
        if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise DirectoryFileError("zip_bomb")
    if declared > MAX_UNCOMPRESSED:
        raise DirectoryFileError("zip_bomb")
    # Sheets first: a too-tall sheet is refused before anything else is inflated.
    ordered = sorted(infos, key=lambda i: not i.filename.startswith("xl/worksheets/"))
    inflated = 0
    try:
        for info in ordered:
            if info.is_dir():
                continue
            with zf.open(info) as member:
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    inflated += _scan_sheet(member, max_rows=max_rows)
                else:
                    while chunk := member.read(_CHUNK):
                        inflated += len(chunk)
                        if inflated > MAX_UNCOMPRESSED:
                            raise DirectoryFileError("zip_bomb")
            if inflated > MAX_UNCOMPRESSED:
                raise DirectoryFileError("zip_bomb")
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError):
        raise DirectoryFileError("corrupt_file") from None


def _scan_sheet(member: io.BufferedIOBase, *, max_rows: int) -> int:
    """Stream a worksheet's XML, tracking the last row number and refusing over-wide cells."""
    size = 0
    tail = b""
    last_row = 0
    while chunk := member.read(_CHUNK):
        size += len(chunk)
        if size > MAX_UNCOMPRESSED:
            raise DirectoryFileError("zip_bomb")
        buf = tail + chunk
        # Only complete tags are scanned; the piece after the last '<' waits for the next chunk.
        cut = buf.rfind(b"<")
        body, tail = (buf[:cut], buf[cut:]) if cut >= 0 else (buf, b"")
        if len(tail) > _CHUNK:
            tail = b""  # no row or cell tag is that long; don't let one giant tag grow memory
        numbered = _ROW_NUMBER_RE.findall(body)
        # Rows may omit r= (then they follow the previous one); with r= the largest one counts,
        # whatever the order, because calamine allocates up to it.
        last_row += body.count(b"<row ") + body.count(b"<row>") - len(numbered)
        if numbered:
            last_row = max(last_row, max(map(int, numbered)))
        if last_row > max_rows:
            raise DirectoryFileError("too_many_rows", limit=max_rows)
        if _WIDE_CELL_RE.search(body):
            raise DirectoryFileError("too_many_columns", limit=MAX_COLUMNS)
    return size


# --- xls --------------------------------------------------------------------------------------


def _check_ole2(data: bytes) -> None:
    """An OLE2 file is an xls only if it has a Workbook stream; an encrypted xlsx is OLE2 too."""
    try:
        names = {entry.name for entry in CompDoc(data, logfile=io.StringIO()).dirlist}
    except (CompDocError, IndexError, ValueError, AssertionError):
        raise DirectoryFileError("corrupt_file") from None
    if "EncryptedPackage" in names or "EncryptionInfo" in names:
        raise DirectoryFileError("encrypted_file")
    if not names & {"Workbook", "Book"}:
        raise DirectoryFileError("unsupported_format", detail="（Word 或其他 Office 文件）")


# --- both Excel formats -----------------------------------------------------------------------


def _calamine_grids(data: bytes, *, max_rows: int) -> Iterator[Grid]:
    """Visible worksheets in workbook order, loaded lazily: the reader stops at the first one
    that has a header, so a big lookup sheet behind it is never materialized."""
    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise DirectoryFileError("encrypted_file") from None
    except (python_calamine.CalamineError, ValueError, OSError):
        # calamine reports an encrypted xls read from memory as "Cannot detect file format";
        # xlrd's reader of the workbook globals tells the two apart.
        if data.startswith(_OLE2_MAGIC) and _xls_is_encrypted(data):
            raise DirectoryFileError("encrypted_file") from None
        raise DirectoryFileError("corrupt_file") from None
    return _iter_sheets(wb, max_rows=max_rows)


def _xls_is_encrypted(data: bytes) -> bool:
    try:
        xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO()).release_resources()
    except xlrd.XLRDError as exc:
        return "encrypt" in str(exc).lower()
    except Exception:  # a broken file is simply "not encrypted" here
        return False
    return False


def _iter_sheets(wb: python_calamine.CalamineWorkbook, *, max_rows: int) -> Iterator[Grid]:
    with wb:
        for index, meta in enumerate(wb.sheets_metadata):
            if meta.visible != python_calamine.SheetVisibleEnum.Visible:
                continue
            if meta.typ != python_calamine.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = wb.get_sheet_by_index(index)
                end = sheet.end
                if end is not None and end[0] + 1 > max_rows:
                    raise DirectoryFileError("too_many_rows", limit=max_rows)
                # skip_empty_area=False keeps leading blank rows/columns so that index + 1 is the
                # row number the office sees in Excel.
                rows = sheet.to_python(skip_empty_area=False)
            except python_calamine.PasswordError:
                raise DirectoryFileError("encrypted_file") from None
            except python_calamine.CalamineError:
                raise DirectoryFileError("corrupt_file") from None
            yield Grid(meta.name, rows)


# --- csv --------------------------------------------------------------------------------------


def decode_candidates(data: bytes) -> Iterator[tuple[str, str]]:
    """Decodings of a text file, most likely first, each one strict: never a lossy guess.

    Strict UTF-8 (BOM or not) first, then strict GB18030 (a superset of GBK and GB2312, what
    Excel's "CSV" writes on Chinese Windows), then charset-normalizer's guess as the last resort
    (say, Big5, which often decodes as GB18030 too but into nonsense: the caller moves on to the
    next candidate when a decoding yields no header). Raises ``encoding_unknown`` when nothing
    decodes cleanly.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
        try:
            yield data.decode("utf-16"), "utf-16"
            return
        except UnicodeDecodeError:
            raise DirectoryFileError("encoding_unknown") from None
    if b"\x00" in data[:65536]:
        raise DirectoryFileError("not_a_spreadsheet")
    decoded = False
    tried: set[str] = set()
    for encoding in ("utf-8-sig", "gb18030"):
        tried.add(encoding)
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        _refuse_binary_text(text)
        decoded = True
        yield text, "utf-8" if encoding == "utf-8-sig" else encoding
    best = from_bytes(data[: 1024 * 1024]).best()
    if best is not None and best.encoding and best.encoding.replace("_", "-") not in tried | {"utf-8"}:
        try:
            text = data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
        else:
            _refuse_binary_text(text)
            decoded = True
            yield text, best.encoding
    if not decoded:
        raise DirectoryFileError("encoding_unknown")


def _refuse_binary_text(text: str) -> None:
    sample = text[:65536]
    controls = sum(1 for ch in sample if ch < " " and ch not in "\t\r\n\f\v")
    if controls > max(2, len(sample) // 100):
        raise DirectoryFileError("not_a_spreadsheet")


def _refuse_markup(text: str) -> None:
    # Many Chinese government systems export an HTML table (or Excel 2003 XML) named .xls.
    head = text[:2048].lstrip("\ufeff \t\r\n").lower()
    if head.startswith("<") and any(tag in head for tag in ("<html", "<table", "<?xml", "<!doctype")):
        raise DirectoryFileError(
            "unsupported_format", detail="（网页或 XML 表格，请用 Excel 打开后另存为 xlsx）"
        )


def _delimiter(text: str) -> str:
    lines = [line for line in text[:65536].splitlines()[:30] if line.strip()]
    counts = {d: sum(line.count(d) for line in lines) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def parse_csv(text: str, *, max_rows: int) -> list[list[Cell]]:
    """Records in file order; record i is what Excel shows as row i + 1 (quoted newlines included)."""
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    rows: list[list[Cell]] = []
    try:
        for record in reader:
            if len(rows) >= max_rows:
                raise DirectoryFileError("too_many_rows", limit=max_rows)
            rows.append(list(record))
    except csv.Error:
        raise DirectoryFileError("corrupt_file") from None
    return rows
