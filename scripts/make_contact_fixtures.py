"""Generate the contact-directory test fixtures with real spreadsheet software.

The reader must be tested on files that LibreOffice saved, not on files written by the library
that reads them: openpyxl only writes the *source* workbooks here, then LibreOffice (headless)
opens each one and saves the committed xlsx / xls / csv. Run from the repo root:

    .venv/bin/python -m scripts.make_contact_fixtures [--parity]

(``--parity``: only the format-parity set of issue 21.13, ``tests/fixtures/contacts/parity_*``.)

Output: tests/fixtures/contacts/. Needs `soffice` on PATH. A private LibreOffice profile is used so
that this never fights with another soffice instance on the machine.

Notes on what LibreOffice 7.4 can and cannot do here:
- CSV export has no "write BOM" option, so the UTF-8-with-BOM fixture is LibreOffice's UTF-8
  output with the three BOM bytes put in front (exactly what Excel's "CSV UTF-8" does).
- A password-protected .xls is made by a Basic macro calling storeToURL with "Password".
  LibreOffice ignores the password for OOXML in that call, so the encrypted-*xlsx* case (an OLE2
  container with an EncryptedPackage stream) is made from the encrypted .xls by renaming its
  "Workbook" directory entry to "EncryptedPackage" (see _oox_encrypted_from_xls).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.styles import Alignment, Font

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "fixtures" / "contacts"

# LibreOffice's text-encoding numbers for the CSV filter (rtl_TextEncoding).
_CHARSET_UTF8 = 76
_CHARSET_GBK = 85

_BASIC_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" \
script:language="StarBasic">
Sub SaveEncrypted(sIn As String, sOut As String, sFilter As String, sPassword As String)
  Dim aLoad(0) As New com.sun.star.beans.PropertyValue
  aLoad(0).Name = &quot;Hidden&quot;
  aLoad(0).Value = True
  oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(sIn), &quot;_blank&quot;, 0, aLoad())
  Dim aStore(1) As New com.sun.star.beans.PropertyValue
  aStore(0).Name = &quot;FilterName&quot;
  aStore(0).Value = sFilter
  aStore(1).Name = &quot;Password&quot;
  aStore(1).Value = sPassword
  oDoc.storeToURL(ConvertToURL(sOut), aStore())
  oDoc.close(True)
End Sub
</script:module>
"""


# --- source content ---------------------------------------------------------------------------

#: The "real office" directory. Sheet row numbers (1-based) are what the tests assert.
FULL_ROWS: list[list[object] | None] = [
    ["XX局通讯录（2026年11月）"],  # 1: title, merged A1:I1
    None,  # 2: blank
    ["序号", "姓 名", "性别", "手机号码\n（必填）", "办公电话", "所在单位", "职务", "处室", "备注"],  # 3
    [1, "张 三", "男", 13800138000, "010-12345678", "XX局", "局长", "办公室", None],  # 4: number
    [
        2,
        '=CONCATENATE("李","四")',
        "女",
        "１３９００１３９０００",
        None,
        "XX局",
        "副局长",
        "办公室",
        "公式",
    ],  # 5
    None,  # 6: blank in the middle
    [3, "阿卜杜•热合曼", "男", "+86 137 0013 7000", None, "XX局", "科员", "财务处", None],  # 7
    [4, "王\u3000五", "男", "0086-136-0013-6000", None, "XX局", "", "财务处", None],  # 8
    [5, " 赵六 ", "女", "135-0013-5000", None, "XX局", "科员", "人事处", None],  # 9
    [6, None, "男", "13400134000", None, "XX局", "科员", "人事处", "漏填姓名"],  # 10
    [7, "钱七", "男", "1380013800", None, "XX局", "科员", "人事处", "少一位"],  # 11
    [8, "孙八", "女", 13800138000, None, "XX局", "科员", "人事处", "与张三重复"],  # 12
    [9, "周九", "男", "0755-1234567", None, "XX局", "科员", "信息中心", "座机"],  # 13
    [10, "吴十", "男", None, "010-87654321", "XX局", "科员", "信息中心", "未填手机"],  # 14
    None,  # 15
    [11, "John  Smith", "男", "8613300133000", None, "XX局", "顾问", "外事处", None],  # 16
    [12, "郑\u00a0十一", "女", "(+86)132 0013 2000", None, "XX局", "科员", "外事处", None],  # 17
    None,  # 18
    ["制表人：李雷", None, None, "审核人：韩梅梅"],  # 19: footer
    ["填表日期：2026年11月5日"],  # 20: footer
]

