"""``flask units …``"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.contacts import units as svc
from app.services.meetings import grants

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


def _grant_row(unit, contact) -> dict:
    return {"unit": unit.code, "unit_name": unit.name, "contact_id": contact.id, "name": contact.name,
            "phone": contact.phone}


@units_cli.command("add-organizer")
@click.argument("code")
@click.option("--phone", required=True, help="组织者手机号（须在通讯录中）")
@json_option
def add_organizer(code, phone, as_json):
    """Let a person create and run this unit's meetings (主办单位的会议组织者)."""

    def action():
        unit, contact, created = grants.add_unit_organizer(code, phone, actor="cli")
        return {**_grant_row(unit, contact), "created": created}

    run(action, as_json, lambda r: f"{r['name']} 可以组织 {r['unit_name']} 的会议"
        + ("" if r["created"] else "（原已授权）"))


@units_cli.command("remove-organizer")
@click.argument("code")
@click.option("--phone", required=True, help="组织者手机号")
@json_option
def remove_organizer(code, phone, as_json):
    """Withdraw a person's right to organize this unit's meetings."""

    def action():
        unit, contact = grants.remove_unit_organizer(code, phone, actor="cli")
        return _grant_row(unit, contact)

    run(action, as_json, lambda r: f"已取消 {r['name']} 组织 {r['unit_name']} 会议的权限")


@units_cli.command("organizers")
@click.argument("code", required=False)
@json_option
def list_organizers(code, as_json):
    """List who organizes for each unit (or for one)."""

    def action():
        rows = [_grant_row(g.unit, g.contact) for g in grants.unit_organizers(code)]
        return {"organizers": rows}

    run(action, as_json, lambda r: "\n".join(f"{o['unit']} {o['unit_name']}：{o['name']} {o['phone']}"
                                             for o in r["organizers"]) or "尚无会议组织者")


admins_cli = AppGroup("admins", help="系统管理员")


@admins_cli.command("add")
@click.option("--phone", required=True, help="手机号（须在通讯录中）")
@json_option
def add_admin(phone, as_json):
    """Make a person a system administrator."""

    def action():
        contact, created = grants.add_system_admin(phone, actor="cli")
        return {"contact_id": contact.id, "name": contact.name, "created": created}

    run(action, as_json, lambda r: f"{r['name']} 已是系统管理员")


@admins_cli.command("remove")
@click.option("--phone", required=True, help="手机号")
@json_option
def remove_admin(phone, as_json):
    """Withdraw a system administrator."""

    def action():
        contact = grants.remove_system_admin(phone, actor="cli")
        return {"contact_id": contact.id, "name": contact.name}

    run(action, as_json, lambda r: f"已取消 {r['name']} 的系统管理员身份")


@admins_cli.command("list")
@json_option
def list_admins(as_json):
    """List the system administrators."""
    run(lambda: {"admins": [{"contact_id": c.id, "name": c.name, "unit": c.unit.name, "phone": c.phone}
                            for c in grants.system_admins()]},
        as_json, lambda r: "\n".join(f"{a['name']}（{a['unit']}）{a['phone']}" for a in r["admins"]) or "尚无系统管理员")
