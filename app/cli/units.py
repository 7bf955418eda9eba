"""``flask units …``"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.contacts import units as svc

units_cli = AppGroup("units", help="单位管理")


@units_cli.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--alias", "aliases", multiple=True, help="别名，可多次指定")
@click.option("--parent", "parent_code", help="上级单位代码")
@click.option("--allow-landline", is_flag=True, help="允许通讯录使用座机号码")
@json_option
def add(code, name, aliases, parent_code, allow_landline, as_json):
    """Add a unit (单位)."""

    def action():
        unit = svc.add_unit(code, name, actor="cli", aliases=list(aliases), parent_code=parent_code,
                            allow_landline=allow_landline)
        return {"id": unit.id, "code": unit.code, "name": unit.name, "aliases": unit.aliases}

    run(action, as_json, lambda r: f"已添加单位 {r['code']} {r['name']}")


@units_cli.command("add-account")
@click.argument("code")
@click.argument("username")
@click.password_option("--password", help="至少 10 位")
@json_option
def add_account(code, username, password, as_json):
    """Create a login for a unit office's directory page."""

    def action():
        account = svc.add_unit_account(svc.get_unit(code), username, password, actor="cli")
        return {"id": account.id, "unit": code, "username": account.username}

    run(action, as_json, lambda r: f"已为 {r['unit']} 创建账号 {r['username']}")
