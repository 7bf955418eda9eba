"""``flask meetings …``, ``flask sessions …`` and ``flask agenda …``

The CLI acts as the deployment itself (actor ``cli``): it may name any organizing unit. Times are
typed in China time ("2026-11-23 09:00"). Every command prints one JSON object with ``--json``;
bad input prints a code and a Chinese message, exits 1 and writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from flask.cli import AppGroup

from app.cli.common import json_option, run
from app.services.contacts.units import get_unit
from app.services.meetings import lifecycle, listing
from app.services.meetings import meetings as svc
from app.services.meetings import sessions as session_svc
from app.services.timeutil import parse_local
from models import Meeting, MeetingSession

meetings_cli = AppGroup("meetings", help="会议管理")
sessions_cli = AppGroup("sessions", help="会议签到场次")
agenda_cli = AppGroup("agenda", help="会议议程")

#: Without --ends a meeting lasts this long.
DEFAULT_LENGTH = timedelta(hours=3)


def _time(value: str | None, name: str):
    if value is None:
        return None
    parsed = parse_local(value)
    if parsed is None:
        raise svc.MeetingError("time_invalid", value=f"{name}={value}")
    return parsed


def _iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def _session_dict(s: MeetingSession) -> dict[str, Any]:
    return {"id": s.id, "position": s.position, "title": s.title, "starts_at": _iso(s.starts_at),
            "ends_at": _iso(s.ends_at), "signin_opens_at": _iso(s.signin_opens_at),
            "signin_closes_at": _iso(s.signin_closes_at)}


def _meeting_dict(m: Meeting, *, full: bool = True) -> dict[str, Any]:
    data = {"id": m.id, "code": m.code, "title": m.title, "state": m.state,
            "unit": m.organizing_unit.code if m.organizing_unit else None,
            "starts_at": _iso(m.starts_at), "ends_at": _iso(m.ends_at), "venue": m.venue}
    if full:
        data |= {"intro": m.intro, "admission": m.admission, "units": sorted(u.code for u in m.units),
                 "presence": m.presence, "late_after_minutes": m.late_after_minutes,
                 "rotating_qr": m.rotating_qr, "mask_names": m.mask_names, "sms_fallback": m.sms_fallback, "agenda": m.agenda or [],
                 "sessions": [_session_dict(s) for s in m.sessions]}
    return data


def _human(m: dict[str, Any]) -> str:
    return f"{m['code']}《{m['title']}》（{lifecycle.state_name(m['state'])}）"


# -- meetings ---------------------------------------------------------------------------------------
@meetings_cli.command("create")
@click.argument("code")
@click.option("--title", required=True, help="会议名称")
@click.option("--starts", help="开始时间，北京时间，如 2026-11-23 09:00")
@click.option("--ends", help="结束时间（默认开始后 3 小时）")
@click.option("--venue", default="", help="地点")
@click.option("--intro", default="", help="会议简介")
@click.option("--admission", default="invitees", help="invitees | units | approval")
@click.option("--unit", "unit_code", help="主办单位代码（其会议组织者管理本会议）")
@click.option("--invite-unit", "unit_codes", multiple=True, help="邀请该单位全体人员，可多次指定")
@click.option("--open", "publish", is_flag=True, help="立即发布（开放签到）")
@json_option
def create(code, title, starts, ends, venue, intro, admission, unit_code, unit_codes, publish, as_json):
    """Create a meeting with one sign-in session."""

    def action():
        starts_at = _time(starts, "--starts")
        ends_at = _time(ends, "--ends")
        if starts_at is None:
            raise svc.MeetingError("time_invalid", value="--starts 必填")
        unit = get_unit(unit_code) if unit_code else None
        meeting = svc.create_meeting(code, title, actor="cli", starts_at=starts_at,
                                     ends_at=ends_at or starts_at + DEFAULT_LENGTH, venue=venue,
                                     intro=intro, admission=admission, unit_codes=list(unit_codes),
                                     publish=publish, unit=unit)
        return _meeting_dict(meeting)

    run(action, as_json, lambda r: f"已创建会议 {_human(r)}")


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


@meetings_cli.command("list")
@click.option("--unit", "unit_code", help="只列出该主办单位的会议")
@click.option("--state", default="", help="draft | published | closed | archived | all（默认：除已归档外的全部）")
@json_option
def list_meetings(unit_code, state, as_json):
    """List meetings with their numbers (应邀, 已签到 in the current session, 场次)."""

    def action():
        if state not in listing.STATE_FILTERS:
            raise lifecycle.MeetingChangeError("state_filter_invalid", state=state)
        if unit_code:
            get_unit(unit_code)
        found = listing.all_meetings(unit_code=unit_code, state=state)
        counts = listing.meeting_counts(found, now=datetime.now(UTC))
        return {"meetings": [_meeting_dict(m, full=False) | {
            "invitees": counts[m.id].invitees, "signed_in": counts[m.id].signed_in,
            "sessions": counts[m.id].sessions} for m in found]}

    def human(r):
        if not r["meetings"]:
            return "没有会议"
        return "\n".join(f"{_human(m)}  {m['starts_at']}  应邀 {m['invitees']} · 已签到 {m['signed_in']} · "
                         f"{m['sessions']} 个场次" for m in r["meetings"])

    run(action, as_json, human)


@meetings_cli.command("show")
@click.argument("code")
@json_option
def show(code, as_json):
    """Everything about one meeting: settings, listed units, sessions, agenda."""

    def human(r):
        lines = [_human(r), f"时间：{r['starts_at']} 至 {r['ends_at']}", f"地点：{r['venue'] or '—'}",
                 f"主办单位：{r['unit'] or '—'}；签到范围：{r['admission']}；签到方式：{r['presence']}"]
        lines += [f"第 {s['position']} 场 {s['title']}：{s['starts_at']} 至 {s['ends_at']}" for s in r["sessions"]]
        lines += [f"议程 {a['time']} {a['title']} {a['speaker']}" for a in r["agenda"]]
        return "\n".join(lines)

    run(lambda: _meeting_dict(svc.get_meeting(code)), as_json, human)


@meetings_cli.command("update")
@click.argument("code")
@click.option("--title")
@click.option("--starts", help="开始时间，北京时间")
@click.option("--ends", help="结束时间")
@click.option("--venue")
@click.option("--intro")
@click.option("--admission", help="invitees | units | approval")
@click.option("--list-unit", "listed", multiple=True, help="所列单位代码（签到范围为 units 时），可多次指定；给出即替换")
@click.option("--presence", help="scan | scan_or_link | link_in_window")
@click.option("--late-minutes", "late", help="开始后超过多少分钟算迟到（0–240）")
@click.option("--rotating-qr/--no-rotating-qr", "rotating_qr", default=None, help="大屏动态二维码")
@click.option("--mask-names/--no-mask-names", "mask_names", default=None, help="大屏隐去姓名")
@click.option("--sms-fallback/--no-sms-fallback", "sms_fallback", default=None, help="微信无法送达时改发短信")
@click.option("--unit", "unit_code", help="主办单位代码")
@json_option
def update(code, title, starts, ends, venue, intro, admission, listed, presence, late, rotating_qr, mask_names,
           sms_fallback, unit_code, as_json):
    """Change a meeting's settings (only what is given)."""

    def action():
        meeting = svc.get_meeting(code)
        change = lifecycle.update_settings(
            meeting, actor="cli", title=title, starts_at=_time(starts, "--starts"), ends_at=_time(ends, "--ends"),
            venue=venue, intro=intro, unit_code=unit_code, admission=admission,
            listed_unit_codes=list(listed) if listed else None, presence=presence, late_after_minutes=late,
            rotating_qr=rotating_qr, mask_names=mask_names, sms_fallback=sms_fallback)
        return _meeting_dict(meeting) | {"changed": sorted(change.changes), "not_notified": change.unnotified}

    def human(r):
        if not r["changed"]:
            return f"{_human(r)}：没有变化"
        text = f"已修改 {_human(r)}：{'、'.join(r['changed'])}"
        if r["not_notified"]:
            text += f"\n注意：会议{'、'.join(r['not_notified'])}已变更，参会人员不会自动收到通知"
        return text

    run(action, as_json, human)