#: Header synonyms, each a small table. The office phone column comes first in "c" on purpose:
#: the mobile column must still win.
SYNONYM_TABLES: dict[str, list[list[object] | None]] = {
    "synonyms_a": [
        None,
        [None, "姓名", "移动电话", "工作单位", "职位", "科室"],
        [None, "刘一", "13100131000", "甲单位", "主任", "综合科"],
        [None, "陈二", 13100131001, "甲单位", "副主任", "综合科"],
    ],
    "synonyms_b": [
        ["姓　名", "联系方式", "单位", "职 务", "部门"],
        ["黄三", "131 0013 1002", "乙单位", "处长", "一处"],
        ["林四", "131-0013-1003", "乙单位", "", "二处"],
    ],
    "synonyms_c": [
        ["名单"],
        ["序号", "姓名", "办公电话", "联系电话", "手机", "单位名称", "部门"],
        [1, "何五", "010-11112222", "13100131004", "13100131005", "丙单位", "三处"],
        [2, "罗六", "010-11112223", "", "13100131006", "丙单位", "三处"],
    ],
}

#: A small table for the CSV encodings.
CSV_ROWS: list[list[object] | None] = [
    ["市直单位通讯录"],
    ["姓名", "手机号", "单位", "职务", "部门"],
    ["张三", 13800138000, "市财政局", "局长", "办公室"],
    ["阿卜杜·热合曼", "139-0013-9000", "市财政局", "科员", "预算科"],
    None,
    ["李四", "", "市财政局", "科员", "预算科"],
    ["填表人：王五"],
]


#: One directory (issue 21.13) that every format must read the same way. (name, phone, unit, title,
#: department); a phone that is an ``int`` is typed as a number in the spreadsheet (the commonest
#: office habit), a ``str`` as text. Saved by LibreOffice as xlsx, xls and csv (UTF-8, GBK), and by a
#: script (openpyxl with int phones, openpyxl with float phones, the csv module writing floats).
PARITY_HEADER = ["序号", "姓名", "手机号码", "单位", "职务", "部门"]
PARITY_UNIT = "区财政局"
PARITY_ROWS: list[tuple[str, object, str, str, str]] = [
    ("张三", "13800138000", PARITY_UNIT, "科员", "办公室"),  # 2: the template's example row: skipped
    ("李四", 13800138001, PARITY_UNIT, "局长", "办公室"),  # 3
    ("王五", 13800138002, PARITY_UNIT, "科员", "预算科"),  # 4
    ("钱七", "138-0013-8004", PARITY_UNIT, "科员", "预算科"),  # 5: text with dashes
    ("阿卜杜·热合曼", 13800138005, PARITY_UNIT, "科员", "国库科"),  # 6
    ("孙八", "1.38001E+10", PARITY_UNIT, "科员", "国库科"),  # 7: already shown in scientific notation
    ("周九", 13800100000, PARITY_UNIT, "科员", "国库科"),  # 8: 1.38001E+10 typed back as a number
    ("吴十", 1380013800, PARITY_UNIT, "科员", "国库科"),  # 9: one digit short
    ("郑十一", 13800138002, PARITY_UNIT, "科员", "国库科"),  # 10: same phone as row 4
    ("陈十三", 13800138006, "区教育局", "科员", "基教科"),  # 11: another unit's person
    ("褚十四", 13800138007, "", "科员", "国库科"),  # 12: unit left blank: this unit's
]


