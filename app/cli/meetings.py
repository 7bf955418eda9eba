"""``flask meetings …`` and ``flask organizers …``"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.meetings import meetings as svc
from app.services.meetings import organizers as org_svc
from app.services.timeutil import parse_local

meetings_cli = AppGroup("meetings", help="会议管理")
organizers_cli = AppGroup("organizers", help="会务人员管理")


def _time(value: str | None, name: str):
    if value is None:
        return None
    parsed = parse_local(value)
    if parsed is None:
        raise svc.MeetingError("time_invalid", value=f"{name}={value}")
    return parsed


@meetings_cli.command("create")
@click.argument("code")
@click.option("--title", required=True, help="会议名称")
@click.option("--starts", help="开始时间，北京时间，如 2026-11-23 09:00")
@click.option("--ends", help="结束时间")
@click.option("--venue", default="", help="地点")
@click.option("--intro", default="", help="会议简介")
@click.option("--admission", default="invitees", help="invitees | units | approval")
@click.option("--invite-unit", "unit_codes", multiple=True, help="邀请该单位全体人员，可多次指定")
@click.option("--open", "publish", is_flag=True, help="立即发布（开放签到）")
@json_option
def create(code, title, starts, ends, venue, intro, admission, unit_codes, publish, as_json):
    """Create a meeting with one sign-in session."""

    def action():
        from datetime import timedelta

        starts_at = _time(starts, "--starts")
        ends_at = _time(ends, "--ends")
        if starts_at is None:
            raise svc.MeetingError("time_invalid", value="--starts 必填")
        meeting = svc.create_meeting(code, title, actor="cli", starts_at=starts_at,
                                     ends_at=ends_at or starts_at + timedelta(hours=3), venue=venue,
                                     intro=intro, admission=admission, unit_codes=list(unit_codes),
                                     publish=publish)
        session = meeting.sessions[0]
        return {"id": meeting.id, "code": meeting.code, "title": meeting.title, "state": meeting.state,
                "starts_at": meeting.starts_at.isoformat(), "ends_at": meeting.ends_at.isoformat(),
                "admission": meeting.admission, "units": [u.code for u in meeting.units],
                "sessions": [{"id": session.id, "position": session.position,
                              "signin_opens_at": session.signin_opens_at.isoformat(),
                              "signin_closes_at": session.signin_closes_at.isoformat()}]}

    run(action, as_json, lambda r: f"已创建会议 {r['code']}《{r['title']}》（{r['state']}）")


@meetings_cli.command("invite")
@click.argument("code")
@click.option("--phone", "phones", multiple=True, help="按手机号邀请，可多次指定")
@click.option("--unit", "unit_codes", multiple=True, help="邀请该单位全体人员，可多次指定")
@click.option("--role", default="代表", help="领导 / 代表 / 列席 / 工作人员 / 媒体")
@click.option("--group", "group_name", help="分组，如代表团名称")
@click.option("--seat", help="座位号")
@json_option
def invite(code, phones, unit_codes, role, group_name, seat, as_json):
    """Invite people to a meeting by phone or by whole unit."""
    run(lambda: svc.invite(code, actor="cli", phones=list(phones), unit_codes=list(unit_codes), role=role,
                           group_name=group_name, seat=seat),
        as_json, lambda r: f"新邀请 {r['invited']} 人，共 {r['total_invitees']} 人")


@organizers_cli.command("add")
@click.option("--meeting", "meeting_code", required=True, help="会议代码")
@click.option("--phone", required=True, help="会务人员手机号（须在通讯录中）")
@click.option("--right", default="staff", help="owner | staff | viewer")
@json_option
def add_organizer(meeting_code, phone, right, as_json):
    """Give a person organizer rights on a meeting."""

    def action():
        organizer = org_svc.add_organizer(meeting_code, phone, actor="cli", right=right)
        return {"meeting": meeting_code, "contact_id": organizer.contact_id, "name": organizer.contact.name,
                "right": organizer.right}

    run(action, as_json, lambda r: f"{r['name']} 已成为 {r['meeting']} 的会务人员（{r['right']}）")
