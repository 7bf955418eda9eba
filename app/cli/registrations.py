"""``flask registrations …``: registration (报名) in bulk.

    flask --app wsgi registrations export --meeting CODE [--status pending|approved|refused|cancelled]
                                          [--out FILE] [--json]
    flask --app wsgi registrations approve --meeting CODE (--all-pending | --id N [--id N …]) [--json]

The export is the console's (xlsx, the ID number masked), written whole or not at all; the approval
is the console's too (directory, invitee list), all or nothing. Both are in the audit log as ``cli``.
Bad input prints a code and a Chinese message, exits 1 and writes nothing.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.cli.reports import _check_output, _write_whole
from app.services.meetings.meetings import get_meeting
from app.services.registration import decide, query
from app.services.registration.errors import RegistrationError
from app.services.reports.base import ReportError

registrations_cli = AppGroup("registrations", help="报名：导出报名人员、批量审核通过")


@registrations_cli.command("export", help="导出报名人员（Excel，身份证号脱敏）")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--status", default=None, help="只导出该状态：pending、approved、refused、cancelled")
@click.option("--out", "output", default=None, help="输出文件路径（默认：当前目录下的“会议名-报名人员-日期.xlsx”）")
@json_option
def export(meeting_code: str, status: str | None, output: str | None, as_json: bool) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        filters = query.Filters.parse({"status": status or ""})
        data, name, rows = query.export_file(meeting, filters, actor="cli")
        try:
            path = _check_output(output or name)
            _write_whole(path, data)
        except (ReportError, OSError):
            raise RegistrationError("output_invalid", path=output or name) from None
        return {"ok": True, "meeting": meeting.code, "status": status, "rows": rows, "output": str(Path(path)),
                "bytes": len(data), "filename": name}

    run(action, as_json, lambda r: f"已导出 {r['rows']} 人 → {r['output']}")


@registrations_cli.command("approve", help="审核通过报名（全部待审核，或按编号）")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--all-pending", is_flag=True, help="通过全部待审核的报名")
@click.option("--id", "ids", multiple=True, help="报名编号（可重复）")
@json_option
def approve(meeting_code: str, all_pending: bool, ids: tuple[str, ...], as_json: bool) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        if all_pending == bool(ids):
            raise RegistrationError("nothing_selected", "请指定 --all-pending 或 --id（二者选一）")
        wanted = decide.pending_ids(meeting) if all_pending else list(ids)
        if not wanted:
            return {"ok": True, "meeting": meeting.code, "approved": 0, "skipped": 0, "ids": []}
        out = decide.approve(meeting, wanted, actor="cli")
        return {"ok": True, "meeting": meeting.code, **out, "ids": [int(i) for i in wanted]}

    run(action, as_json, lambda r: f"已通过 {r['approved']} 人" + (f"，{r['skipped']} 人已审核未变" if r["skipped"] else ""))
