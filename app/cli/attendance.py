"""``flask reports attendance``: attendance across meetings (考勤) to an xlsx or PDF file.

It joins the ``reports`` group when another module made one (the per-meeting reports' ``reports
list`` / ``reports export``), or makes the group itself: :func:`register` runs last in
``register_cli``, so either order of landing works, and a group registered later under the same
name should add this command with ``reports_cli.add_command(attendance_command)``.

Bad input is refused in Chinese before anything is written: the file appears whole (written
beside its final name, then renamed) or not at all.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.attendance import export as ex
from app.services.attendance import query as svc
from app.services.attendance.query import AttendanceError


@click.command("attendance", help="考勤统计：一段时间内（或指定会议）各单位人员的应邀、出席、迟到、请假、缺席与出勤率，"
                                 "导出 xlsx 或 PDF。例：reports attendance --from 2026-10-01 --to 2026-12-31 "
                                 "--unit FGJ --format pdf --output 考勤.pdf",
               short_help="考勤统计（跨会议），导出 xlsx 或 PDF")
@click.option("--from", "date_from", help="开始日期（含），如 2026-11-01")
@click.option("--to", "date_to", help="结束日期（含），如 2026-11-30")
@click.option("--unit", "unit_code", default="", help="只统计该单位的人员（单位代码）")
@click.option("--meeting", "codes", multiple=True, help="只统计这些会议（会议代码，可多次指定）")
@click.option("--title", "q", default="", help="只统计名称包含该词的会议（如“常委会”）")
@click.option("--format", "fmt", default="", help="xlsx 或 pdf")
@click.option("--output", "output", default="", help="输出文件路径")
@click.option("--sort", default="unit", help="人员排序：unit（默认，单位顺序）、name、rate、absent、late、leave …")
@click.option("--desc", is_flag=True, help="倒序")
@json_option
def attendance_command(date_from, date_to, unit_code, codes, q, fmt, output, sort, desc, as_json):
    """Attendance across meetings (考勤) of every unit or one, to an xlsx or PDF file."""
    target = Path(output) if output else None

    def action():
        check = ex.check_format(fmt)
        filters = svc.make_filters(date_from, date_to, unit_code=unit_code, codes=codes, q=q)
        if target is None:
            raise AttendanceError("output_missing")
        if not target.parent.is_dir() or target.is_dir():
            raise AttendanceError("output_invalid", path=str(target))
        now = datetime.now(UTC)
        result = svc.attendance(svc.CLI_VIEWER, filters, now=now)
        out = ex.export(result, check, actor="cli", now=now, sort=sort if sort in svc.SORT_KEYS else "unit",
                        desc=desc)
        _write_whole(target, out.data)
        return {"file": str(target), "format": check, "bytes": len(out.data), "suggested_name": out.filename,
                **{k: v for k, v in result.to_dict().items() if k not in ("people", "meetings")},
                "meetings": len(result.meetings), "people": len(result.people)}

    run(action, as_json, lambda r: (f"已写入 {r['file']}（{r['bytes']} 字节）：会议 {r['meetings']} 个，"
                                    f"人员 {r['people']} 人，出勤率 "
                                    f"{'—' if r['total']['rate'] is None else str(r['total']['rate']) + '%'}"))


def _write_whole(target: Path, data: bytes) -> None:
    """Write beside ``target`` and rename over it: a failure never leaves half a file."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".attendance-", suffix=target.suffix)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, target)
    except OSError:
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
        raise AttendanceError("output_invalid", path=str(target)) from None


def register(app: Flask) -> None:
    """Add the command to the ``reports`` group, made here if no other module made it."""
    group = app.cli.commands.get("reports")
    if group is None:
        group = AppGroup("reports", help="报表与考勤统计")
        app.cli.add_command(group)
    group.add_command(attendance_command)
