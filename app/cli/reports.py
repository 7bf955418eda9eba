"""``flask reports …``: the per-meeting reports (issue 16) from the command line.

    flask --app wsgi reports list [--json]
    flask --app wsgi reports export MEETING_CODE KIND --format xlsx|pdf --output FILE [--session N] [--json]

The kinds are the console's (:mod:`app.services.reports.registry`). Bad input (an unknown meeting,
kind, format or session, an output that cannot be written) prints a code and a Chinese message,
exits 1 and writes nothing: the file appears whole or not at all. The export is in the audit log
as done by ``cli``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import emit, json_option, run
from app.services.meetings.meetings import get_meeting
from app.services.reports.base import ReportError
from app.services.reports.export import FORMATS, check_format, export
from app.services.reports.registry import all_kinds

reports_cli = AppGroup("reports", help="会议报表：签到表、出席情况、缺席/迟到/请假名单等")


@reports_cli.command("list", help="列出可导出的报表及其代码")
@json_option
def list_kinds(as_json: bool) -> None:
    kinds = [{"key": k.key, "title": k.title, "numbers_only": k.action == "view", "description": k.description}
             for k in all_kinds()]
    emit({"kinds": kinds}, as_json, "\n".join(f"{k['key']:<18} {k['title']}　{k['description']}" for k in kinds))


def _check_output(output: str) -> Path:
    path = Path(output)
    parent = path.parent if str(path.parent) else Path(".")
    if not output.strip() or path.is_dir() or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ReportError("output_invalid", path=output)
    return path


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (a temporary file renamed into place)."""
    fd, tmp = tempfile.mkstemp(prefix=".report-", dir=path.parent if str(path.parent) else ".")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@reports_cli.command("export", help="导出一份报表：MEETING_CODE 会议代码，KIND 报表代码（见 reports list）")
@click.argument("meeting_code")
@click.argument("kind")
@click.option("--format", "fmt", required=True, help="xlsx 或 pdf")
@click.option("--output", required=True, help="输出文件路径")
@click.option("--session", "position", type=int, default=None, help="只导出第 N 场（默认全部场次）")
@json_option
def export_report(meeting_code: str, kind: str, fmt: str, output: str, position: int | None, as_json: bool) -> None:
    def action():
        fmt_ok = check_format(fmt)
        path = _check_output(output)
        meeting = get_meeting(meeting_code)
        out = export(meeting, kind, fmt_ok, position=position, actor="cli")
        # Written last, inside the unit of work: a failure here rolls the audit row back too.
        try:
            _write_whole(path, out.data)
        except OSError:
            raise ReportError("output_invalid", path=output) from None
        return {"ok": True, "meeting": meeting.code, "kind": kind, "format": fmt_ok, "session": position,
                "output": str(path), "bytes": len(out.data), "filename": out.filename,
                "content_type": FORMATS[fmt_ok]}

    run(action, as_json, lambda r: f"已导出 {r['filename']} → {r['output']}（{r['bytes']} 字节）")
