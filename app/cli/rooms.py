"""``flask rooms …``: hotels' rooms and their allocation from the command line (issue 18).

    flask --app wsgi rooms import FILE --meeting CODE [--dry-run] [--json]
    flask --app wsgi rooms allocate --meeting CODE [--json]
    flask --app wsgi rooms export --meeting CODE --out FILE [--json]     (rooming list, a sheet per hotel)

``import`` checks every row first (the console's rules and messages) and writes the good rows;
``--dry-run`` writes nothing. ``--json`` prints one object: ``{"ok": <rooms accepted>, "rejected":
[{"row", "code", "message"}], …}`` as ``contacts import`` does. ``allocate`` is the console's
one-click allocation; once the allocation is published a change must be told to the people it
moves, which only the console does (``published_no_actor``). Bad input prints a code and a Chinese
message, exits 1 and writes nothing; a file appears whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.cli.meals import _export
from app.services.logistics import lodging, lodging_io
from app.services.meetings.meetings import get_meeting

rooms_cli = AppGroup("rooms", help="住宿：导入房间表、一键分配房间、导出入住名单")
_meeting = click.option("--meeting", "meeting_code", required=True, help="会议代码")


@rooms_cli.command("import", help="导入房间表（xlsx、xls、csv）：先逐行检查，再写入检查通过的行")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_meeting
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@json_option
def import_(file: Path, meeting_code: str, dry_run: bool, as_json: bool) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        plan = lodging_io.check_import(meeting, file.read_bytes(), file.name)
        result = {**plan.summary(), "meeting": meeting.code, "dry_run": dry_run}
        if not dry_run and plan.rows:
            result["written"] = lodging_io.write(meeting, plan, actor="cli")
        return result

    def human(r: dict) -> str:
        lines = [f"{'试运行（未写入）' if r['dry_run'] else '已导入'}：可导入 {r['ok']} 个房间，有问题 {len(r['rejected'])} 行"]
        lines += [f"  第 {x['row']} 行（{x['code']}）：{x['message']}" for x in r["rejected"]]
        return "\n".join(lines)

    run(action, as_json, human)


@rooms_cli.command("allocate", help="一键分配房间（保留手工安排的人员）")
@_meeting
@json_option
def allocate(meeting_code: str, as_json: bool) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        return {"ok": True, "meeting": meeting.code,
                **lodging.run_allocation(meeting, actor="cli", acting=None).as_json()}

    def human(r: dict) -> str:
        lines = [f"已分配 {r['placed']} 人，保留手工安排 {r['kept']} 人，未能分配 {len(r['unplaced'])} 人"]
        lines += [f"  {x['name']}（{x['unit']}）：{x['message']}" for x in r["unplaced"]]
        return "\n".join(lines)

    run(action, as_json, human)


@rooms_cli.command("export", help="导出入住名单（每家酒店一张表，按入住日期、房号排列）")
@_meeting
@click.option("--out", required=True, help="输出文件路径（.xlsx）")
@json_option
def export(meeting_code: str, out: str, as_json: bool) -> None:
    _export(lodging_io, meeting_code, out, as_json, "lodging.export")
