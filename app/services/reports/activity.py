"""The reports of what happened during the meeting: arrivals over time (how the room filled), the
exceptions at the door with who did them (代签, desk sign-ins, guests, walk-ins, unbinding, leave:
the audit rows), and the refused sign-ins with their reasons (``SignInDenial``)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.services.meetings.log import ACTION_LABELS, METHOD_LABELS, actor_names, who
from app.services.reports.base import Chart, Context, Section
from app.services.reports.people import People, listed_people, local_naive, rate
from app.services.signin.rules import SignInError
from app.services.timeutil import local
from models import AuditLog, Contact, SignInDenial, Unit


# -- arrivals over time ------------------------------------------------------------------------------
def bucket_minutes(span: timedelta) -> int:
    """A step that gives a readable number of rows: 5 minutes for a morning, more for longer."""
    for minutes in (1, 5, 10, 15, 30, 60, 120):
        if span <= timedelta(minutes=minutes * 48):
            return minutes
    return 240


#: More steps than this (sign-ins spread over days): empty steps are left out.
MAX_STEPS = 60


def arrival_series(ctx: Context, data: People | None = None) -> tuple[list[list], int, int]:
    """(rows, 应到, arrived before the start): [start, end, arrived in the step, cumulative,
    cumulative rate]. Counted: the 应到 people's first sign-in (to the session, or to any session for
    the whole meeting), so the last cumulative number is the 实到 of every other report."""
    session_ids = [s.id for s in ctx.sessions]
    data = data or listed_people(ctx.meeting, session_ids)
    expected = data.expected()
    times = sorted(m.at for p in expected if (m := data.first_mark(p, session_ids)) is not None)
    start = min(s.starts_at for s in ctx.sessions) if ctx.sessions else ctx.meeting.starts_at
    early = sum(1 for t in times if t <= start)
    if not times:
        return [], len(expected), 0
    first = local(times[0]).replace(second=0, microsecond=0)
    step = bucket_minutes(times[-1] - times[0])
    first = first - timedelta(minutes=first.minute % step)
    rows: list[list] = []
    done, i = 0, 0
    edge = first
    while i < len(times):
        end = edge + timedelta(minutes=step)
        n = 0
        while i < len(times) and local(times[i]) < end:
            n += 1
            i += 1
        done += n
        rows.append([edge.replace(tzinfo=None), end.replace(tzinfo=None), n, done, rate(done, len(expected))])
        edge = end
    if len(rows) > MAX_STEPS:  # a late straggler days later: list the steps in which people came
        rows = [r for r in rows if r[2]]
    return rows, len(expected), early


def arrivals(ctx: Context) -> list[Section]:
    rows, expected, early = arrival_series(ctx)
    start = min(s.starts_at for s in ctx.sessions) if ctx.sessions else ctx.meeting.starts_at
    arrived = rows[-1][3] if rows else 0
    facts = [("应到", str(expected)), ("实到", str(arrived)), ("开始时间", local(start).strftime("%H:%M")),
             ("开始前到达", f"{early} 人（{rate(early, expected)}%）")]
    chart = None
    if rows:
        chart = Chart("line", "累计签到人数（按时段）", [r[1].strftime("%H:%M") for r in rows],
                      [("累计签到", [float(r[3]) for r in rows]), ("应到", [float(expected)] * len(rows))],
                      max_value=expected)
    return [Section("签到时间分布", ["时段开始", "时段结束", "本时段签到", "累计签到", "累计签到率(%)"], rows,
                    widths=[10, 10, 8, 8, 9], facts=facts, chart=chart, empty_text="（尚无签到）",
                    note="按应到人员各自的首次签到时间统计；累计签到率 = 累计签到 ÷ 应到。")]


# -- 代签 and the exceptions at the door ---------------------------------------------------------------
EXCEPTION_ACTIONS = ("signin.proxy", "signin.manual", "signin.revoke", "door.guest", "door.walk_in_approve",
                     "door.walk_in_refuse", "identity.unbind", "leave.record", "leave.cancel")
DETAIL_KEYS = (("reason", "原因"), ("approver", "批准人"), ("note", "备注"), ("unit_text", "自报单位"),
               ("role", "身份"))


def exceptions(ctx: Context) -> list[Section]:
    entries = db.session.execute(
        select(AuditLog.at, AuditLog.action, AuditLog.actor, AuditLog.target, AuditLog.data)
        .where(AuditLog.meeting_id == ctx.meeting.id, AuditLog.action.in_(EXCEPTION_ACTIONS))
        .order_by(AuditLog.at, AuditLog.id)
    ).all()
    if ctx.session is not None:  # sign-ins and guests name their session; the rest concern the meeting
        entries = [e for e in entries if (e.data or {}).get("session_id") in (None, ctx.session.id)]
    names = actor_names({e.actor for e in entries} | {e.target or "" for e in entries})
    rows = []
    for at, action, actor, target, data in entries:
        details = "；".join(f"{label}：{data[key]}" for key, label in DETAIL_KEYS if (data or {}).get(key))
        rows.append([len(rows) + 1, local_naive(at), ACTION_LABELS.get(action, action), who(target, names),
                     who(actor, names), details])
    counts: dict[str, int] = {}
    for r in rows:
        counts[r[2]] = counts.get(r[2], 0) + 1
    return [Section("代签及现场处理记录", ["序号", "时间", "类别", "对象", "操作人", "详情"], rows,
                    widths=[4, 10, 8, 17, 15, 20], facts=[(k, str(v)) for k, v in counts.items()],
                    empty_text="（无代签或现场处理记录）", note="来自操作日志：代签、现场签到、撤销签到、临时人员、"
                    "签到申请的通过与拒绝、解绑微信、请假登记与取消。")]


# -- refused sign-ins -----------------------------------------------------------------------------------
def refused(ctx: Context) -> list[Section]:
    where = [SignInDenial.meeting_id == ctx.meeting.id]
    if ctx.session is not None:
        where.append(SignInDenial.session_id == ctx.session.id)
    entries = db.session.execute(
        select(SignInDenial.at, SignInDenial.reason, SignInDenial.method, SignInDenial.session_id, Contact.name,
               Unit.name, Contact.phone)
        .outerjoin(Contact, Contact.id == SignInDenial.contact_id).outerjoin(Unit, Unit.id == Contact.unit_id)
        .where(*where).order_by(SignInDenial.at, SignInDenial.id)
    ).all()
    positions = {s.id: s.position for s in ctx.meeting.sessions}
    rows = [[i, local_naive(at), name or "（未识别）", unit or "", phone or "", positions.get(sid, ""),
             METHOD_LABELS.get(method, method), SignInError.label(reason)]
            for i, (at, reason, method, sid, name, unit, phone) in enumerate(entries, start=1)]
    by_reason: dict[str, int] = {}
    for r in rows:
        by_reason[r[7]] = by_reason.get(r[7], 0) + 1
    return [Section("被拒绝的签到", ["序号", "时间", "姓名", "单位", "联系电话", "场次", "方式", "原因"], rows,
                    widths=[4, 10, 7, 14, 10, 4, 8, 12],
                    facts=[("合计", str(len(rows))), *((k, str(v)) for k, v in sorted(by_reason.items()))],
                    empty_text="（无被拒绝的签到）")]
