"""A meeting's invitee list (参会人员) as organizers manage it: add by unit, by directory search, by a
pasted list or a spreadsheet; remove; set role, group, seat and note; filter and page through it.

Every write is one or two bulk statements whatever the number of people (a 2,000-person unit, a
10,000-row spreadsheet), is audited once, and drops the cached headcount roster of each session of
the meeting after the commit, so 应到 on the live page follows the list at once.

Adding someone who is already on the list never changes their status: a walk-in waiting for
approval (``pending``) or refused at the door (``rejected``) is decided on the door page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite

from app import jobs
from app.extensions import db, get_redis
from app.services import audit, held_imports, storage
from app.services.contacts.importer import INLINE_APPLY_ROWS
from app.services.contacts.phones import normalize_name, normalize_phone
from app.services.contacts.reader import read_directory
from app.services.contacts.reader.table import header_key
from app.services.contacts.units import unit_matches
from app.services.errors import DomainError
from app.services.live import headcount
from app.services.signin.rules import get_session
from app.tx import on_commit
from models import (
    Contact,
    Invitee,
    InviteeRole,
    Leave,
    Meeting,
    MeetingSession,
    SignIn,
    Unit,
    WechatIdentity,
)

PAGE_SIZE = 50
SEARCH_LIMIT = 20
#: A directory search by phone needs this many digits: fewer would list half the directory.
PHONE_SEARCH_DIGITS = 4
#: The held check's Redis key says invitee (see held_imports).
HELD_KIND = "invitee"
#: How long the add-by-unit panel's directory counts are kept (see directory_units).
UNITS_CACHE_S = 60
#: How long the filters' unit and group counts are kept (see filter_options).
OPTIONS_CACHE_S = 10
#: Rows of each kind the import report page lists (the counts are always complete).
REPORT_LIMIT = 500
ROLES = tuple(r.value for r in InviteeRole)
#: Column lengths, checked before the database would refuse the whole statement.
MAX_LEN = {"group_name": 64, "seat": 32, "note": 200}
FIELD_LABELS = {"role": "身份", "group_name": "分组", "seat": "座位", "note": "备注"}
NO_GROUP = "-"  # the group filter's value for "not in any group"

STATUS_LABELS = {
    "all": "全部", "signed": "已签到", "unsigned": "未签到", "unbound": "未绑定微信", "leave": "请假",
    "pending": "待审核", "rejected": "已拒绝",
}

#: The spreadsheet's own columns, besides what the directory reader knows (单位, 姓名, 手机 …).
IMPORT_COLUMNS: dict[str, frozenset[str]] = {
    "role": frozenset({"身份", "参会身份", "人员身份", "类别", "人员类别", "参会类别", "角色"}),
    "group_name": frozenset({"分组", "组别", "小组", "代表团", "所属代表团", "分组名称"}),
    "seat": frozenset({"座位", "座位号", "座次", "席位", "席位号", "座号"}),
    "note": frozenset({"备注", "说明", "备注说明"}),
}


class InviteeError(DomainError):
    messages = {
        "role_invalid": "参会身份不正确：{role}（可选：领导、代表、列席、工作人员、媒体）",
        "status_invalid": "筛选条件不正确：{value}",
        "too_long": "{label}太长（最多 {limit} 个字）",
        "nothing_selected": "请先选择人员",
        "nothing_to_add": "没有可添加的人员",
        "nothing_to_change": "请至少填写一项要修改的内容",
        "unit_not_found": "找不到所选单位",
        "contact_not_found": "通讯录中找不到该人员（可能已停用）",
        "not_invited": "以下手机号不在本次会议名单中：{phones}",
        "paste_empty": "请粘贴名单，每行一人",
        "paste_unresolved": "名单中有 {count} 行无法确定是谁，请修改后再添加，或选择只添加可识别的人员",
        "paste_too_long": "一次最多粘贴 {limit} 行",
        "import_expired": "检查结果已过期或已导入，请重新上传文件",
        "nothing_to_import": "文件中没有可导入的行，名单未作更改",
    }
    statuses = {"contact_not_found": 404, "unit_not_found": 404, "import_expired": 409,
                "nothing_to_import": 422}


# -- reading the list ------------------------------------------------------------------------------

@dataclass
class InviteeRow:
    id: int
    contact_id: int
    name: str
    phone: str
    unit: str
    role: str
    group_name: str | None
    seat: str | None
    note: str | None
    status: str
    signed_at: datetime | None
    late: bool
    bound: bool
    leave: str | None  # the leave's reason, None when not on leave


@dataclass
class Filters:
    q: str = ""
    unit_id: int | None = None
    role: str | None = None
    group: str | None = None  # a group name, or NO_GROUP
    status: str = "all"

    def __post_init__(self) -> None:
        self.q = (self.q or "").strip()[:64]
        if self.status not in STATUS_LABELS:
            raise InviteeError("status_invalid", value=self.status)
        if self.role and self.role not in ROLES:
            raise InviteeError("role_invalid", role=self.role)

    def active(self) -> bool:
        return bool(self.q or self.unit_id or self.role or self.group)


@dataclass
class InviteePage:
    rows: list[InviteeRow]
    page: int
    pages: int
    total: int  # rows matching every filter, the status one included
    counts: dict[str, int]  # per status, under the other filters
    session: MeetingSession


def _outer(stmt: sa.Select, session: MeetingSession) -> sa.Select:
    """The status joins. Each meets at most one row per invitee (the unique live sign-in per session
    and contact, one WeChat per contact, one leave per meeting and contact): rows never multiply."""
    return (
        stmt.outerjoin(SignIn, and_(SignIn.session_id == session.id, SignIn.contact_id == Invitee.contact_id,
                                    SignIn.revoked_at.is_(None)))
        .outerjoin(WechatIdentity, WechatIdentity.contact_id == Invitee.contact_id)
        .outerjoin(Leave, and_(Leave.meeting_id == Invitee.meeting_id, Leave.contact_id == Invitee.contact_id))
    )


def _with_people(stmt: sa.Select) -> sa.Select:
    return stmt.join(Contact, Contact.id == Invitee.contact_id).join(Unit, Unit.id == Contact.unit_id)


#: Each status as a condition on the status joins (for counting them all in one pass) …
_STATUS_JOINED = {
    "all": sa.true(),
    "signed": SignIn.id.is_not(None),
    "unsigned": and_(Invitee.status == "approved", SignIn.id.is_(None), Leave.id.is_(None)),
    "unbound": WechatIdentity.id.is_(None),
    "leave": Leave.id.is_not(None),
    "pending": Invitee.status == "pending",
    "rejected": Invitee.status == "rejected",
}


def _status_exists(status: str, session: MeetingSession) -> Any:
    """… and as (NOT) EXISTS, for picking a page: PostgreSQL runs these as semi- and anti-joins."""
    signed = sa.exists().where(SignIn.session_id == session.id, SignIn.contact_id == Invitee.contact_id,
                               SignIn.revoked_at.is_(None))
    bound = sa.exists().where(WechatIdentity.contact_id == Invitee.contact_id)
    leave = sa.exists().where(Leave.meeting_id == Invitee.meeting_id, Leave.contact_id == Invitee.contact_id)
    return {"all": sa.true(), "signed": signed, "unsigned": and_(Invitee.status == "approved", ~signed, ~leave),
            "unbound": ~bound, "leave": leave, "pending": Invitee.status == "pending",
            "rejected": Invitee.status == "rejected"}[status]


def _text_match(column: Any, text: str) -> Any:
    """``column`` contains ``text``, ignoring case only when there is case to ignore: ILIKE costs
    PostgreSQL a lower() of every row, several times LIKE on 10,000 Chinese names."""
    if any("a" <= ch.lower() <= "z" for ch in text):
        return column.icontains(text, autoescape=True)
    return column.contains(text, autoescape=True)


def _filter_where(f: Filters) -> list[Any]:
    where: list[Any] = []
    if f.q:
        digits = re.sub(r"\D", "", f.q)
        if digits and len(digits) == len(f.q.replace(" ", "")):
            where.append(Contact.phone.contains(digits, autoescape=True))
        else:
            where.append(or_(_text_match(Contact.name, f.q), _text_match(Unit.name, f.q)))
    if f.unit_id:
        where.append(Contact.unit_id == f.unit_id)
    if f.role:
        where.append(Invitee.role == f.role)
    if f.group == NO_GROUP:
        where.append(Invitee.group_name.is_(None))
    elif f.group:
        where.append(Invitee.group_name == f.group)
    return where


def list_invitees(meeting: Meeting, filters: Filters | None = None, *, page: int = 1,
                  session: MeetingSession | None = None, per_page: int = PAGE_SIZE) -> InviteePage:
    """One page of the list and the count of each status under the other filters.

    Three queries, each sized for a 10,000-person meeting: the counts (one pass with the status
    joins; the directory joined only when a filter needs it), the page's ids (sorted by unit and
    name, the status as EXISTS), and the details of those 50 rows only.
    Signed in means a live sign-in to ``session`` (default: the meeting's current session).
    """
    f = filters or Filters()
    session = session or get_session(meeting)
    where = _filter_where(f)
    counted = _outer(select(*[func.count().filter(cond).label(key) for key, cond in _STATUS_JOINED.items()])
                     .select_from(Invitee), session)
    if f.q or f.unit_id:
        counted = _with_people(counted)
    counts = dict(db.session.execute(counted.where(Invitee.meeting_id == meeting.id, *where)).one()._mapping)
    total = counts[f.status]
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    ids = list(db.session.scalars(
        _with_people(select(Invitee.id).select_from(Invitee))
        .where(Invitee.meeting_id == meeting.id, *where, _status_exists(f.status, session))
        .order_by(Unit.name, Contact.name, Invitee.id).limit(per_page).offset((page - 1) * per_page)))
    rows = []
    if ids:
        details = db.session.execute(_outer(_with_people(
            select(Invitee.id, Invitee.contact_id, Contact.name, Contact.phone, Unit.name, Invitee.role,
                   Invitee.group_name, Invitee.seat, Invitee.note, Invitee.status, SignIn.signed_at, SignIn.late,
                   WechatIdentity.id.is_not(None), Leave.reason).select_from(Invitee)), session)
            .where(Invitee.id.in_(ids)))
        by_id = {r[0]: InviteeRow(*r) for r in details}
        rows = [by_id[i] for i in ids if i in by_id]
    for row in rows:
        row.late = bool(row.late)
    return InviteePage(rows=rows, page=page, pages=pages, total=total, counts=counts, session=session)


def filter_options(meeting: Meeting) -> dict[str, Any]:
    """The units and groups the list can be filtered by, with how many invitees each has.

    One grouped pass over the list, kept in Redis for ``OPTIONS_CACHE_S`` like the headcount's
    roster and dropped after every change made here; the status counts are always live."""
    key = _options_key(meeting.id)
    cached = get_redis().get(key)
    if cached is not None:
        return json.loads(cached)
    pairs = db.session.execute(
        select(Contact.unit_id, Invitee.group_name, func.count()).select_from(Invitee)
        .join(Contact, Contact.id == Invitee.contact_id).where(Invitee.meeting_id == meeting.id)
        .group_by(Contact.unit_id, Invitee.group_name)
    ).all()
    per_unit: dict[int, int] = {}
    per_group: dict[str | None, int] = {}
    for unit_id, group, n in pairs:
        per_unit[unit_id] = per_unit.get(unit_id, 0) + n
        per_group[group] = per_group.get(group, 0) + n
    names = dict(db.session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(per_unit))).all()) if per_unit else {}
    options = {"units": sorted(({"id": i, "name": names.get(i, ""), "count": n} for i, n in per_unit.items()),
                               key=lambda u: (u["name"], u["id"])),
               "groups": [{"name": g, "count": per_group[g]} for g in sorted(g for g in per_group if g)],
               "ungrouped": per_group.get(None, 0)}
    get_redis().set(key, json.dumps(options, ensure_ascii=False), ex=OPTIONS_CACHE_S)
    return options


def _options_key(meeting_id: int) -> str:
    return f"huiyi:invitees:options:{meeting_id}"


def mask_phone(phone: str | None) -> str:
    """13800138000 -> 138****8000; a landline keeps its area code and last four digits."""
    phone = phone or ""
    if len(phone) == 11 and phone.isdigit():
        return f"{phone[:3]}****{phone[-4:]}"
    if len(phone) > 4:
        head = phone.split("-", 1)[0] + "-" if "-" in phone else ""
        return f"{head}****{phone[-4:]}"
    return "****"


# -- the directory, for picking people -------------------------------------------------------------

def search_directory(meeting: Meeting, q: str, *, limit: int = SEARCH_LIMIT) -> list[dict[str, Any]]:
    """Active contacts whose name or unit contains ``q``, or whose phone contains its digits (at
    least ``PHONE_SEARCH_DIGITS``); phones masked. Exact names first."""
    q = (q or "").strip()[:64]
    if not q:
        return []
    digits = re.sub(r"\D", "", q)
    if digits and len(digits) == len(q.replace(" ", "")):
        if len(digits) < PHONE_SEARCH_DIGITS:
            return []
        cond = Contact.phone.contains(digits, autoescape=True)
    else:
        name = normalize_name(q) or q
        cond = or_(_text_match(Contact.name, name), _text_match(Unit.name, q))
    rows = db.session.execute(
        select(Contact.id, Contact.name, Contact.phone, Unit.name, Invitee.id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, and_(Invitee.meeting_id == meeting.id, Invitee.contact_id == Contact.id))
        .where(Contact.active.is_(True), cond)
        .order_by((Contact.name != q), Unit.name, Contact.name, Contact.id).limit(max(1, min(limit, SEARCH_LIMIT)))
    ).all()
    return [{"id": cid, "name": name, "unit": unit, "phone": mask_phone(phone), "invited": inv is not None}
            for cid, name, phone, unit, inv in rows]


def directory_units(meeting: Meeting) -> list[dict[str, Any]]:
    """Every unit with active people, how many, and how many of them are already invited.

    Counting the whole directory costs more than the rest of the invitees page, so the answer is
    kept in Redis for ``UNITS_CACHE_S`` and dropped whenever this meeting's list changes (a unit
    office's import shows up within that time)."""
    key = _units_key(meeting.id)
    cached = get_redis().get(key)
    if cached is not None:
        return json.loads(cached)
    units = _directory_units(meeting)
    get_redis().set(key, json.dumps(units, ensure_ascii=False), ex=UNITS_CACHE_S)
    return units


def _units_key(meeting_id: int) -> str:
    return f"huiyi:invitees:units:{meeting_id}"


def _directory_units(meeting: Meeting) -> list[dict[str, Any]]:
    invited = (select(Contact.unit_id, func.count().label("n")).select_from(Invitee)
               .join(Contact, Contact.id == Invitee.contact_id).where(Invitee.meeting_id == meeting.id)
               .group_by(Contact.unit_id).subquery())
    rows = db.session.execute(
        select(Unit.id, Unit.code, Unit.name, func.count(Contact.id), func.coalesce(func.max(invited.c.n), 0))
        .join(Contact, and_(Contact.unit_id == Unit.id, Contact.active.is_(True)))
        .outerjoin(invited, invited.c.unit_id == Unit.id)
        .group_by(Unit.id, Unit.code, Unit.name).order_by(Unit.name)
    ).all()
    return [{"id": i, "code": c, "name": n, "people": p, "invited": v} for i, c, n, p, v in rows]


# -- adding ----------------------------------------------------------------------------------------

def _check_fields(role: str | None = None, **values: str | None) -> None:
    if role is not None and role not in ROLES:
        raise InviteeError("role_invalid", role=role)
    for key, value in values.items():
        if value is not None and len(value) > MAX_LEN[key]:
            raise InviteeError("too_long", label=FIELD_LABELS[key], limit=MAX_LEN[key])


def _clean(value: object) -> str | None:
    value = ("" if value is None else str(value)).strip()
    return value or None


def _int_set(values: Iterable[object]) -> list[int]:
    """The integers among ``values`` (ids from a form or JSON), sorted, each once."""
    out = set()
    for value in values:
        try:
            out.add(int(value))  # type: ignore[call-overload]
        except (TypeError, ValueError):
            continue
    return sorted(out)


def _insert_invitees(meeting: Meeting, contacts: sa.Select, *, role: str, group_name: str | None,
                     seat: str | None = None, note: str | None = None) -> list[int]:
    """INSERT … SELECT the contacts ``contacts`` selects (their ids) as approved invitees; those
    already on the list are left as they are. One statement; returns the contact ids added."""
    table = Invitee.__table__
    source = contacts.subquery()
    values = select(sa.literal(meeting.id), source.c.id, sa.literal(role, sa.String),
                    sa.literal(group_name, sa.String), sa.literal(seat, sa.String), sa.literal(note, sa.String),
                    sa.literal("approved", sa.String)).where(sa.true())
    insert = (postgresql.insert if _is_postgres() else sqlite.insert)(table)
    # created_at: the column's server default (now) on both databases.
    stmt = (insert.from_select(["meeting_id", "contact_id", "role", "group_name", "seat", "note", "status"], values)
            .on_conflict_do_nothing(index_elements=["meeting_id", "contact_id"]).returning(table.c.contact_id))
    return list(db.session.scalars(stmt))


def _changed(meeting: Meeting) -> None:
    """After the commit, drop each session's cached roster so 应到 follows the list at once (and
    the unit counts the add-by-unit panel shows)."""
    meeting_id = meeting.id
    on_commit(lambda: get_redis().delete(_units_key(meeting_id), _options_key(meeting_id)))
    for session_id in db.session.scalars(select(MeetingSession.id).where(MeetingSession.meeting_id == meeting.id)):
        on_commit(lambda sid=session_id: headcount.forget_roster(sid))


def invite_units(meeting: Meeting, unit_ids: Iterable[int], *, actor: str, role: str = InviteeRole.DELEGATE,
                 group_name: str | None = None) -> dict[str, int]:
    """Invite every active person of these units: one statement for all of them."""
    unit_ids = _int_set(unit_ids)
    group_name = _clean(group_name)
    _check_fields(role, group_name=group_name)
    if not unit_ids:
        raise InviteeError("nothing_selected")
    units = db.session.execute(select(Unit.id, Unit.code).where(Unit.id.in_(unit_ids))).all()
    if len(units) != len(unit_ids):
        raise InviteeError("unit_not_found")
    people = select(Contact.id).where(Contact.unit_id.in_(unit_ids), Contact.active.is_(True))
    total = db.session.scalar(select(func.count()).select_from(people.subquery())) or 0
    added = _insert_invitees(meeting, people, role=role, group_name=group_name)
    audit.record(actor, "meeting.invite", meeting_id=meeting.id,
                 target=f"unit:{units[0][0]}" if len(units) == 1 else f"units:{len(units)}",
                 units=sorted(code for _id, code in units), role=role, group=group_name, added=len(added),
                 contact_ids=added[:2000])
    _changed(meeting)
    return {"added": len(added), "already": total - len(added)}


def invite_contacts(meeting: Meeting, contact_ids: Iterable[int], *, actor: str,
                    role: str = InviteeRole.DELEGATE, group_name: str | None = None, seat: str | None = None,
                    note: str | None = None) -> dict[str, int]:
    """Invite these directory people (active ones only): one statement.

    :raise InviteeError: ``nothing_selected``; ``contact_not_found`` when none of them is active.
    """
    ids = _int_set(contact_ids)
    group_name, seat, note = _clean(group_name), _clean(seat), _clean(note)
    _check_fields(role, group_name=group_name, seat=seat, note=note)
    if not ids:
        raise InviteeError("nothing_selected")
    found = db.session.scalar(select(func.count()).where(Contact.id.in_(ids), Contact.active.is_(True))) or 0
    if not found:
        raise InviteeError("contact_not_found")
    added = _insert_invitees(meeting, select(Contact.id).where(Contact.id.in_(ids), Contact.active.is_(True)),
                             role=role, group_name=group_name, seat=seat, note=note)
    if added:
        target = f"contact:{added[0]}" if len(added) == 1 else f"contacts:{len(added)}"
        audit.record(actor, "meeting.invite", meeting_id=meeting.id, target=target, role=role,
                     group=group_name, contact_ids=added[:2000])
    _changed(meeting)
    return {"added": len(added), "already": found - len(added), "inactive": len(ids) - found}


def contacts_by_phone(raw_phones: Sequence[str]) -> tuple[dict[str, int], list[str]]:
    """{typed phone: active contact id} and the typed phones that are invalid or unknown."""
    normal = {raw: normalize_phone(raw) for raw in raw_phones}
    numbers = {r.number for r in normal.values() if r.ok}
    found: dict[str, int] = {}
    if numbers:
        found = {phone: cid for cid, phone in db.session.execute(
            select(Contact.id, Contact.phone).where(Contact.phone.in_(sorted(numbers)), Contact.active.is_(True))
            .order_by(Contact.id))}
    ok = {raw: found[r.number] for raw, r in normal.items() if r.ok and r.number in found}
    return ok, [raw for raw in raw_phones if raw not in ok]


def total(meeting: Meeting) -> int:
    return db.session.scalar(select(func.count()).select_from(Invitee).where(Invitee.meeting_id == meeting.id)) or 0


# -- a pasted list ---------------------------------------------------------------------------------

PASTE_MAX_LINES = 5000
_SPLIT_RE = re.compile(r"[\s,，;；、|]+")


@dataclass
class PasteLine:
    line: int
    text: str
    state: str  # ok | ambiguous | not_found | invalid | mismatch
    contact: dict[str, Any] | None = None  # {id, name, unit, phone (masked)} when ok
    candidates: list[dict[str, Any]] = field(default_factory=list)  # when ambiguous (or found elsewhere)
    message: str = ""


@dataclass
class PasteResult:
    lines: list[PasteLine]

    @property
    def resolved(self) -> list[PasteLine]:
        return [x for x in self.lines if x.state == "ok"]

    @property
    def unresolved(self) -> list[PasteLine]:
        return [x for x in self.lines if x.state != "ok"]

    @property
    def contact_ids(self) -> list[int]:
        return list(dict.fromkeys(x.contact["id"] for x in self.resolved))

    def to_dict(self) -> dict[str, Any]:
        return {"resolved": len(self.resolved), "unresolved": len(self.unresolved),
                "lines": [asdict(x) for x in self.lines]}


def _person(cid: int, name: str, unit: str, phone: str, invited: bool = False) -> dict[str, Any]:
    return {"id": cid, "name": name, "unit": unit, "phone": mask_phone(phone), "invited": invited}


_PHONE_RUN_RE = re.compile(r"\+?\d[\d\s()\-]{5,}\d")


def _parse_line(line: str) -> tuple[str | None, str | None, list[str]]:
    """(phone, why the phone is invalid, the other words) of a pasted line. A phone may be typed
    with spaces or dashes ("138 0013 8000"), so it is found as a run of digits before splitting."""
    phone = bad = None
    match = _PHONE_RUN_RE.search(line)
    if match and len(re.sub(r"\D", "", match.group())) >= 7:
        result = normalize_phone(match.group())
        phone, bad = (result.number, None) if result.ok else (None, result.detail or match.group())
        line = f"{line[:match.start()]} {line[match.end():]}"
    return phone, bad, [t for t in _SPLIT_RE.split(line) if t]


def _agrees(row, words: list[str]) -> bool:
    """Whether the words typed beside a phone fit its owner: none, their name, or their unit."""
    if not words:
        return True
    if any(normalize_name(w) == row[1] for w in words):
        return True
    return unit_matches(row[3], "".join(words))


def resolve_paste(meeting: Meeting, text: str) -> PasteResult:
    """Who each pasted line names. A line is a phone, a name, or a unit then a name ("区委办 张三");
    a phone and a name together must agree. Phones resolve exactly; a name that matches several
    people, or nobody, is reported with its candidates and never guessed. Two queries in all."""
    raw_lines = [(i, line.strip()) for i, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    if not raw_lines:
        raise InviteeError("paste_empty")
    if len(raw_lines) > PASTE_MAX_LINES:
        raise InviteeError("paste_too_long", limit=PASTE_MAX_LINES)
    parsed = [(number, line, *_parse_line(line)) for number, line in raw_lines]
    phones = {p[2] for p in parsed if p[2]}
    names = {normalize_name(p[4][-1]) for p in parsed if p[4]}
    people = db.session.execute(
        select(Contact.id, Contact.name, Contact.phone, Unit, Invitee.id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, and_(Invitee.meeting_id == meeting.id, Invitee.contact_id == Contact.id))
        .where(Contact.active.is_(True), or_(Contact.phone.in_(sorted(phones)), Contact.name.in_(sorted(names))))
        .order_by(Unit.name, Contact.id)
    ).all()
    by_phone: dict[str, list] = {}
    by_name: dict[str, list] = {}
    for row in people:
        by_phone.setdefault(row[2], []).append(row)
        by_name.setdefault(row[1], []).append(row)

    def person(row) -> dict[str, Any]:
        return _person(row[0], row[1], row[3].name, row[2], row[4] is not None)

    out = []
    for number, line, phone, bad_phone, words in parsed:
        item = PasteLine(number, line, "ok")
        name = normalize_name(words[-1]) if words else ""
        unit_text = "".join(words[:-1])
        if phone:
            matches = by_phone.get(phone, [])
            if not matches:
                item.state, item.message = "not_found", f"通讯录中找不到手机号 {phone}"
            elif len(matches) > 1:
                item.state, item.message = "ambiguous", "该手机号对应多人，请在下方选择"
                item.candidates = [person(r) for r in matches]
            elif not _agrees(matches[0], words):
                item.state = "mismatch"
                item.message = f"手机号 {phone} 在通讯录中是“{matches[0][1]}”，与填写的“{name}”不符"
                item.candidates = [person(matches[0])]
            else:
                item.contact = person(matches[0])
        elif bad_phone:
            item.state, item.message = "invalid", f"手机号格式不正确：{bad_phone}"
        elif not name:
            item.state, item.message = "invalid", "无法识别，请填写手机号或姓名"
        else:
            matches = by_name.get(name, [])
            in_unit = [r for r in matches if unit_matches(r[3], unit_text)] if unit_text else matches
            if len(in_unit) == 1:
                item.contact = person(in_unit[0])
            elif not matches:
                item.state, item.message = "not_found", f"通讯录中没有“{name}”"
            elif not in_unit:
                item.state, item.message = "not_found", f"“{unit_text}”中没有“{name}”，其他单位有同名人员"
                item.candidates = [person(r) for r in matches]
            else:
                item.state = "ambiguous"
                item.message = f"通讯录中有 {len(in_unit)} 位“{name}”，请写上单位或手机号，或在下方选择"
                item.candidates = [person(r) for r in in_unit]
        out.append(item)
    return PasteResult(out)


def invite_pasted(meeting: Meeting, text: str, *, actor: str, partial: bool = False,
                  role: str = InviteeRole.DELEGATE, group_name: str | None = None) -> dict[str, Any]:
    """Invite the people a pasted list names. Nothing is added while a line is unresolved unless
    ``partial`` (the organizer chose "only the ones that resolve").

    :raise InviteeError: ``paste_unresolved`` (with nothing written), ``nothing_to_add``.
    """
    result = resolve_paste(meeting, text)
    if result.unresolved and not partial:
        raise InviteeError("paste_unresolved", count=len(result.unresolved))
    if not result.contact_ids:
        raise InviteeError("nothing_to_add")
    outcome = invite_contacts(meeting, result.contact_ids, actor=actor, role=role, group_name=group_name)
    return {**outcome, "skipped": len(result.unresolved)}


# -- removing and changing -------------------------------------------------------------------------

def _ids(invitee_ids: Iterable[int | str]) -> list[int]:
    out = _int_set(invitee_ids)
    if not out:
        raise InviteeError("nothing_selected")
    return out


def remove_invitees(meeting: Meeting, invitee_ids: Iterable[int | str], *, actor: str) -> int:
    """Take these people off the list. Their sign-in records stay (they are the record of who
    came); they simply no longer count in 应到. Returns how many were removed."""
    ids = _ids(invitee_ids)
    table = Invitee.__table__
    removed = db.session.scalars(
        sa.delete(table).where(table.c.meeting_id == meeting.id, table.c.id.in_(ids)).returning(table.c.contact_id)
    ).all()
    if removed:
        target = f"contact:{removed[0]}" if len(removed) == 1 else f"contacts:{len(removed)}"
        audit.record(actor, "meeting.uninvite", meeting_id=meeting.id, target=target, removed=len(removed),
                     contact_ids=list(removed[:2000]))
        _forget_objects()
        _changed(meeting)
    return len(removed)


def remove_by_phone(meeting: Meeting, phones: Sequence[str], *, actor: str) -> int:
    """The CLI's removal: every phone must be on the list, or nothing is removed."""
    found, unknown = contacts_by_phone(phones)
    invited = dict(db.session.execute(
        select(Invitee.contact_id, Invitee.id).where(Invitee.meeting_id == meeting.id,
                                                     Invitee.contact_id.in_(set(found.values())))).all())
    missing = unknown + [raw for raw, cid in found.items() if cid not in invited]
    if missing:
        raise InviteeError("not_invited", phones="、".join(missing))
    return remove_invitees(meeting, [invited[cid] for cid in found.values()], actor=actor)


_UNSET: Any = object()


def update_invitees(meeting: Meeting, invitee_ids: Iterable[int | str], *, actor: str, role: Any = _UNSET,
                    group_name: Any = _UNSET, seat: Any = _UNSET, note: Any = _UNSET) -> int:
    """Set role, group, seat and/or note on these invitees (one statement). A field left out is
    not touched; an empty text clears it. Returns how many rows changed."""
    ids = _ids(invitee_ids)
    values: dict[str, Any] = {}
    if role is not _UNSET:
        values["role"] = role
    for key, value in (("group_name", group_name), ("seat", seat), ("note", note)):
        if value is not _UNSET:
            values[key] = _clean(value)
    if not values:
        raise InviteeError("nothing_to_change")
    if "role" in values and values["role"] not in ROLES:
        raise InviteeError("role_invalid", role=values["role"])
    _check_fields(**{k: v for k, v in values.items() if k != "role"})
    table = Invitee.__table__
    changed = db.session.execute(
        sa.update(table).where(table.c.meeting_id == meeting.id, table.c.id.in_(ids)).values(**values)
    ).rowcount or 0
    if changed:
        audit.record(actor, "invitee.update", meeting_id=meeting.id,
                     target=f"invitee:{ids[0]}" if len(ids) == 1 else f"invitees:{changed}",
                     invitee_ids=ids[:2000], **values)
        _forget_objects()
        _changed(meeting)  # the live page counts per group, from the roster
    return changed


def _forget_objects() -> None:
    """Invitees loaded in this session are stale after a bulk statement."""
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Invitee):
            db.session.expire(obj)


# -- a spreadsheet ---------------------------------------------------------------------------------

@dataclass
class ImportPlan:
    """What importing a spreadsheet does to a meeting's list: checked first, applied on confirmation.

    ``rows``: the accepted rows, [row, contact_id, role, group, seat, note] (None = keep as is).
    """

    file_name: str
    rows_total: int
    rows: list[list[Any]] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {row, code, message}
    added: list[dict[str, Any]] = field(default_factory=list)  # {row, name, unit, phone, role, group…}
    updated: list[dict[str, Any]] = field(default_factory=list)  # {row, name, unit, phone, changes}
    unchanged: int = 0
    columns: list[str] = field(default_factory=list)  # the file's columns we used, as written
    token: str | None = None
    skipped: list[dict[str, Any]] = field(default_factory=list)  # {row, code, message}: the template's example

    def summary(self) -> dict[str, Any]:
        return {"ok": len(self.rows), "added": len(self.added), "updated": len(self.updated),
                "unchanged": self.unchanged, "rejected": self.rejected, "rows_total": self.rows_total,
                "file": self.file_name}


IMPORT_ROW_MESSAGES = {
    "contact_not_found": "通讯录中找不到手机号 {phone}，请先由所在单位更新通讯录",
    "contact_inactive": "手机号 {phone} 的人员已从通讯录停用",
    "name_mismatch": "手机号 {phone} 在通讯录中是“{found}”，与表中姓名“{name}”不符",
    "role_invalid": "身份“{role}”不正确（可选：领导、代表、列席、工作人员、媒体）",
    "too_long": "{label}太长（最多 {limit} 个字）",
}


def _reject(plan: ImportPlan, row: int, code: str, message: str | None = None, **params: Any) -> None:
    plan.rejected.append({"row": row, "code": code,
                          "message": message or IMPORT_ROW_MESSAGES[code].format(**params)})


def _extra_fields(labels: Iterable[str]) -> dict[str, str]:
    """Field -> the header text of its column, for the columns the directory reader left as extras."""
    out: dict[str, str] = {}
    for label in labels:
        key = header_key(label)
        for name, words in IMPORT_COLUMNS.items():
            if key in words and name not in out:
                out[name] = label
    return out


def check_import(meeting: Meeting, data: bytes, filename: str, *, progress: bool = False) -> ImportPlan:
    """Read the spreadsheet and say row by row what importing it would do. Writes nothing.

    The file is read by the directory reader, with the same defences (size, zip bombs, row and
    column limits, encodings). Each row is matched to the directory by phone; the name must agree.
    An empty 身份/分组/座位/备注 cell keeps what the person already has (新人: 代表, nothing).

    :raise DirectoryFileError: the file as a whole cannot be used.
    """
    parsed = read_directory(data, filename, allow_landline=True, on_rows=_progress_rows if progress else None)
    if progress:
        jobs.report_progress(len(parsed.rows), len(parsed.rows), "正在与通讯录和名单比对")
    extras = _extra_fields(parsed.extra_columns)
    plan = ImportPlan(file_name=(filename or "")[:255], rows_total=len(parsed.rows),
                      columns=[*parsed.columns.values(), *extras.values()], skipped=list(parsed.skipped))
    rejected = {r.row: r for r in parsed.rejected}
    plan.rejected = [{"row": r.row, "code": r.code, "message": r.message} for r in rejected.values()]
    accepted = parsed.accepted
    contacts = _contacts_for_phones([r.phone for r in accepted])
    for r in accepted:
        fields = {name: (r.extras.get(label) or "").strip() or None for name, label in extras.items()}
        role = fields.get("role")
        if role is not None:
            role = "".join(role.split())
        found = contacts.get(r.phone)
        if found is None:
            _reject(plan, r.row, "contact_not_found", phone=r.phone)
            continue
        cid, name, unit, active = found
        if not active:
            _reject(plan, r.row, "contact_inactive", phone=r.phone)
        elif name != r.name:
            _reject(plan, r.row, "name_mismatch", phone=r.phone, found=name, name=r.name)
        elif role is not None and role not in ROLES:
            _reject(plan, r.row, "role_invalid", role=role)
        elif too_long := next((k for k in MAX_LEN if fields.get(k) and len(fields[k]) > MAX_LEN[k]), None):
            _reject(plan, r.row, "too_long", label=FIELD_LABELS[too_long], limit=MAX_LEN[too_long])
        else:
            plan.rows.append([r.row, cid, role, fields.get("group_name"), fields.get("seat"), fields.get("note")])
    plan.rejected.sort(key=lambda x: x["row"])
    _compare(meeting, plan)
    return plan


def _progress_rows(done: int, total: int) -> None:
    jobs.report_progress(done, total, f"正在检查第 {done} / {total} 行")


# -- a spreadsheet, in the job workers (issue 21.10) --------------------------------------------------
# The console's request never reads the file: it stores it and asks a job to check it
# (:func:`submit_check`); the check holds its result for the confirmation as before. A confirmation
# is applied in the request only under the contacts import's one rule (INLINE_APPLY_ROWS, rows of
# the file plus the list's), else by a job (:func:`submit_apply`).

JOB_KIND_CHECK = "invitee_import"
JOB_KIND_APPLY = "invitee_apply"


def submit_check(meeting: Meeting, data: bytes, filename: str, *, job_actor: str) -> int:
    """Keep the uploaded file and ask a job to check it; returns the job id."""
    sha = storage.put(data)
    return jobs.submit(JOB_KIND_CHECK, run_check, meeting.id, sha, (filename or "")[:255], actor=job_actor,
                       meeting_id=meeting.id)


def run_check(meeting_id: int, sha: str, filename: str) -> dict[str, Any]:
    """The job behind :func:`submit_check`: its result carries the held check's token.

    :raise DirectoryFileError: the file as a whole cannot be used (the job fails with its message).
    """
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise InviteeError("import_expired")
    jobs.report_progress(0, None, "正在读取文件")
    plan = check_import(meeting, storage.read_blob(sha), filename, progress=True)
    token = hold_import(meeting, plan)
    return {"token": token, "added": len(plan.added), "updated": len(plan.updated),
            "rejected": len(plan.rejected)}


def apply_inline(meeting: Meeting, token: str) -> bool:
    """May the request apply this held check itself? (An expired one: yes, to say so at once.)"""
    data = held_imports.held(HELD_KIND, meeting.id, token)
    if data is None:
        return True
    return len(data["rows"]) + total(meeting) <= INLINE_APPLY_ROWS


def submit_apply(meeting: Meeting, token: str, *, actor: str, job_actor: str) -> int:
    return jobs.submit(JOB_KIND_APPLY, run_apply, meeting.id, token, actor, actor=job_actor, meeting_id=meeting.id)


def run_apply(meeting_id: int, token: str, actor: str) -> dict[str, Any]:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise InviteeError("import_expired")
    jobs.report_progress(0, None, "正在写入名单")
    plan = apply_import(meeting, token, actor=actor)
    return {"message": applied_message(plan)}


def applied_message(plan: ImportPlan) -> str:
    return (f"名单已导入：新增 {len(plan.added)} 人，更新 {len(plan.updated)} 人，未变 {plan.unchanged} 人"
            + (f"，{len(plan.rejected)} 行有问题未导入" if plan.rejected else ""))


def _contacts_for_phones(phones: list[str]) -> dict[str, tuple[int, str, str, bool]]:
    """phone -> (contact id, name, unit name, active): the active contact when there is one."""
    if not phones:
        return {}
    cols = select(Contact.id, Contact.name, Unit.name, Contact.active, Contact.phone).join(
        Unit, Unit.id == Contact.unit_id)
    if _is_postgres():
        # The phones as ONE json parameter expanded server-side (see contacts.importer: 10,000 bound
        # parameters cost more than the query).
        wanted = select(func.json_array_elements_text(sa.cast(sa.bindparam("phones"), sa.JSON))
                        .table_valued("value").alias("p").c.value)
        rows = db.session.execute(cols.where(Contact.phone.in_(wanted)),
                                  {"phones": json.dumps(sorted(set(phones)))}).all()
    else:
        rows = []
        unique = sorted(set(phones))
        for start in range(0, len(unique), 500):
            rows += db.session.execute(cols.where(Contact.phone.in_(unique[start:start + 500]))).all()
    out: dict[str, tuple[int, str, str, bool]] = {}
    for cid, name, unit, active, phone in sorted(rows, key=lambda r: (not r[3], r[0])):
        out.setdefault(phone, (cid, name, unit, bool(active)))
    return out


def _compare(meeting: Meeting, plan: ImportPlan) -> None:
    """Split the accepted rows into added, updated and unchanged against the list as it is now."""
    existing = {cid: (iid, role, group, seat, note) for iid, cid, role, group, seat, note in db.session.execute(
        select(Invitee.id, Invitee.contact_id, Invitee.role, Invitee.group_name, Invitee.seat, Invitee.note)
        .where(Invitee.meeting_id == meeting.id))}
    people = _people([r[1] for r in plan.rows])
    plan.added, plan.updated, plan.unchanged = [], [], 0
    for number, cid, role, group, seat, note in plan.rows:
        name, unit, phone = people.get(cid, ("", "", ""))
        current = existing.get(cid)
        if current is None:
            plan.added.append({"row": number, "contact_id": cid, "name": name, "unit": unit, "phone": phone,
                               "role": role or InviteeRole.DELEGATE.value, "group_name": group, "seat": seat,
                               "note": note})
            continue
        new = {"role": role, "group_name": group, "seat": seat, "note": note}
        changes = {k: [old or "", v] for k, v, old in zip(new, new.values(), current[1:], strict=True)
                   if v is not None and v != (old or "")}
        if changes:
            plan.updated.append({"row": number, "invitee_id": current[0], "contact_id": cid, "name": name,
                                 "unit": unit, "phone": phone, "changes": changes})
        else:
            plan.unchanged += 1


def _people(contact_ids: list[int]) -> dict[int, tuple[str, str, str]]:
    if not contact_ids:
        return {}
    stmt = select(Contact.id, Contact.name, Unit.name, Contact.phone).join(Unit, Unit.id == Contact.unit_id)
    if _is_postgres():
        wanted = select(sa.cast(func.json_array_elements_text(sa.cast(sa.bindparam("ids"), sa.JSON))
                                .table_valued("value").alias("i").c.value, sa.Integer))
        rows = db.session.execute(stmt.where(Contact.id.in_(wanted)), {"ids": json.dumps(contact_ids)}).all()
    else:
        rows = []
        for start in range(0, len(contact_ids), 500):
            rows += db.session.execute(stmt.where(Contact.id.in_(contact_ids[start:start + 500]))).all()
    return {cid: (name, unit, phone) for cid, name, unit, phone in rows}


def hold_import(meeting: Meeting, plan: ImportPlan) -> str:
    """Keep the checked rows for the confirmation (see held_imports): the file is read once."""
    token = held_imports.hold(HELD_KIND, meeting.id, {
        "file": plan.file_name, "rows_total": plan.rows_total, "rows": plan.rows, "rejected": plan.rejected,
        "columns": plan.columns, "skipped": plan.skipped})
    plan.token = token
    return token


def held_import(meeting: Meeting, token: str) -> ImportPlan:
    """A held check, compared again with the list as it is now.

    :raise InviteeError: ``import_expired``.
    """
    held = held_imports.held(HELD_KIND, meeting.id, token)
    if held is None:
        raise InviteeError("import_expired")
    plan = ImportPlan(file_name=held["file"], rows_total=held["rows_total"], rows=held["rows"],
                      rejected=held["rejected"], columns=held.get("columns", []), token=token,
                      skipped=held.get("skipped", []))
    _compare(meeting, plan)
    return plan


def apply_import(meeting: Meeting, token: str, *, actor: str) -> ImportPlan:
    """Apply a held check, re-compared with the list as it is now, in two bulk statements."""
    plan = held_import(meeting, token)
    _write_import(meeting, plan, actor=actor)
    on_commit(lambda: held_imports.drop(HELD_KIND, meeting.id, token))
    return plan


def import_file(meeting: Meeting, data: bytes, filename: str, *, actor: str, dry_run: bool) -> ImportPlan:
    """The CLI's path: check, then apply the acceptable rows unless ``dry_run``."""
    plan = check_import(meeting, data, filename)
    if not dry_run:
        _write_import(meeting, plan, actor=actor)
    return plan


def _write_import(meeting: Meeting, plan: ImportPlan, *, actor: str) -> None:
    if not plan.rows:
        raise InviteeError("nothing_to_import")
    now = datetime.now(UTC)
    added = [{"contact_id": a["contact_id"], "role": a["role"], "group_name": a["group_name"], "seat": a["seat"],
              "note": a["note"]} for a in plan.added]
    updated = [{"id": u["invitee_id"], **{k: v[1] for k, v in u["changes"].items()}} for u in plan.updated]
    if _is_postgres():
        if added:
            db.session.execute(_PG_INSERT, {"meeting_id": meeting.id, "now": now,
                                            "rows": json.dumps(added, ensure_ascii=False)})
        if updated:
            # Keys absent from a row's JSON read as NULL: COALESCE keeps the current value then.
            db.session.execute(_PG_UPDATE, {"meeting_id": meeting.id, "rows": json.dumps(updated, ensure_ascii=False)})
    else:
        table = Invitee.__table__
        if added:
            stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["meeting_id", "contact_id"])
            db.session.execute(stmt, [{**a, "meeting_id": meeting.id, "status": "approved", "created_at": now}
                                      for a in added])
        for u in updated:
            db.session.execute(sa.update(table).where(table.c.id == u["id"], table.c.meeting_id == meeting.id)
                               .values({k: v for k, v in u.items() if k != "id"}))
    _forget_objects()
    audit.record(actor, "invitees.import", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 file=plan.file_name, added=len(plan.added), updated=len(plan.updated),
                 unchanged=plan.unchanged, rejected=len(plan.rejected))
    _changed(meeting)