def _state_command(verb: str, done: str):
    source, target, _why = lifecycle.TRANSITIONS[verb]

    @meetings_cli.command(verb, help=f"Move a meeting from {source} to {target}.")
    @click.argument("code")
    @json_option
    def command(code, as_json):
        def action():
            meeting = svc.get_meeting(code)
            lifecycle.transition(meeting, verb, actor="cli")
            return _meeting_dict(meeting, full=False)

        run(action, as_json, lambda r: f"{done}：{_human(r)}")

    return command


publish = _state_command("publish", "已发布")
close = _state_command("close", "已结束")
archive = _state_command("archive", "已归档")
reopen = _state_command("reopen", "已重新开放")


@meetings_cli.command("close-signin")
@click.argument("code")
@json_option
def close_signin(code, as_json):
    """End sign-in now in every session still open (the meeting stays published)."""

    def action():
        meeting = svc.get_meeting(code)
        closed = lifecycle.close_signin(meeting, actor="cli", now=datetime.now(UTC))
        return _meeting_dict(meeting, full=False) | {"closed_sessions": closed}

    run(action, as_json, lambda r: f"已截止签到：{_human(r)}（{len(r['closed_sessions'])} 个场次）")


@meetings_cli.command("copy")
@click.argument("code")
@click.option("--starts", required=True, help="新会议的开始时间，北京时间，如 2027-03-01 09:00")
@click.option("--with-invitees", is_flag=True, help="同时复制参会人员名单")
@click.option("--unit", "unit_code", help="主办单位代码（默认与原会议相同）")
@click.option("--new-code", "new_code", default="", help="新会议代码（默认自动生成）")
@json_option
def copy(code, starts, with_invitees, unit_code, new_code, as_json):
    """Copy a meeting as a new draft, moved to a new start."""

    def action():
        starts_at = _time(starts, "--starts")
        meeting = lifecycle.copy_meeting(svc.get_meeting(code), actor="cli", starts_at=starts_at,
                                         unit_code=unit_code, with_invitees=with_invitees, code=new_code)
        return _meeting_dict(meeting) | {"source": code, "invitees": lifecycle.invitee_count(meeting)}

    run(action, as_json, lambda r: f"已复制为 {_human(r)}，参会人员 {r['invitees']} 人")


