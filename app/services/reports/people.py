"""The reports about people: the 签到表, per-unit attendance, absent and late lists, leave, and
binding readiness. One read of the meeting's people (:func:`listed_people`) and one of its sign-ins
(:func:`signins_of`) serve them all, so every report counts the same people the same way.

Who is listed: the approved invitees and, for admission ``units``, the listed units' active people
(the live headcount's rule, :func:`app.services.live.headcount.people_of`), the people on leave,
and anyone else with a live sign-in (nothing signed is ever missing from the 签到表).
应到 is the listed people less those on leave; 实到 those of them signed in (to the session, or to
any session for the whole meeting); 缺席 the rest of 应到.

Order (the 签到表's, and every list's): units in the directory's order (as they were added), then
rank within the unit (领导, 代表, 列席, 工作人员, 媒体), then the directory's order of people.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.services.reports.base import Chart, Context, Section
from app.services.signin.door import GUEST_UNIT_CODE
from app.services.timeutil import local
from models import (
    Admission,
    AuditLog,
    Contact,
    Invitee,
    InviteeRole,
    Leave,
    Meeting,
    MeetingUnit,
    SignIn,
    SignInMethod,
    Unit,
    WechatIdentity,
)

ROLE_RANK = {role.value: i for i, role in enumerate(InviteeRole)}
METHOD_LABELS = {SignInMethod.SCAN: "扫码", SignInMethod.H5: "H5网页", SignInMethod.MINIPROGRAM: "小程序",
                 SignInMethod.PROXY: "代签", SignInMethod.MANUAL: "现场签到", SignInMethod.DESK: "验码签到"}
GUEST_LABEL = "现场添加"


@dataclass
class Person:
    id: int
    name: str
    unit_id: int
    unit: str
    unit_code: str
    title: str
    phone: str
    role: str
    seat: str
    group: str
    leave_reason: str | None = None
    leave_approver: str | None = None
    leave_recorded_by: str | None = None
    leave_at: datetime | None = None
    #: A guest added at the desk (door.guest in the audit log) or of the 临时人员 unit.
    guest: bool = False
    #: Listed only because they signed in (not invited, not of a listed unit: e.g. since removed).
    extra: bool = False
    #: How the 签到表 names the unit (a guest's own unit after 临时人员); else the unit's name.
    unit_label: str = ""

    @property
    def on_leave(self) -> bool:
        return self.leave_reason is not None


@dataclass
class Mark:
    """A person's live sign-in to one session."""

    session_id: int
    at: datetime
    method: str
    actor_id: int | None
    late: bool
    seq: int | None


