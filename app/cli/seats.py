"""``flask seats …``: seating (座次) from the command line, for bulk work and scripts.

    flask --app wsgi seats assign --meeting CODE [--plan ID] [--json]
    flask --app wsgi seats export --meeting CODE [--plan ID] --out FILE.pdf|FILE.xlsx [--json]

Without ``--plan`` the meeting's card plan (else its first) is used. ``assign`` keeps the seats
placed by hand, as the console's button does. Bad input prints a code and a Chinese message, exits 1
and writes nothing; an export's file appears whole or not at all. Both are in the audit log as ``cli``.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.cli.reports import _check_output, _write_whole
from app.services.logistics import seating, seating_print
from app.services.logistics.seating import SeatingError
from app.services.meetings.meetings import get_meeting

seats_cli = AppGroup("seats", help="座次：自动排座、导出座次图（PDF）和座位表（Excel）")


def _plan(meeting, plan_id: int | None):
    if plan_id is not None:
        return seating.get_plan(meeting, plan_id)
    plan = seating.default_plan(meeting)
    if plan is None:
        raise SeatingError("plan_not_found", "本会议还没有座次方案，请先在会务后台“会务安排 · 座次”中创建")
    return plan


@seats_cli.command("assign", help="按身份、职级和单位顺序自动排座（保留手动安排的座位）")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--plan", "plan_id", type=int, default=None, help="座次方案编号（默认：服务卡所用方案）")
@json_option
def assign(meeting_code: str, plan_id: int | None, as_json: bool) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        plan = _plan(meeting, plan_id)
        out = seating.auto_assign(meeting, plan, actor="cli")
        return {"ok": True, "meeting": meeting.code, "plan": plan.name, **out.as_dict()}

    def human(r: dict) -> str:
        lines = [f"已自动排座（{r['plan']}）：新安排 {r['placed']} 人，保留手动安排 {r['kept']} 人，"
                 f"未安排 {len(r['unseated'])} 人"]
        lines += [f"  {u['name']}（{u['unit']}）：{u['message']}" for u in r["unseated"]]
        return "\n".join(lines)

    run(action, as_json, human)


@seats_cli.command("export", help="导出座次图（.pdf）或座位表（.xlsx），格式由 --out 的扩展名决定")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--plan", "plan_id", type=int, default=None, help="座次方案编号（默认：服务卡所用方案）")
@click.option("--out", "output", required=True, help="输出文件路径（.pdf 或 .xlsx）")
@json_option
def export(meeting_code: str, plan_id: int | None, output: str, as_json: bool) -> None:
    def action():
        fmt = seating_print.check_format(Path(output).suffix)
        path = _check_output(output)
        meeting = get_meeting(meeting_code)
        plan = _plan(meeting, plan_id)
        out = seating_print.export(meeting, plan, fmt, actor="cli")
        try:
            _write_whole(path, out.data)
        except OSError:
            raise SeatingError("input_invalid", detail=f"无法写入 {output}") from None
        return {"ok": True, "meeting": meeting.code, "plan": plan.name, "format": fmt, "output": str(path),
                "bytes": len(out.data), "filename": out.filename}

    run(action, as_json, lambda r: f"已导出 {r['filename']} → {r['output']}（{r['bytes']} 字节）")
