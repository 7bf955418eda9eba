"""A meeting's log for its organizers: what was done (the audit rows of the meeting) and which
sign-ins were refused (``SignInDenial``), newest first, a page at a time. Reads only."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.services.signin.rules import SignInError
from app.services.timeutil import local
from models import AuditLog, Contact, Meeting, SignInDenial, Unit

PER_PAGE = 50

#: What an action is called on the page; an action not listed is shown as it is.
ACTION_LABELS = {
    "meeting.create": "创建会议",
    "meeting.copy": "复制会议",
    "meeting.update": "修改会议",
    "meeting.screen_link": "更换大屏链接",
    "meeting.changed": "修改会议",
    "meeting.agenda": "修改议程",
    "meeting.signin_close": "结束签到",
    "meeting.invite": "邀请参会",
    "meeting.uninvite": "移出名单",
    "invitee.update": "修改参会信息",
    "invitees.import": "导入参会名单",
    "session.add": "添加场次",
    "session.update": "修改场次",
    "session.remove": "删除场次",
    "organizer.set": "设置会务人员",
    "organizer.remove": "移除会务人员",
    "screen.mode": "切换大屏",
    "vote.create": "创建投票",
    "vote.open": "开始投票",
    "vote.close": "结束投票",
    "vote.export": "导出投票结果",
    "survey.create": "创建问卷",
    "survey.export": "导出问卷结果",
    "document.upload": "上传材料",
    "document.recall": "撤回材料",
    "document.recall_all": "撤回全部材料",
    "confidentiality.set": "修改保密提醒", "confidentiality.confirm": "确认保密提醒",
    "signin.proxy": "代签",
    "signin.manual": "现场签到",
    "signin.revoke": "撤销签到",
    "door.guest": "添加临时人员",
    "door.walk_in_approve": "通过签到申请",
    "door.walk_in_refuse": "拒绝签到申请",
    "door.desk_issue": "新增签到台", "door.desk_revoke": "停用签到台", "door.desk_sync": "签到台同步",
    "door.code_revoke": "撤销个人签到码", "door.paper_entry": "补录纸质签到表",
    "identity.unbind": "解绑微信",
    "identity.bind_taken": "绑定被拒：该人员已绑定其他微信",
    "cards.set": "修改服务卡", "cards.import": "导入服务卡",
    "leave.record": "登记请假",
    "leave.cancel": "取消请假",
    "reminder.create": "催签",
    "report.export": "导出报表",
}
#: The filter by kind of action: the first part of the dotted verb.
PREFIX_LABELS = {
    "signin": "签到",
    "door": "现场处理",
    "leave": "请假",
    "identity": "微信绑定",
    "meeting": "会议",
    "organizer": "会务人员",
    "invitee": "参会人员",
    "invitees": "参会名单",
    "session": "场次",
    "screen": "大屏",
    "reminder": "催签",
    "vote": "投票",
    "survey": "问卷",
    "document": "材料",
    "confidentiality": "保密提醒",
    "report": "报表",
}
METHOD_LABELS = {"scan": "公众号扫码", "h5": "网页", "mp": "小程序", "proxy": "代签", "manual": "现场签到",
                 "desk": "验码签到"}
#: Data keys shown next to an action, with their names; the rest stay in the database.
DATA_LABELS = {
    "reason": "原因",
    "approver": "批准人",
    "note": "备注",
    "seq": "序号",
    "recipients": "人数",
    "unit_text": "单位",
    "role": "身份",
    "code": "代码",
    "right": "权限",
    "file": "文件",
}
#: Data values shown in words (an organizer's right).
VALUE_LABELS = {"right": {"owner": "负责人", "staff": "会务人员", "viewer": "只读"}}
_PREFIX_RE = re.compile(r"^[a-z_]{1,32}$")
_ACTOR_RE = re.compile(r"^[\w:.@-]{1,96}$")


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int


def _page_of(query, count_query, page: int) -> tuple[list, int, int, int]:
    total = int(db.session.scalar(count_query) or 0)
    pages = max(1, math.ceil(total / PER_PAGE))
    page = min(max(1, page), pages)
    return db.session.execute(query.limit(PER_PAGE).offset((page - 1) * PER_PAGE)).all(), page, pages, total


def actor_names(refs: set[str]) -> dict[str, str]:
    """``contact:<id>`` → "name（unit）" for the contacts among ``refs``."""
    ids = {int(r.split(":", 1)[1]) for r in refs if r and r.startswith("contact:") and r[8:].isdigit()}
    if not ids:
        return {}
    rows = db.session.execute(
        select(Contact.id, Contact.name, Unit.name).join(Unit, Unit.id == Contact.unit_id).where(Contact.id.in_(ids))
    ).all()
    return {f"contact:{cid}": f"{name}（{unit}）" for cid, name, unit in rows}


def who(ref: str | None, names: dict[str, str]) -> str:
    """How an actor or target reads: a person's name, else a plain word for system actors."""
    if not ref:
        return ""
    if ref in names:
        return names[ref]
    if ref.startswith("openid:"):
        return "参会人员（微信）"
    if ref.startswith("meeting:"):
        return "本会议"
    return {"cli": "命令行", "system": "系统", "test": "测试"}.get(ref, ref)


