"""Time read_directory on a 100,000-row contact directory.

    .venv/bin/python -m scripts.bench.bench_contacts_read [--rows N] [--openpyxl-only] [--keep PATH]

The workbook is written with openpyxl (write_only) and then re-saved by LibreOffice headless when
`soffice` is available, so the timed file has LibreOffice's real XML (verbose row attributes,
shared strings) rather than openpyxl's leaner output. The budget: well under 5 s on 2 cores, since
the whole import (database included) has 10 s.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import openpyxl

from app.services.contacts.reader import read_directory


def write_source(path: Path, rows: int, *, units: bool = True) -> None:
    """``units=False`` leaves the 单位 column blank: an import into one unit refuses rows that name
    another unit, and the import bench loads the same file into two units."""
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("通讯录")
    ws.append(["某市直机关通讯录（2026年11月）"])
    ws.append([])
    ws.append(["序号", "姓名", "性别", "手机号码", "单位", "职务", "部门", "备注"])
    for i in range(rows):
        # Every number ends in 1: a bare number ending in 00000 reads as one that scientific
        # notation rounded (1.38001E+10), and the reader refuses it.
        phone = 13000000001 + i * 10 if i % 2 else f"{13000000001 + i * 10}"
        ws.append(
            [
                i + 1,
                f"测试{i:06d}",
                "男" if i % 2 else "女",
                phone,
                f"单位{i % 50:02d}" if units else None,
                "科员",
                "办公室",
                None,
            ]
        )
    ws.append(["制表人：张三"])
    wb.save(path)


def resave_with_libreoffice(source: Path, workdir: Path) -> Path | None:
    binary = shutil.which("soffice") or shutil.which("libreoffice")
    if binary is None:
        return None
    outdir = workdir / "lo"
    profile = (workdir / "lo-profile").as_uri()
    subprocess.run(
        [
            binary,
            "--headless",
            "--norestore",
            f"-env:UserInstallation={profile}",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(outdir),
            str(source),
        ],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return outdir / source.name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--openpyxl-only", action="store_true", help="skip the LibreOffice re-save")
    parser.add_argument("--keep", type=Path, help="copy the generated xlsx here")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="huiyi-bench-") as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "directory.xlsx"
        t0 = time.perf_counter()
        write_source(source, args.rows)
        path = source if args.openpyxl_only else (resave_with_libreoffice(source, tmp) or source)
        print(
            f"generated {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s "
            f"({'LibreOffice' if path != source else 'openpyxl'})"
        )
        if args.keep:
            shutil.copy(path, args.keep)
        data = path.read_bytes()
        best = float("inf")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = read_directory(data, "directory.xlsx")
            best = min(best, time.perf_counter() - t0)
        rows = len(result.rows)
        print(
            f"read_directory: {rows} rows ({len(result.accepted)} ok, {len(result.rejected)} rejected) "
            f"best of {args.repeat}: {best:.2f} s, {rows / best:,.0f} rows/s"
        )


if __name__ == "__main__":
    main()
