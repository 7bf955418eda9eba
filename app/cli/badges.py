"""``flask badges print``: the badges PDF (胸卡 / 代表证) of a meeting from the command line (issue 18).

    flask --app wsgi badges print --meeting CODE --out FILE [--size small|large] [--role R] [--group G]
                                  [--changed] [--json]

The same cards as the console's print (app/services/logistics/badges.py), made in this process (a
command is no web worker). Bad input prints a code and a Chinese message, exits 1 and writes
nothing: the file appears whole or not at all. The print is in the audit log as done by ``cli``.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.cli.reports import _check_output, _write_whole
from app.services.logistics import badges
from app.services.meetings.meetings import get_meeting
from app.services.reports.base import ReportError

badges_cli = AppGroup("badges", help="胸卡 / 代表证：生成可裁切的 A4 PDF")


@badges_cli.command("print", help="生成会议参会人员的胸卡 PDF")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--out", "output", required=True, help="输出 PDF 文件路径")
@click.option("--size", default="small", help="small（90×54 毫米，每页 10 张）或 large（100×140 毫米，每页 2 张）")
@click.option("--role", default=None, help="只打印该身份：" + "、".join(badges.ROLES))
@click.option("--group", default=None, help="只打印该分组 / 代表团")
@click.option("--changed", is_flag=True, help="只打印上次打印后有变化的人员")
@json_option
def print_badges(meeting_code: str, output: str, size: str, role: str | None, group: str | None, changed: bool,
                 as_json: bool) -> None:
    def action():
        options = badges.parse_options(size=size, role=role, group=group, changed=changed)
        try:
            path = _check_output(output)
        except ReportError:
            raise badges.BadgeError("output_invalid", path=output) from None
        meeting = get_meeting(meeting_code)
        printed = badges.print_badges(meeting, options, actor="cli")
        try:  # last, inside the unit of work: a failure here rolls the audit row back too
            _write_whole(path, printed.data)
        except OSError:
            raise badges.BadgeError("output_invalid", path=output) from None
        return {"ok": True, "meeting": meeting.code, "size": options.size, "role": options.role,
                "group": options.group, "changed": options.changed, "count": printed.count, "pages": printed.pages,
                "output": str(path), "bytes": len(printed.data), "filename": printed.filename,
                "photos_skipped": printed.notes}

    run(action, as_json, lambda r: f"已生成 {r['count']} 张胸卡（{r['pages']} 页）→ {r['output']}"
        + "".join(f"\n  {n['name']}：{n['message']}" for n in r["photos_skipped"]))