def _details(data: dict | None) -> str:
    parts = []
    for key, label in DATA_LABELS.items():
        value = (data or {}).get(key)
        if value not in (None, ""):
            words = VALUE_LABELS.get(key, {})
            parts.append(f"{label}：{words.get(value, value) if isinstance(value, str) else value}")
    return "；".join(parts)


def audit_page(meeting: Meeting, *, page: int = 1, prefix: str = "", actor: str = "") -> Page:
    """The meeting's audit rows, newest first; ``prefix`` filters by kind (``signin``, ``door``…),
    ``actor`` by who did it (``contact:12``, ``cli``)."""
    where = [AuditLog.meeting_id == meeting.id]
    if prefix and _PREFIX_RE.match(prefix):
        where.append(AuditLog.action.startswith(prefix + "."))
    if actor and _ACTOR_RE.match(actor):
        where.append(AuditLog.actor == actor)
    rows, page, pages, total = _page_of(
        select(AuditLog).where(*where).order_by(AuditLog.at.desc(), AuditLog.id.desc()),
        select(func.count()).select_from(AuditLog).where(*where), page)
    entries = [r[0] for r in rows]
    names = actor_names({e.actor for e in entries} | {e.target or "" for e in entries})
    return Page([{"at": e.at, "action": e.action, "label": ACTION_LABELS.get(e.action, e.action),
                  "actor": who(e.actor, names), "target": who(e.target, names), "details": _details(e.data)}
                 for e in entries], page, pages, total)


def audit_filters(meeting: Meeting) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The choices of the audit filters: (prefix, label) and (actor, name) present in this log."""
    actions = db.session.scalars(select(AuditLog.action).where(AuditLog.meeting_id == meeting.id).distinct()).all()
    prefixes = sorted({a.split(".", 1)[0] for a in actions})
    actors = sorted(db.session.scalars(select(AuditLog.actor).where(AuditLog.meeting_id == meeting.id).distinct()))
    names = actor_names(set(actors))
    return ([(p, PREFIX_LABELS.get(p, p)) for p in prefixes],
            sorted(((a, who(a, names)) for a in actors), key=lambda pair: pair[1]))


def denials_page(meeting: Meeting, *, page: int = 1, reason: str = "") -> Page:
    """Refused sign-ins, newest first, with the reason in Chinese; ``reason`` filters by code."""
    where = [SignInDenial.meeting_id == meeting.id]
    if reason and _PREFIX_RE.match(reason):
        where.append(SignInDenial.reason == reason)
    rows, page, pages, total = _page_of(
        select(SignInDenial.at, SignInDenial.reason, SignInDenial.method, Contact.name, Unit.name)
        .outerjoin(Contact, Contact.id == SignInDenial.contact_id).outerjoin(Unit, Unit.id == Contact.unit_id)
        .where(*where).order_by(SignInDenial.at.desc(), SignInDenial.id.desc()),
        select(func.count()).select_from(SignInDenial).where(*where), page)
    return Page([{"at": at, "reason": code, "label": SignInError.label(code),
                  "method": METHOD_LABELS.get(method, method), "name": name or "（未知）", "unit": unit or ""}
                 for at, code, method, name, unit in rows], page, pages, total)


def denial_reasons(meeting: Meeting) -> list[tuple[str, str]]:
    """(code, label) of the refusal reasons present in this meeting's log."""
    codes = db.session.scalars(
        select(SignInDenial.reason).where(SignInDenial.meeting_id == meeting.id).distinct()
    ).all()
    return sorted(((c, SignInError.label(c)) for c in codes), key=lambda pair: pair[1])


def when(at: datetime) -> str:
    """Local "MM-DD HH:MM:SS" for a log line."""
    return local(at).strftime("%m-%d %H:%M:%S")
