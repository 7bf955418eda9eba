"""Live headcount: 应到 / 实到 / 签到率, late arrivals, per unit and per group, who is missing,
who is on leave (请假).

Where the numbers come from:
- who has arrived: a Redis hash per session, one field per live sign-in (contact id -> unit and
  late flag). It is fed after each commit by the live-event publish (``record_signins`` /
  ``record_revokes``). Setting or deleting a field is idempotent, so a replayed event cannot
  count anyone twice.
- the hash is rebuilt exactly from the database whenever its ``built`` marker is missing (Redis
  flushed or restarted) and, because the marker expires, at least every ``RECONCILE_S`` seconds:
  an event that raced a rebuild can leave the hash wrong only until the next reconcile.
- who is expected (the roster): computed from the database and cached in Redis for a few seconds,
  under a stamp; each process parses and indexes a cached roster once per stamp (:class:`Roster`),
  so a read of the numbers costs one small GET and a pass over who has arrived, not a decode of
  and a pass over the whole roster (10,000 people on a large meeting). Deactivated contacts are
  never expected. A person on leave (``Leave``) leaves 应到 and is counted
  as 请假 instead; if they sign in anyway they count in 实到 like anyone signed in outside the
  roster, and the rate, which counts only the roster's arrivals, stays at most 100%.

The database stays the truth: every number here can be recomputed from it.

Who is missing is a list of names as long as the meeting: the live page and its stream carry
counts only, and :func:`missing_people` answers for one unit or one search, a page at a time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import secrets
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select

from app.extensions import db, get_redis
from app.services.contacts.phones import mask_name
from app.services.timeutil import fmt_hm
from models import Admission, Contact, Invitee, Leave, Meeting, MeetingSession, MeetingUnit, SignIn, Unit

log = logging.getLogger(__name__)

RECONCILE_S = 60
ROSTER_TTL_S = 10
RECENT_N = 12
UNGROUPED = ""
#: Sessions whose parsed roster a process keeps (the newest used).
ROSTERS_KEPT = 64
#: The most people one read of :func:`missing_people` returns.
MISSING_LIMIT_MAX = 500


@dataclass(frozen=True)
class SessionRef:
    """Plain values that identify a session's headcount (safe to keep outside a request)."""

    meeting_id: int
    session_id: int
    admission: str

    @classmethod
    def of(cls, meeting: Meeting, session: MeetingSession) -> SessionRef:
        return cls(meeting.id, session.id, meeting.admission)


@dataclass
class UnitCount:
    unit_id: int
    name: str
    expected: int = 0
    arrived: int = 0
    #: [{"id": contact id, "name": name, "title": 职务 or None}] of expected people not signed in
    #: (left empty when the numbers are read without the lists, :func:`numbers_for`).
    missing: list[dict[str, Any]] = field(default_factory=list)
    #: People of the unit on leave (not in ``expected``).
    leave: int = 0


@dataclass
class GroupCount:
    name: str
    expected: int = 0
    arrived: int = 0


@dataclass
class RecentSignIn:
    contact_id: int
    name: str
    unit: str
    at: str
    late: bool
    method: str
    seq: int


