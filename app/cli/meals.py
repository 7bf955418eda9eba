"""``flask meals …`` and ``flask buses …``: the automatic plan and the exports from the command line.

    flask --app wsgi meals assign --meeting CODE [--replace] [--json]
    flask --app wsgi meals export --meeting CODE --out FILE [--json]     (diet counts and tables)
    flask --app wsgi buses assign --meeting CODE [--replace] [--json]
    flask --app wsgi buses export --meeting CODE --out FILE [--json]     (manifests per car)

``assign`` plans every sitting (or route) of the meeting, keeping people already placed unless
``--replace``. Bad input prints a code and a Chinese message, exits 1 and writes nothing; a file
appears whole or not at all.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import run
from app.cli.reports import _check_output, _write_whole
from app.services import audit
from app.services.logistics import buses, meals
from app.services.logistics.people import roster
from app.services.logistics.placing import LogisticsError
from app.services.meetings.meetings import get_meeting

meals_cli = AppGroup("meals", help="用餐：按餐次一键安排桌位，导出用餐统计与桌次名单")
buses_cli = AppGroup("buses", help="乘车：按路线一键安排车辆，导出乘车名单")

_meeting = click.option("--meeting", "meeting_code", required=True, help="会议代码")
_json = click.option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象")


def _assign(service, parents_of, meeting_code: str, replace: bool, as_json: bool, noun: str) -> None:
    def action():
        meeting = get_meeting(meeting_code)
        people = roster(meeting.id)
        results = []
        for parent in parents_of(meeting):
            result = service.auto_assign(meeting, parent, actor="cli", replace=replace, people=people)
            results.append({"id": parent.id, "name": parent.name, **result.as_dict()})
        return {"ok": True, "meeting": meeting.code, "people": len(people), noun: results}

    run(action, as_json, lambda r: "\n".join(
        [f"{x['name']}：已安排 {x['placed']} 人，保留 {x['kept']} 人，未能安排 {len(x['unplaced'])} 人"
         for x in r[noun]] or ["没有可安排的餐次或路线"]))


def _export(service, meeting_code: str, out: str, as_json: bool, action_name: str) -> None:
    def action():
        path = _check_output(out)
        meeting = get_meeting(meeting_code)
        data, name = service.export_xlsx(meeting)
        audit.record("cli", action_name, meeting_id=meeting.id, file=name)
        try:
            _write_whole(path, data)
        except OSError:
            raise LogisticsError("output_invalid", path=out) from None
        return {"ok": True, "meeting": meeting.code, "output": str(path), "bytes": len(data), "filename": name}

    run(action, as_json, lambda r: f"已导出 {r['filename']} → {r['output']}（{r['bytes']} 字节）")


def _commands(group: AppGroup, service, parents_of, noun: str, places: str, exported: str) -> None:
    """``assign`` and ``export`` of one group: meals and buses differ only in their words."""

    @group.command("assign", help=f"为会议的每个{'餐次' if noun == 'sittings' else '路线'}一键安排{places}")
    @_meeting
    @click.option("--replace", is_flag=True, help="清除已有安排后重新安排（默认保留已安排的人员）")
    @_json
    def assign(meeting_code: str, replace: bool, as_json: bool) -> None:
        _assign(service, parents_of, meeting_code, replace, as_json, noun)

    @group.command("export", help=f"导出{exported}（xlsx）")
    @_meeting
    @click.option("--out", required=True, help="输出文件路径（.xlsx）")
    @_json
    def export(meeting_code: str, out: str, as_json: bool) -> None:
        _export(service, meeting_code, out, as_json, f"{service.KIND.audit}.export")


_commands(meals_cli, meals, meals.sittings_of, "sittings", "桌位", "用餐统计（按餐次、桌的饮食要求人数）与桌次名单")
_commands(buses_cli, buses, buses.routes_of, "routes", "车辆", "各车乘车名单")
