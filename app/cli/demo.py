"""``flask demo …``"""

from __future__ import annotations

from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services import demo as svc

demo_cli = AppGroup("demo", help="演示数据")


@demo_cli.command("seed")
@json_option
def seed(as_json):
    """Seed a realistic demo (units, contacts, a meeting today). Safe to run twice."""
    run(svc.seed, as_json, _human)


def _human(r: dict) -> str:
    text = (f"已创建演示数据：{r['units']} 个单位、{r['contacts']} 名人员，会议 {r['meeting']}"
            if r["created"] else r["message"])
    office = r.get("unit_office")
    if office:
        text += (f"\n单位通讯录管理 /units 演示账号：{office['username']} / {office['password']}"
                 f"（{office['unit_name']}）")
    return text