@dataclass
class Headcount:
    meeting_id: int
    session_id: int
    expected: int
    arrived: int
    late: int
    units: list[UnitCount]
    groups: list[GroupCount]
    recent: list[RecentSignIn] = field(default_factory=list)
    #: 请假: people excused from the meeting (not in ``expected``).
    leave: int = 0
    #: [{"id", "name", "unit", "reason"}] of the people on leave.
    on_leave: list[dict[str, Any]] = field(default_factory=list)
    #: Whether ``units[].missing`` were filled (:func:`numbers_for` ``missing=True``).
    listed: bool = True
    #: The stamp of the cached roster these numbers were counted against (:func:`roster_for`).
    stamp: str = ""

    @property
    def rate(self) -> float:
        """签到率 in percent, one decimal; people signed in outside the roster never push it past 100."""
        if self.expected == 0:
            return 0.0
        arrived_expected = sum(u.arrived for u in self.units)
        return round(min(arrived_expected, self.expected) * 100.0 / self.expected, 1)

    @property
    def missing_count(self) -> int:
        # Each unit's arrivals are its roster people's only, so this is also the length of the lists.
        return sum(u.expected - u.arrived for u in self.units)

    def to_dict(self, *, mask: bool = False, with_missing: bool = True,
                with_leave: bool | None = None) -> dict[str, Any]:
        """The numbers as JSON. ``with_missing``: each unit's list of who is missing (the mini
        program's); ``with_leave`` (default: as ``with_missing``): the people on leave, by name.
        The big screen gets neither; the console's live page gets the people on leave only (it
        reads who is missing a unit at a time, :func:`missing_people`)."""
        def name(text: str) -> str:
            return mask_name(text) if mask else text

        if with_missing and not self.listed:
            raise ValueError("these numbers were read without the missing lists")
        units = []
        for u in self.units:
            item = {"unit_id": u.unit_id, "name": u.name, "expected": u.expected, "arrived": u.arrived,
                    "leave": u.leave}
            if with_missing:
                item["missing"] = [{"id": m["id"], "name": name(m["name"]), "title": m.get("title")}
                                   for m in u.missing]
            units.append(item)
        recent = [{**asdict(r), "name": name(r.name)} for r in self.recent]
        data = {"meeting_id": self.meeting_id, "session_id": self.session_id, "expected": self.expected,
                "arrived": self.arrived, "rate": self.rate, "late": self.late, "missing": self.missing_count,
                "leave": self.leave, "units": units, "groups": [asdict(g) for g in self.groups], "recent": recent}
        if with_missing if with_leave is None else with_leave:
            data["on_leave"] = [{**p, "name": name(p["name"])} for p in self.on_leave]
        return data


# -- Redis keys -------------------------------------------------------------------------------------
def live_key(session_id: int) -> str:
    return f"huiyi:hc:{session_id}:live"


def built_key(session_id: int) -> str:
    return f"huiyi:hc:{session_id}:built"


def roster_key(session_id: int) -> str:
    # v2: the cached roster holds the people on leave and each person's title as well.
    # v3: and its stamp (also under :func:`stamp_key`), which processes key their parsed copy by.
    return f"huiyi:hc:{session_id}:roster:v3"


def stamp_key(session_id: int) -> str:
    return roster_key(session_id) + ":stamp"


def _value(unit_id: int, late: bool) -> str:
    return f"{unit_id}|{1 if late else 0}"


# -- fed by live_events after each commit -----------------------------------------------------------
def record_signins(payloads: list[dict[str, Any]], pipe=None) -> None:
    """One HSET per session for these sign-ins' events. ``pipe``: a Redis pipeline to queue the
    update on (the live events'), else sent at once."""
    target = pipe if pipe is not None else get_redis()
    for session_id, events in _by_session(payloads).items():
        target.hset(live_key(session_id),
                    mapping={str(p["contact_id"]): _value(p["unit_id"], p.get("late", False)) for p in events})


def record_revokes(payloads: list[dict[str, Any]], pipe=None) -> None:
    target = pipe if pipe is not None else get_redis()
    for session_id, events in _by_session(payloads).items():
        target.hdel(live_key(session_id), *(str(p["contact_id"]) for p in events))