def _parity_rows(phone_as: str) -> list[list[object]]:
    rows: list[list[object]] = [list(PARITY_HEADER)]
    for i, (name, phone, unit, title, department) in enumerate(PARITY_ROWS, start=1):
        if isinstance(phone, int) and phone_as == "float":
            phone = float(phone)
        rows.append([i, name, phone, unit or None, title, department])
    return rows


def write_parity(tmp: Path, lo: LibreOffice) -> None:
    """The parity set: parity_lo.{xlsx,xls}, parity_lo_{utf8,gbk}.csv, parity_script_{int,float}.xlsx,
    parity_script_float.csv."""
    import csv

    source = tmp / "parity_lo.xlsx"
    _write_source(source, {"通讯录": _parity_rows("int")}, merge_title=False)
    lo.convert([source], "xlsx", tmp / "p-xlsx")
    lo.convert([source], "xls", tmp / "p-xls")
    csv_filter = "csv:Text - txt - csv (StarCalc):44,34,{}"
    lo.convert([source], csv_filter.format(_CHARSET_UTF8), tmp / "p-utf8")
    lo.convert([source], csv_filter.format(_CHARSET_GBK), tmp / "p-gbk")
    shutil.copy(tmp / "p-xlsx" / "parity_lo.xlsx", OUT / "parity_lo.xlsx")
    shutil.copy(tmp / "p-xls" / "parity_lo.xls", OUT / "parity_lo.xls")
    shutil.copy(tmp / "p-utf8" / "parity_lo.csv", OUT / "parity_lo_utf8.csv")
    shutil.copy(tmp / "p-gbk" / "parity_lo.csv", OUT / "parity_lo_gbk.csv")
    # A script's output, not LibreOffice's: numbers stay numbers (int, float) in the xlsx, and the
    # csv module writes a float as "13800138001.0" (what pandas writes for a numeric column with
    # blanks).
    _write_source(OUT / "parity_script_int.xlsx", {"Sheet1": _parity_rows("int")}, merge_title=False)
    _write_source(OUT / "parity_script_float.xlsx", {"Sheet1": _parity_rows("float")}, merge_title=False)
    with (OUT / "parity_script_float.csv").open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows([["" if v is None else v for v in row] for row in _parity_rows("float")])


def _write_source(path: Path, sheets: dict[str, list[list[object] | None]], *, merge_title: bool) -> None:
    wb = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        ws = wb.active if first else wb.create_sheet()
        ws.title = title
        first = False
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row or [], start=1):
                if value is not None:
                    cell = ws.cell(row=r, column=c, value=value)
                    if isinstance(value, str) and "\n" in value:
                        cell.alignment = Alignment(wrap_text=True)
        if merge_title and rows and rows[0] and len(rows[0]) == 1:
            width = max(len(row) for row in rows if row)
            ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
            ws.cell(row=1, column=1).font = Font(bold=True, size=16)
            ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    wb.save(path)


# --- LibreOffice ------------------------------------------------------------------------------


class LibreOffice:
    def __init__(self, workdir: Path) -> None:
        self.profile = workdir / "lo-profile"
        self.binary = shutil.which("soffice") or shutil.which("libreoffice")
        if not self.binary:
            sys.exit("soffice not found: install LibreOffice (libreoffice-calc-nogui)")

    def _run(self, *args: str) -> None:
        cmd = [self.binary, "--headless", "--norestore", f"-env:UserInstallation={self.profile.as_uri()}"]
        subprocess.run([*cmd, *args], check=True, timeout=180, capture_output=True)

    def convert(self, sources: list[Path], target: str, outdir: Path) -> None:
        outdir.mkdir(parents=True, exist_ok=True)
        self._run("--convert-to", target, "--outdir", str(outdir), *map(str, sources))

    def save_encrypted(self, source: Path, dest: Path, filter_name: str, password: str) -> None:
        # A fresh profile has no Standard library until soffice has run once.
        if not (self.profile / "user" / "basic" / "Standard").exists():
            self.convert([source], "csv", self.profile.parent / "warmup")
        module = self.profile / "user" / "basic" / "Standard" / "Module1.xba"
        module.write_text(_BASIC_MODULE, encoding="utf-8")
        self._run(
            f'macro:///Standard.Module1.SaveEncrypted("{source}","{dest}","{filter_name}","{password}")'
        )