# -- sessions ---------------------------------------------------------------------------------------
def _session_options(command):
    for option in reversed([
        click.option("--title", help="场次名称"),
        click.option("--starts", help="开始时间，北京时间"),
        click.option("--ends", help="结束时间"),
        click.option("--opens", help="签到开始时间（默认开始前 2 小时）"),
        click.option("--closes", help="签到截止时间（默认结束时）"),
    ]):
        command = option(command)
    return command


def _session_times(starts, ends, opens, closes) -> dict[str, Any]:
    return {"starts_at": _time(starts, "--starts"), "ends_at": _time(ends, "--ends"),
            "signin_opens_at": _time(opens, "--opens"), "signin_closes_at": _time(closes, "--closes")}


@sessions_cli.command("add")
@click.argument("code")
@_session_options
@json_option
def add_session(code, title, starts, ends, opens, closes, as_json):
    """Add a sign-in session (it takes a position never used before)."""

    def action():
        meeting = svc.get_meeting(code)
        session = session_svc.add_session(meeting, actor="cli", title=title or "",
                                          **_session_times(starts, ends, opens, closes))
        return {"meeting": meeting.code} | _session_dict(session)

    run(action, as_json, lambda r: f"已添加 {r['meeting']} 第 {r['position']} 场：{r['title']}")


@sessions_cli.command("update")
@click.argument("code")
@click.argument("position", type=int)
@_session_options
@json_option
def update_session(code, position, title, starts, ends, opens, closes, as_json):
    """Change a session (only what is given; its position never changes)."""

    def action():
        meeting = svc.get_meeting(code)
        session = session_svc.update_session(meeting, position, actor="cli", title=title,
                                             **_session_times(starts, ends, opens, closes))
        return {"meeting": meeting.code} | _session_dict(session)

    run(action, as_json, lambda r: f"已修改 {r['meeting']} 第 {r['position']} 场：{r['title']}")


@sessions_cli.command("remove")
@click.argument("code")
@click.argument("position", type=int)
@json_option
def remove_session(code, position, as_json):
    """Remove a session nobody signed in to."""

    def action():
        meeting = svc.get_meeting(code)
        session_svc.remove_session(meeting, position, actor="cli")
        return {"meeting": meeting.code, "removed": position, "sessions": [s.position for s in meeting.sessions]}

    run(action, as_json, lambda r: f"已删除 {r['meeting']} 第 {r['removed']} 场")


# -- agenda -----------------------------------------------------------------------------------------
@agenda_cli.command("set")
@click.argument("code")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def set_agenda(code, file: Path, as_json):
    """Replace a meeting's agenda from FILE: a JSON list of {time, title, speaker, place}, or a
    spreadsheet (xlsx, xls, csv) with the columns 时间, 议程, 发言人, 地点."""

    def action():
        meeting = svc.get_meeting(code)
        try:
            data = file.read_bytes()
        except OSError:
            raise session_svc.SessionError("agenda_file_invalid", detail=f"无法打开文件 {file}") from None
        rows, numbers = session_svc.read_agenda_file(data, file.name)
        agenda = session_svc.set_agenda(meeting, rows, actor="cli", row_numbers=numbers)
        return {"meeting": meeting.code, "agenda": agenda}

    run(action, as_json, lambda r: f"已设置 {r['meeting']} 的议程（{len(r['agenda'])} 项）")