def _by_session(payloads: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for p in payloads:
        grouped.setdefault(p["session_id"], []).append(p)
    return grouped


# -- rebuild ----------------------------------------------------------------------------------------
def rebuild(session_id: int) -> int:
    """Replace the session's live hash with what the database says; returns 实到."""
    rows = db.session.execute(
        select(SignIn.contact_id, Contact.unit_id, SignIn.late).join(Contact, Contact.id == SignIn.contact_id)
        .where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
    ).all()
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(live_key(session_id))
    if rows:
        pipe.hset(live_key(session_id), mapping={str(c): _value(u, late) for c, u, late in rows})
    pipe.set(built_key(session_id), "1", ex=RECONCILE_S)
    pipe.execute()
    return len(rows)


def _ensure_built(session_id: int) -> None:
    r = get_redis()
    if r.exists(built_key(session_id)):
        return
    # One process rebuilds; the others wait briefly and then read what it wrote.
    lock = r.lock(f"huiyi:hc:{session_id}:lock", timeout=10, blocking_timeout=5)
    acquired = lock.acquire()
    try:
        if not r.exists(built_key(session_id)):
            rebuild(session_id)
    finally:
        if acquired:
            try:
                lock.release()
            except Exception:  # the lock expired under us: harmless, the rebuild is idempotent
                log.warning("headcount rebuild lock for session %s expired", session_id)


# -- roster (who is expected) -----------------------------------------------------------------------
def _load_people(ref: SessionRef) -> tuple[list[list], list[list]]:
    """(expected, on leave): [[contact_id, name, unit_id, unit_name, group, title], ...] for everyone
    expected, and [[contact_id, name, unit_id, unit_name, reason], ...] for those excused by a leave.
    Only active contacts are either."""
    people: dict[int, list] = {}
    rows = db.session.execute(
        select(Contact.id, Contact.name, Unit.id, Unit.name, Invitee.group_name, Contact.title)
        .join(Contact, Contact.id == Invitee.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(Invitee.meeting_id == ref.meeting_id, Invitee.status == "approved", Contact.active.is_(True))
    ).all()
    for cid, name, uid, uname, group, title in rows:
        people[cid] = [cid, name, uid, uname, group or UNGROUPED, title]
    if ref.admission == Admission.UNITS:
        rows = db.session.execute(
            select(Contact.id, Contact.name, Unit.id, Unit.name, Contact.title)
            .join(Unit, Unit.id == Contact.unit_id).join(MeetingUnit, MeetingUnit.unit_id == Unit.id)
            .where(MeetingUnit.meeting_id == ref.meeting_id, Contact.active.is_(True))
        ).all()
        for cid, name, uid, uname, title in rows:
            people.setdefault(cid, [cid, name, uid, uname, UNGROUPED, title])
    reasons = {cid: reason for cid, reason in db.session.execute(
        select(Leave.contact_id, Leave.reason).where(Leave.meeting_id == ref.meeting_id))}
    expected = [p for cid, p in people.items() if cid not in reasons]
    on_leave = [[cid, p[1], p[2], p[3], reasons[cid]] for cid, p in people.items() if cid in reasons]
    return expected, on_leave


def people_of(meeting: Meeting) -> tuple[list[list], list[list]]:
    """Who is expected and who is on leave at ``meeting`` (:func:`_load_people`), from the
    database: the same for every session."""
    return _load_people(SessionRef(meeting.id, 0, meeting.admission))


def _load_roster(ref: SessionRef) -> list[list]:
    """[[contact_id, name, unit_id, unit_name, group, title], ...] for everyone expected (not on leave)."""
    return _load_people(ref)[0]


class Roster:
    """A session's cached roster as one process uses it: who is expected, in the order the pages
    list them (unit, then contact id: the directory's order, which is usually the unit's own), and
    indexed for the reads below. Built once per stamp of the cached roster; never changed after."""

    def __init__(self, stamp: str, expected: list[list], on_leave: list[list]):
        self.stamp = stamp
        self.expected = sorted(expected, key=lambda p: (p[3], p[2], p[0]))
        self.on_leave = on_leave
        #: contact id -> row, and its place in :attr:`expected` (a page's cursor)
        self.index = {p[0]: p for p in self.expected}
        self.position = {p[0]: i for i, p in enumerate(self.expected)}
        self.by_unit: dict[int, list[list]] = {}
        self.unit_names: dict[int, str] = {}
        self.group_expected: dict[str, int] = {}
        for p in self.expected:
            self.by_unit.setdefault(p[2], []).append(p)
            self.unit_names[p[2]] = p[3]
            if p[4]:
                self.group_expected[p[4]] = self.group_expected.get(p[4], 0) + 1
        self.unit_leave: dict[int, int] = {}
        for _cid, _name, uid, uname, _reason in on_leave:
            self.unit_names.setdefault(uid, uname)
            self.unit_leave[uid] = self.unit_leave.get(uid, 0) + 1
        self.leave_list = [{"id": cid, "name": name, "unit": uname, "reason": reason}
                           for cid, name, _uid, uname, reason in on_leave]
        self._haystacks: list[str] | None = None

    def haystack(self, position: int) -> str:
        """What a search matches in the person at ``position``: name, 职务 and unit, case-folded."""
        if self._haystacks is None:  # only a search needs it; most reads never do
            self._haystacks = ["\n".join((p[1], p[5] or "", p[3])).casefold() for p in self.expected]
        return self._haystacks[position]


_rosters: OrderedDict[int, Roster] = OrderedDict()
_rosters_lock = threading.Lock()


def roster_for(ref: SessionRef) -> Roster:
    """The session's roster: this process's parsed copy while the cached roster's stamp is the same
    (one small GET), else the cached roster (parsed once), else the database's (then cached for
    ``ROSTER_TTL_S``, dropped by :func:`forget_roster`)."""
    r = get_redis()
    stamp = r.get(stamp_key(ref.session_id))
    mine = _rosters.get(ref.session_id)
    if stamp is not None and mine is not None and mine.stamp == _as_text(stamp):
        return mine
    data = _parse_roster(r.get(roster_key(ref.session_id))) if stamp is not None else None
    if data is None:
        expected, on_leave = _load_people(ref)
        data = {"stamp": secrets.token_hex(8), "expected": expected, "leave": on_leave}
        pipe = r.pipeline(transaction=True)
        pipe.set(roster_key(ref.session_id), json.dumps(data, ensure_ascii=False), ex=ROSTER_TTL_S)
        pipe.set(stamp_key(ref.session_id), data["stamp"], ex=ROSTER_TTL_S)
        pipe.execute()
    built = Roster(data["stamp"], data["expected"], data["leave"])
    with _rosters_lock:
        _rosters[ref.session_id] = built
        _rosters.move_to_end(ref.session_id)
        while len(_rosters) > ROSTERS_KEPT:
            _rosters.popitem(last=False)
    return built


def _parse_roster(blob: bytes | str | None) -> dict[str, Any] | None:
    """The cached roster, or None when there is none or it is not one this code wrote."""
    if blob is None:
        return None
    try:
        data = json.loads(blob)
    except ValueError:
        return None
    if not isinstance(data, dict) or not {"stamp", "expected", "leave"} <= data.keys():
        return None
    return data


def roster_and_leave(ref: SessionRef) -> tuple[list[list], list[list]]:
    """:func:`_load_people`, from the cached roster (:func:`roster_for`)."""
    cached = roster_for(ref)
    return cached.expected, cached.on_leave


def roster(ref: SessionRef) -> list[list]:
    return roster_for(ref).expected


def forget_roster(session_id: int) -> None:
    """Drop the cached roster (after invitees or leaves change) so the next read sees the new list."""
    get_redis().delete(roster_key(session_id), stamp_key(session_id))


# -- reads ------------------------------------------------------------------------------------------
def numbers(meeting: Meeting, session: MeetingSession, *, recent: bool = True, missing: bool = True) -> Headcount:
    """The live numbers of ``session``: counters from Redis (rebuilt if lost), roster from the database."""
    return numbers_for(SessionRef.of(meeting, session), recent=recent, missing=missing)


def numbers_for(ref: SessionRef, *, recent: bool = True, missing: bool = True) -> Headcount:
    """``missing``: fill each unit's list of who is missing (the WeChat 未到 reply and the mini
    program want them); without, the counts cost a pass over who has arrived only."""
    _ensure_built(ref.session_id)
    live = get_redis().hgetall(live_key(ref.session_id))
    people = roster_for(ref)

    unit_arrived: dict[int, int] = {}
    group_arrived: dict[str, int] = {}
    arrived_ids: set[int] = set()
    late = 0
    for key, value in live.items():
        if _as_text(value).endswith("|1"):
            late += 1
        cid = int(key)
        row = people.index.get(cid)
        if row is None:  # signed in without being expected (a guest, someone on leave)
            continue
        arrived_ids.add(cid)
        unit_arrived[row[2]] = unit_arrived.get(row[2], 0) + 1
        if row[4]:
            group_arrived[row[4]] = group_arrived.get(row[4], 0) + 1

    units = []
    for uid, uname in people.unit_names.items():
        members = people.by_unit.get(uid, ())
        unit = UnitCount(uid, uname, expected=len(members), arrived=unit_arrived.get(uid, 0),
                         leave=people.unit_leave.get(uid, 0))
        if missing:
            unit.missing = [{"id": p[0], "name": p[1], "title": p[5]} for p in members if p[0] not in arrived_ids]
        units.append(unit)
    units.sort(key=lambda u: (-(u.expected - u.arrived), u.name))
    groups = [GroupCount(g, expected=n, arrived=group_arrived.get(g, 0))
              for g, n in sorted(people.group_expected.items())]
    result = Headcount(ref.meeting_id, ref.session_id, expected=len(people.expected), arrived=len(live), late=late,
                       units=units, groups=groups, leave=len(people.on_leave), on_leave=people.leave_list,
                       listed=missing, stamp=people.stamp)
    if recent:
        result.recent = recent_signins(ref.session_id)
    return result


def missing_people(ref: SessionRef, *, unit_id: int | None = None, query: str = "", after: int | None = None,
                   limit: int = 100) -> dict[str, Any]:
    """Who is missing, a page at a time: of one unit, or matching ``query`` (in the name, 职务 or
    unit, any case), or both; in the roster's order. ``after``: the last contact id of the page
    before (``next`` of its answer). Returns ``{"people": [{"id", "name", "title", "unit_id",
    "unit"}], "total": how many match, "next": the cursor of the next page or None}``."""
    _ensure_built(ref.session_id)
    people = roster_for(ref)
    arrived = {int(k) for k in get_redis().hkeys(live_key(ref.session_id))}
    rows = people.by_unit.get(unit_id, []) if unit_id is not None else people.expected
    needle = query.strip().casefold()
    matches = [p for p in rows if p[0] not in arrived
               and (not needle or needle in people.haystack(people.position[p[0]]))]
    start = 0
    if after is not None:
        where = people.position.get(after)
        # A cursor whose person has left the roster meanwhile: go on after them by contact id.
        start = next((i for i, p in enumerate(matches)
                      if (people.position[p[0]] > where if where is not None else p[0] > after)), len(matches))
    limit = max(1, min(limit, MISSING_LIMIT_MAX))
    page = matches[start:start + limit]
    more = start + limit < len(matches)
    return {"people": [person_dict(p) for p in page], "total": len(matches),
            "next": page[-1][0] if more and page else None}


def person_dict(row: list) -> dict[str, Any]:
    return {"id": row[0], "name": row[1], "title": row[5], "unit_id": row[2], "unit": row[3]}


def expected_person(ref: SessionRef, contact_id: int) -> dict[str, Any] | None:
    """An expected person as :func:`missing_people` lists them (a revoked sign-in's event carries
    it to the live page, whose open list takes them back), or None if not expected."""
    row = roster_for(ref).index.get(contact_id)
    return person_dict(row) if row is not None else None


def _as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def recent_signins(session_id: int, limit: int = RECENT_N) -> list[RecentSignIn]:
    rows = db.session.execute(
        select(SignIn.seq, SignIn.signed_at, SignIn.late, SignIn.method, Contact.id, Contact.name, Unit.name)
        .join(Contact, Contact.id == SignIn.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
        .order_by(SignIn.seq.desc()).limit(limit)
    ).all()
    return [RecentSignIn(contact_id=cid, name=name, unit=unit, at=_hm(at), late=late, method=method, seq=seq)
            for seq, at, late, method, cid, name, unit in rows]


def _hm(at: datetime | str) -> str:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return fmt_hm(at)


def event_for_screen(payload: dict[str, Any], *, mask: bool) -> dict[str, Any]:
    """A live event as a page shows it: masked name when the meeting asks, local time."""
    out = {"type": payload.get("type"), "session_id": payload.get("session_id"), "seq": payload.get("seq"),
           "contact_id": payload.get("contact_id"), "unit_id": payload.get("unit_id")}
    if payload.get("type") == "signin":
        name = payload.get("name") or ""
        out.update(name=mask_name(name) if mask else name, unit=payload.get("unit") or "",
                   at=_hm(payload["at"]) if payload.get("at") else "", late=bool(payload.get("late")),
                   method=payload.get("method"))
    return out


def screen_key(secret_key: str, meeting_code: str) -> str:
    """The big screen's access key: an HMAC of the meeting code, so guessing a code is not enough
    to watch a meeting's attendance. Organizers copy the full link from the console."""
    digest = hmac.new(secret_key.encode(), f"screen:{meeting_code}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def check_screen_key(secret_key: str, meeting_code: str, key: str | None) -> bool:
    return bool(key) and hmac.compare_digest(screen_key(secret_key, meeting_code), key)


def database_truth(session_id: int) -> tuple[int, int]:
    """(实到, late) straight from the database; for checks and tests."""
    rows = db.session.execute(
        select(SignIn.late).where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
    ).scalars().all()
    return len(rows), sum(1 for late in rows if late)