def _oox_encrypted_from_xls(xls: bytes) -> bytes:
    """Rename the OLE2 'Workbook' stream to 'EncryptedPackage', the shape of an encrypted xlsx."""
    old = "Workbook".encode("utf-16-le") + b"\x00\x00"
    at = xls.find(old)
    if at < 0:
        raise RuntimeError("no Workbook directory entry")
    name = "EncryptedPackage".encode("utf-16-le") + b"\x00\x00"
    entry = bytearray(xls)
    entry[at : at + 64] = name.ljust(64, b"\x00")
    entry[at + 64 : at + 66] = len(name).to_bytes(2, "little")
    return bytes(entry)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="huiyi-fixtures-") as tmp_name:
        tmp = Path(tmp_name)
        if "--parity" in sys.argv[1:]:  # only the parity set (the others stay byte for byte)
            write_parity(tmp, LibreOffice(tmp))
            for path in sorted(OUT.glob("parity_*")):
                print(f"{path.relative_to(ROOT)}  {path.stat().st_size} bytes")
            return
        src = tmp / "src"
        src.mkdir()
        lo = LibreOffice(tmp)

        full = src / "directory_full.xlsx"
        _write_source(full, {"通讯录": FULL_ROWS}, merge_title=True)
        two = src / "two_sheets.xlsx"
        _write_source(
            two,
            {
                "填表说明": [["填表说明"], ["1. 手机号请填写11位数字"], ["2. 请勿修改表头"]],
                "名单": [["姓名", "手机"], ["冯七", "13100131007"], ["褚八", "13100131008"]],
            },
            merge_title=False,
        )
        synonyms = []
        for name, rows in SYNONYM_TABLES.items():
            path = src / f"{name}.xlsx"
            _write_source(path, {"Sheet1": rows}, merge_title=False)
            synonyms.append(path)
        csv_src = src / "csv_source.xlsx"
        _write_source(csv_src, {"Sheet1": CSV_ROWS}, merge_title=True)

        lo.convert([full, two, *synonyms], "xlsx", tmp / "xlsx")
        lo.convert([full], "xls", tmp / "xls")
        csv_filter = "csv:Text - txt - csv (StarCalc):44,34,{}"
        lo.convert([csv_src, full], csv_filter.format(_CHARSET_UTF8), tmp / "csv-utf8")
        lo.convert([csv_src, full], csv_filter.format(_CHARSET_GBK), tmp / "csv-gbk")
        lo.save_encrypted(full, tmp / "encrypted.xls", "MS Excel 97", "secret")
        write_parity(tmp, lo)

        for path in (tmp / "xlsx").glob("*.xlsx"):
            shutil.copy(path, OUT / path.name)
        shutil.copy(tmp / "xls" / "directory_full.xls", OUT / "directory_full.xls")
        utf8 = (tmp / "csv-utf8" / "csv_source.csv").read_bytes()
        (OUT / "csv_utf8.csv").write_bytes(utf8)
        (OUT / "csv_utf8_bom.csv").write_bytes(b"\xef\xbb\xbf" + utf8)
        (OUT / "csv_gbk.csv").write_bytes((tmp / "csv-gbk" / "csv_source.csv").read_bytes())
        (OUT / "directory_full_utf8.csv").write_bytes((tmp / "csv-utf8" / "directory_full.csv").read_bytes())
        (OUT / "directory_full_gbk.csv").write_bytes((tmp / "csv-gbk" / "directory_full.csv").read_bytes())
        encrypted = (tmp / "encrypted.xls").read_bytes()
        (OUT / "encrypted.xls").write_bytes(encrypted)
        (OUT / "encrypted_oox.xlsx").write_bytes(_oox_encrypted_from_xls(encrypted))

    for path in sorted(OUT.iterdir()):
        print(f"{path.relative_to(ROOT)}  {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
