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
- who is expected (the roster): computed from the database and cached in Redis for a few seconds.
  Deactivated contacts are never expected. A person on leave (``Leave``) leaves 应到 and is counted
  as 请假 instead; if they sign in anyway they count in 实到 like anyone signed in outside the
  roster, and the rate, which counts only the roster's arrivals, stays at most 100%.

The database stays the truth: every number here can be recomputed from it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
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
    #: [{"id": contact id, "name": name, "title": 职务 or None}] of expected people not signed in.
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

    @property
    def rate(self) -> float:
        """签到率 in percent, one decimal; people signed in outside the roster never push it past 100."""
        if self.expected == 0:
            return 0.0
        arrived_expected = sum(u.arrived for u in self.units)
        return round(min(arrived_expected, self.expected) * 100.0 / self.expected, 1)

    @property
    def missing_count(self) -> int:
        return sum(len(u.missing) for u in self.units)

    def to_dict(self, *, mask: bool = False, with_missing: bool = True) -> dict[str, Any]:
        """The JSON of the live page and (``with_missing=False``) the big screen, which never gets
        names of who is missing or on leave."""
        def name(text: str) -> str:
            return mask_name(text) if mask else text

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
        if with_missing:
            data["on_leave"] = [{**p, "name": name(p["name"])} for p in self.on_leave]
        return data


# -- Redis keys -------------------------------------------------------------------------------------
def live_key(session_id: int) -> str:
    return f"huiyi:hc:{session_id}:live"


def built_key(session_id: int) -> str:
    return f"huiyi:hc:{session_id}:built"


def roster_key(session_id: int) -> str:
    # v2: the cached roster holds the people on leave and each person's title as well.
    return f"huiyi:hc:{session_id}:roster:v2"


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


def roster_and_leave(ref: SessionRef) -> tuple[list[list], list[list]]:
    """:func:`_load_people`, cached in Redis for ``ROSTER_TTL_S`` (dropped by :func:`forget_roster`)."""
    r = get_redis()
    cached = r.get(roster_key(ref.session_id))
    if cached is not None:
        data = json.loads(cached)
        return data["expected"], data["leave"]
    expected, on_leave = _load_people(ref)
    r.set(roster_key(ref.session_id), json.dumps({"expected": expected, "leave": on_leave}, ensure_ascii=False),
          ex=ROSTER_TTL_S)
    return expected, on_leave


def roster(ref: SessionRef) -> list[list]:
    return roster_and_leave(ref)[0]


def forget_roster(session_id: int) -> None:
    """Drop the cached roster (after invitees or leaves change) so the next read sees the new list."""
    get_redis().delete(roster_key(session_id))


# -- reads ------------------------------------------------------------------------------------------
def numbers(meeting: Meeting, session: MeetingSession, *, recent: bool = True) -> Headcount:
    """The live numbers of ``session``: counters from Redis (rebuilt if lost), roster from the database."""
    return numbers_for(SessionRef.of(meeting, session), recent=recent)


def numbers_for(ref: SessionRef, *, recent: bool = True) -> Headcount:
    _ensure_built(ref.session_id)
    live = {int(k): v for k, v in get_redis().hgetall(live_key(ref.session_id)).items()}
    people, on_leave = roster_and_leave(ref)

    units: dict[int, UnitCount] = {}
    groups: dict[str, GroupCount] = {}
    for cid, name, uid, uname, group, title in people:
        unit = units.get(uid) or units.setdefault(uid, UnitCount(uid, uname))
        unit.expected += 1
        if group:
            grp = groups.get(group) or groups.setdefault(group, GroupCount(group))
            grp.expected += 1
        if cid in live:
            unit.arrived += 1
            if group:
                grp.arrived += 1
        else:
            unit.missing.append({"id": cid, "name": name, "title": title})
    for _cid, _name, uid, uname, _reason in on_leave:
        unit = units.get(uid) or units.setdefault(uid, UnitCount(uid, uname))
        unit.leave += 1
    late = sum(1 for v in live.values() if _as_text(v).endswith("|1"))
    ordered = sorted(units.values(), key=lambda u: (-(u.expected - u.arrived), u.name))
    result = Headcount(ref.meeting_id, ref.session_id, expected=len(people), arrived=len(live), late=late,
                       units=ordered, groups=sorted(groups.values(), key=lambda g: g.name), leave=len(on_leave),
                       on_leave=[{"id": cid, "name": name, "unit": uname, "reason": reason}
                                 for cid, name, _uid, uname, reason in on_leave])
    if recent:
        result.recent = recent_signins(ref.session_id)
    return result


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
           "contact_id": payload.get("contact_id")}
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