_PG_INSERT = sa.text("""
    INSERT INTO invitees (meeting_id, contact_id, role, group_name, seat, note, status, created_at)
    SELECT :meeting_id, t.contact_id, t.role, t.group_name, t.seat, t.note, 'approved', :now
    FROM json_to_recordset(CAST(:rows AS json))
        AS t(contact_id integer, role text, group_name text, seat text, note text)
    ON CONFLICT (meeting_id, contact_id) DO NOTHING
""")
_PG_UPDATE = sa.text("""
    UPDATE invitees AS i SET role = COALESCE(t.role, i.role), group_name = COALESCE(t.group_name, i.group_name),
        seat = COALESCE(t.seat, i.seat), note = COALESCE(t.note, i.note)
    FROM json_to_recordset(CAST(:rows AS json)) AS t(id integer, role text, group_name text, seat text, note text)
    WHERE i.id = t.id AND i.meeting_id = :meeting_id
""")


def report_view(plan: ImportPlan, limit: int = REPORT_LIMIT) -> dict[str, Any]:
    """The report as the page shows it: each list capped at ``limit``, changes in words."""
    updated = [{**u, "changes": [(FIELD_LABELS[k], old or "（空）", new) for k, (old, new) in u["changes"].items()]}
               for u in plan.updated[:limit]]
    return {"rejected": plan.rejected[:limit], "added": plan.added[:limit], "updated": updated, "limit": limit}


def _is_postgres() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"