@dataclass
class People:
    people: list[Person]
    #: contact id -> session id -> Mark
    marks: dict[int, dict[int, Mark]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def first_mark(self, person: Person, session_ids: list[int]) -> Mark | None:
        mine = self.marks.get(person.id, {})
        found = [mine[s] for s in session_ids if s in mine]
        return min(found, key=lambda m: m.at) if found else None

    def attended(self, person: Person, session_ids: list[int]) -> bool:
        mine = self.marks.get(person.id)
        return bool(mine) and any(s in mine for s in session_ids)

    def late(self, person: Person, session_ids: list[int]) -> bool:
        mine = self.marks.get(person.id, {})
        return any(mine[s].late for s in session_ids if s in mine)

    def expected(self) -> list[Person]:
        return [p for p in self.people if not p.on_leave and not p.extra]

    def method_label(self, person: Person, mark: Mark) -> str:
        label = METHOD_LABELS.get(mark.method, mark.method)
        if mark.method == SignInMethod.MANUAL and person.guest:
            label = GUEST_LABEL
        if mark.method in (SignInMethod.PROXY, SignInMethod.MANUAL) and mark.actor_id:
            label += f"（{self.names.get(mark.actor_id, '')}）"
        return label


def sort_key(p: Person) -> tuple:
    return (p.unit_id, ROLE_RANK.get(p.role, len(ROLE_RANK)), p.id)


def listed_people(meeting: Meeting, session_ids: list[int]) -> People:
    """Everyone the reports list for ``meeting``, in the 签到表's order, with their live sign-ins
    to ``session_ids`` and the names of the staff who signed anyone in."""
    people: dict[int, Person] = {}
    cols = (Contact.id, Contact.name, Unit.id, Unit.name, Unit.code, Contact.title, Contact.phone)
    guest_units: dict[int, str] = {}
    rows = db.session.execute(
        select(*cols, Invitee.role, Invitee.seat, Invitee.group_name, Contact.department)
        .join(Contact, Contact.id == Invitee.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(Invitee.meeting_id == meeting.id, Invitee.status == "approved", Contact.active.is_(True))
    ).all()
    for cid, name, uid, uname, ucode, title, phone, role, seat, group, department in rows:
        people[cid] = Person(cid, name, uid, uname, ucode, title or "", phone, role or "", seat or "", group or "")
        if ucode == GUEST_UNIT_CODE and department:
            guest_units[cid] = department
    if meeting.admission == Admission.UNITS:
        rows = db.session.execute(
            select(*cols).join(Unit, Unit.id == Contact.unit_id).join(MeetingUnit, MeetingUnit.unit_id == Unit.id)
            .where(MeetingUnit.meeting_id == meeting.id, Contact.active.is_(True))
        ).all()
        for cid, name, uid, uname, ucode, title, phone in rows:
            if cid not in people:
                people[cid] = Person(cid, name, uid, uname, ucode, title or "", phone, InviteeRole.DELEGATE.value,
                                     "", "")
    for leave in db.session.execute(
        select(Leave.contact_id, Leave.reason, Leave.approver, Leave.recorded_by, Leave.created_at)
        .where(Leave.meeting_id == meeting.id)
    ).all():
        p = people.get(leave[0])
        if p is not None:  # a leave of someone no longer listed excuses nobody (the headcount's rule)
            p.leave_reason, p.leave_approver, p.leave_recorded_by, p.leave_at = leave[1], leave[2], leave[3], leave[4]

    marks: dict[int, dict[int, Mark]] = {}
    actors: set[int] = set()
    if session_ids:
        for cid, sid, at, method, actor, late, seq in db.session.execute(
            select(SignIn.contact_id, SignIn.session_id, SignIn.signed_at, SignIn.method, SignIn.actor_contact_id,
                   SignIn.late, SignIn.seq)
            .where(SignIn.meeting_id == meeting.id, SignIn.session_id.in_(session_ids), SignIn.revoked_at.is_(None))
        ):
            marks.setdefault(cid, {})[sid] = Mark(sid, at, method, actor, bool(late), seq)
            if actor:
                actors.add(actor)
    missing = [cid for cid in marks if cid not in people]
    if missing:
        for cid, name, uid, uname, ucode, title, phone in db.session.execute(
            select(*cols).join(Unit, Unit.id == Contact.unit_id).where(Contact.id.in_(missing))
        ):
            people[cid] = Person(cid, name, uid, uname, ucode, title or "", phone, "", "", "", extra=True)
    guests = {int(t[8:]) for t in db.session.scalars(
        select(AuditLog.target).where(AuditLog.meeting_id == meeting.id, AuditLog.action == "door.guest")
    ) if t and t.startswith("contact:") and t[8:].isdigit()}
    for p in people.values():
        p.guest = p.id in guests or p.unit_code == GUEST_UNIT_CODE
        if p.id in guest_units:  # 临时人员（市统计局）: the unit the guest said they came from
            p.unit_label = f"{p.unit}（{guest_units[p.id]}）"
    return People(sorted(people.values(), key=sort_key), marks, contact_names(actors))


def contact_names(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(db.session.execute(select(Contact.id, Contact.name).where(Contact.id.in_(ids))).all())


def local_naive(at: datetime | None) -> datetime | None:
    """A stored UTC time as China time without a zone (what a spreadsheet cell holds)."""
    return local(at).replace(tzinfo=None, microsecond=0) if at is not None else None


def rate(part: int, whole: int) -> float:
    """Percent with one decimal; 0 when nobody is expected."""
    return round(part * 100.0 / whole, 1) if whole else 0.0


def _load(ctx: Context) -> tuple[People, list[int]]:
    session_ids = [s.id for s in ctx.sessions]
    return listed_people(ctx.meeting, session_ids), session_ids


# -- 签到表 ------------------------------------------------------------------------------------------
SIGNIN_SHEET_HEADERS = ["序号", "单位", "姓名", "职务", "身份", "座位", "签到时间", "签到方式", "迟到", "请假"]


def signin_sheet(ctx: Context) -> list[Section]:
    data, session_ids = _load(ctx)
    rows = []
    for i, p in enumerate(data.people, start=1):
        mark = data.first_mark(p, session_ids)
        rows.append([
            i, p.unit_label or p.unit, p.name, p.title, p.role, p.seat,
            local_naive(mark.at) if mark else None,
            data.method_label(p, mark) if mark else "",
            "迟到" if mark and data.late(p, session_ids) else "",
            "请假" if p.on_leave else "",
        ])
    expected = data.expected()
    arrived = sum(1 for p in expected if data.attended(p, session_ids))
    on_leave = sum(1 for p in data.people if p.on_leave)
    facts = [("应到", str(len(expected))), ("实到", str(arrived)), ("请假", str(on_leave)),
             ("缺席", str(len(expected) - arrived)), ("签到率", f"{rate(arrived, len(expected))}%")]
    note = ""
    if ctx.session is None and len(session_ids) > 1:
        note = "多场次会议：签到时间与方式为本人最早一次签到；迟到指任一场次迟到。"
    return [Section("签到表", SIGNIN_SHEET_HEADERS, rows, widths=[4, 14, 7, 12, 5, 5, 9, 10, 4, 4],
                    facts=facts, signature=True, empty_text="（名单为空）", note=note)]


# -- per-unit attendance ---------------------------------------------------------------------------------
UNIT_HEADERS = ["单位", "应到", "实到", "请假", "缺席", "迟到", "签到率(%)"]


def unit_rows(data: People, session_ids: list[int]) -> list[list]:
    units: dict[int, list] = {}
    for p in data.people:
        if p.extra:
            continue
        u = units.setdefault(p.unit_id, [p.unit, 0, 0, 0, 0, 0, 0.0])
        if p.on_leave:
            u[3] += 1
            continue
        u[1] += 1
        if data.attended(p, session_ids):
            u[2] += 1
            if data.late(p, session_ids):
                u[5] += 1
        else:
            u[4] += 1
    rows = []
    for _uid, u in sorted(units.items()):
        u[6] = rate(u[2], u[1])
        rows.append(u)
    return rows


def per_unit(ctx: Context) -> list[Section]:
    data, session_ids = _load(ctx)
    rows = unit_rows(data, session_ids)
    total = ["合计", *(sum(r[i] for r in rows) for i in range(1, 6))]
    total.append(rate(total[2], total[1]))
    chart = None
    if rows:
        chart = Chart("bar", "各单位签到率（%）", [r[0] for r in rows], [("签到率", [r[6] for r in rows])],
                      max_value=100)
    return [Section("各单位出席情况", UNIT_HEADERS, [*rows, total] if rows else [], widths=[20, 6, 6, 6, 6, 6, 8],
                    chart=chart, note="应到不含请假人员；缺席 = 应到 − 实到；签到率 = 实到 ÷ 应到。")]


# -- absent and late ---------------------------------------------------------------------------------------
def absent(ctx: Context) -> list[Section]:
    data, session_ids = _load(ctx)
    rows = [[i, p.unit, p.name, p.title, p.role, p.phone]
            for i, p in enumerate((p for p in data.expected() if not data.attended(p, session_ids)), start=1)]
    return [Section("缺席人员名单", ["序号", "单位", "姓名", "职务", "身份", "联系电话"], rows,
                    widths=[4, 18, 8, 14, 6, 10], facts=[("缺席", str(len(rows)))], empty_text="（无缺席人员）",
                    note="不含请假人员（见请假名单）。")]


def late(ctx: Context) -> list[Section]:
    data, session_ids = _load(ctx)
    by_id = {s.id: s for s in ctx.sessions}
    rows = []
    for p in data.people:
        for sid in session_ids:
            mark = data.marks.get(p.id, {}).get(sid)
            if mark is None or not mark.late:
                continue
            minutes = int((mark.at - by_id[sid].starts_at).total_seconds() // 60)
            rows.append([len(rows) + 1, p.unit, p.name, p.title, p.phone, by_id[sid].position,
                         local_naive(mark.at), minutes, data.method_label(p, mark)])
    return [Section("迟到人员名单", ["序号", "单位", "姓名", "职务", "联系电话", "场次", "签到时间", "迟到(分钟)", "签到方式"],
                    rows, widths=[4, 16, 7, 12, 10, 4, 10, 6, 10], facts=[("迟到", str(len(rows)))],
                    empty_text="（无迟到人员）",
                    note=f"迟到：晚于场次开始时间 {ctx.meeting.late_after_minutes or 0} 分钟后签到（会议设置）。")]


# -- leave -------------------------------------------------------------------------------------------------
def leave(ctx: Context) -> list[Section]:
    data, _session_ids = _load(ctx)
    recorders = {int(r[8:]) for p in data.people if p.on_leave and (r := p.leave_recorded_by or "").startswith("contact:")
                 and r[8:].isdigit()}
    names = contact_names(recorders)

    def recorder(ref: str | None) -> str:
        if ref and ref.startswith("contact:") and ref[8:].isdigit():
            return names.get(int(ref[8:]), ref)
        return {"cli": "命令行", "system": "系统"}.get(ref or "", ref or "")

    rows = [[i, p.unit, p.name, p.title, p.phone, p.leave_reason, p.leave_approver, recorder(p.leave_recorded_by),
             local_naive(p.leave_at)]
            for i, p in enumerate((p for p in data.people if p.on_leave), start=1)]
    return [Section("请假人员名单", ["序号", "单位", "姓名", "职务", "联系电话", "请假事由", "批准人", "登记人", "登记时间"],
                    rows, widths=[4, 14, 7, 10, 10, 16, 7, 7, 10], facts=[("请假", str(len(rows)))],
                    empty_text="（无请假人员）")]


# -- binding readiness -------------------------------------------------------------------------------------
def binding(ctx: Context) -> list[Section]:
    data, _session_ids = _load(ctx)
    listed = [p for p in data.people if not p.extra]
    ids = [p.id for p in listed]
    bound: set[int] = set()
    for start in range(0, len(ids), 5000):
        bound.update(db.session.scalars(
            select(WechatIdentity.contact_id).where(WechatIdentity.contact_id.in_(ids[start:start + 5000]))))
    units: dict[int, list] = {}
    for p in listed:
        u = units.setdefault(p.unit_id, [p.unit, 0, 0, 0, 0.0])
        u[1] += 1
        u[2 if p.id in bound else 3] += 1
    unit_table = []
    for _uid, u in sorted(units.items()):
        u[4] = rate(u[2], u[1])
        unit_table.append(u)
    people = [[i, p.unit, p.name, p.title, p.phone, "请假" if p.on_leave else ""]
              for i, p in enumerate((p for p in listed if p.id not in bound), start=1)]
    total = len(listed)
    facts = [("名单人数", str(total)), ("已绑定微信", str(total - len(people))), ("未绑定", str(len(people))),
             ("绑定率", f"{rate(total - len(people), total)}%")]
    return [Section("各单位微信绑定情况", ["单位", "名单人数", "已绑定", "未绑定", "绑定率(%)"], unit_table,
                    widths=[20, 7, 7, 7, 8], facts=facts),
            Section("未绑定微信人员", ["序号", "单位", "姓名", "职务", "联系电话", "备注"], people,
                    widths=[4, 18, 8, 14, 10, 5], empty_text="（全部已绑定）",
                    note="未绑定的人员首次扫码时需填写单位、姓名和手机号；会前请各单位提醒其扫码绑定。")]
