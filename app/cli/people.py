"""``flask invitees …`` and ``flask organizers …``: a meeting's list and its organizers, in bulk.

The CLI acts as the deployment itself (actor ``cli``). Every command prints one JSON object with
``--json``; bad input prints a code and a Chinese message, exits 1 and writes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.contacts.units import get_unit
from app.services.errors import InvalidInput
from app.services.meetings import invitees as svc
from app.services.meetings import organizers as org_svc
from app.services.meetings.meetings import find_contact_by_phone, get_meeting
from models import InviteeRole

invitees_cli = AppGroup("invitees", help="参会人员名单")
organizers_cli = AppGroup("organizers", help="会务人员管理")

RIGHT_LABELS = {"owner": "负责人", "staff": "会务人员", "viewer": "只读"}


# -- invitees --------------------------------------------------------------------------------------

@invitees_cli.command("add")
@click.argument("code")
@click.option("--phone", "phones", multiple=True, help="按手机号添加，可多次指定")
@click.option("--unit", "unit_codes", multiple=True, help="添加该单位全体在用人员（单位代码），可多次指定")
@click.option("--role", default=InviteeRole.DELEGATE.value, help="领导 / 代表 / 列席 / 工作人员 / 媒体")
@click.option("--group", "group_name", help="分组，如代表团名称")
@click.option("--seat", help="座位号（仅对按手机号添加的人员）")
@json_option
def add(code, phones, unit_codes, role, group_name, seat, as_json):
    """Add people by phone and/or whole units. All or nothing: one unknown phone adds nobody."""

    def action():
        if not phones and not unit_codes:
            raise InvalidInput("请用 --phone 或 --unit 指定要添加的人员")
        meeting = get_meeting(code)
        found, unknown = svc.contacts_by_phone(list(phones))
        if unknown:
            find_contact_by_phone(unknown[0])  # raises phone_invalid or contact_not_found for it
        units = [get_unit(u) for u in dict.fromkeys(unit_codes)]
        added = already = 0
        if found:
            outcome = svc.invite_contacts(meeting, list(found.values()), actor="cli", role=role,
                                          group_name=group_name, seat=seat)
            added, already = outcome["added"], outcome["already"]
        if units:
            outcome = svc.invite_units(meeting, [u.id for u in units], actor="cli", role=role, group_name=group_name)
            added, already = added + outcome["added"], already + outcome["already"]
        return {"meeting": meeting.code, "added": added, "already": already, "total_invitees": svc.total(meeting)}

    run(action, as_json, lambda r: f"新增 {r['added']} 人（{r['already']} 人原已在名单中），共 {r['total_invitees']} 人")


@invitees_cli.command("remove")
@click.argument("code")
@click.option("--phone", "phones", multiple=True, required=True, help="要移出名单的手机号，可多次指定")
@json_option
def remove(code, phones, as_json):
    """Take people off the list (their sign-in records stay). Every phone must be on the list."""

    def action():
        meeting = get_meeting(code)
        removed = svc.remove_by_phone(meeting, list(phones), actor="cli")
        return {"meeting": meeting.code, "removed": removed, "total_invitees": svc.total(meeting)}

    run(action, as_json, lambda r: f"已移出 {r['removed']} 人（签到记录保留），名单共 {r['total_invitees']} 人")


def _import_human(r: dict[str, Any]) -> str:
    lines = [f"{'试运行（未写入）' if r['dry_run'] else '已导入'}：可导入 {r['ok']} 行，新增 {r['added']}，"
             f"更新 {r['updated']}，未变 {r['unchanged']}，有问题 {len(r['rejected'])} 行"]
    lines += [f"  第 {x['row']} 行［{x['code']}］{x['message']}" for x in r["rejected"]]
    return "\n".join(lines)


@invitees_cli.command("import")
@click.argument("code")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="只检查，不写入")
@json_option
def import_(code: str, file: Path, dry_run: bool, as_json: bool):
    """Import an invitee spreadsheet (xlsx, xls, csv: 单位, 姓名, 手机, 身份, 分组, 座位, 备注).

    Rows with problems are reported with their row number and skipped; a file that cannot be read,
    or has no usable row, exits 1 with nothing written.
    """
    data = file.read_bytes()

    def action():
        plan = svc.import_file(get_meeting(code), data, file.name, actor="cli", dry_run=dry_run)
        return {**plan.summary(), "dry_run": dry_run}

    run(action, as_json, _import_human)


@invitees_cli.command("list")
@click.argument("code")
@click.option("--status", default="all", type=click.Choice(list(svc.STATUS_LABELS)),
              help="all 全部 / signed 已签到 / unsigned 未签到 / unbound 未绑定微信 / leave 请假 / pending 待审核 / rejected 已拒绝")
@click.option("--unit", "unit_code", help="单位代码")
@click.option("--q", default="", help="按姓名、手机号或单位查找")
@click.option("--page", default=1, type=click.IntRange(min=1), help="页码，每页 50 人")
@json_option
def list_(code, status, unit_code, q, page, as_json):
    """One page of the list, with the count of each status (signed in: the current session)."""

    def action():
        meeting = get_meeting(code)
        unit_id = get_unit(unit_code).id if unit_code else None
        result = svc.list_invitees(meeting, svc.Filters(q=q, unit_id=unit_id, status=status), page=page)
        return {"meeting": meeting.code, "session": result.session.position, "page": result.page,
                "pages": result.pages, "total": result.total, "counts": result.counts,
                "invitees": [{"name": r.name, "unit": r.unit, "phone": r.phone, "role": r.role,
                              "group": r.group_name, "seat": r.seat, "note": r.note, "status": r.status,
                              "signed_at": r.signed_at.isoformat() if r.signed_at else None,
                              "bound": r.bound, "leave": r.leave is not None} for r in result.rows]}

    def human(r):
        head = f"第 {r['page']}/{r['pages']} 页，共 {r['total']} 人｜" + "　".join(
            f"{svc.STATUS_LABELS[k]} {v}" for k, v in r["counts"].items())
        rows = ["\t".join(["  " + p["name"], p["unit"], p["phone"], p["role"], p["group"] or "",
                            "已签到" if p["signed_at"] else "请假" if p["leave"] else "未签到",
                            "" if p["bound"] else "未绑定微信"]) for p in r["invitees"]]
        return "\n".join([head, *rows])

    run(action, as_json, human)


# -- organizers ------------------------------------------------------------------------------------

@organizers_cli.command("list")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@json_option
def organizers_list(meeting_code, as_json):
    """The meeting's organizers, and the organizing unit's organizers (owners of all its meetings)."""

    def action():
        meeting = get_meeting(meeting_code)
        people = org_svc.list_organizers(meeting)
        strip = ("contact_id", "name", "phone", "unit", "right")
        return {"meeting": meeting.code,
                "organizers": [{k: o[k] for k in strip} for o in people["explicit"]],
                "unit_organizers": [{k: o[k] for k in strip} for o in people["implicit"]]}

    def human(r):
        rows = [f"  {o['name']}\t{o['unit']}\t{o['phone']}\t{RIGHT_LABELS.get(o['right'], o['right'])}"
                for o in r["organizers"]]
        rows += [f"  {o['name']}\t{o['unit']}\t{o['phone']}\t负责人（主办单位）" for o in r["unit_organizers"]]
        return "\n".join([f"{r['meeting']} 的会务人员：", *rows] if rows else [f"{r['meeting']} 还没有会务人员"])

    run(action, as_json, human)


@organizers_cli.command("add")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--phone", required=True, help="会务人员手机号（须在通讯录中）")
@click.option("--right", default="staff", help="owner | staff | viewer")
@json_option
def organizers_add(meeting_code, phone, right, as_json):
    """Give a person organizer rights on a meeting (or change them)."""

    def action():
        organizer = org_svc.add_organizer(meeting_code, phone, actor="cli", right=right)
        return {"meeting": meeting_code, "contact_id": organizer.contact_id, "name": organizer.contact.name,
                "right": organizer.right}

    run(action, as_json, lambda r: f"{r['name']} 已成为 {r['meeting']} 的会务人员（{r['right']}）")


@organizers_cli.command("remove")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--phone", required=True, help="会务人员手机号")
@json_option
def organizers_remove(meeting_code, phone, as_json):
    """Take a person's organizer rights on a meeting away."""

    def action():
        meeting = get_meeting(meeting_code)
        contact = find_contact_by_phone(phone)
        org_svc.remove_organizer(meeting, contact, actor="cli")
        return {"meeting": meeting.code, "contact_id": contact.id, "name": contact.name, "removed": True}

    run(action, as_json, lambda r: f"已移除 {r['name']} 在 {r['meeting']} 的会务权限")
