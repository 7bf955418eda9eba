"""Live headcount: 应到 / 实到 / 签到率, late arrivals, per unit and per group, who is missing,
who is on leave (请假).

Where the numbers come from:
- who has arrived: a Redis hash per session, one field per live sign-in (contact id -> unit and
  late flag). It is fed after each commit by the live-event publish (``record_signins`` /
  ``record_revokes``). Setting or deleting a field is idempotent, so a replayed event cannot
  count anyone twice.
- the hash is rebuilt exactly from the database whenever its ``built`` marker is missing (Redis
  flushed or restarted) and, because the marker expires, at least every ``RECONCILE_S`` seconds:
  a revoke's event that raced a rebuild can leave the hash wrong only until the next reconcile.
- a sign-in committed whose event never came (its worker was killed between the commit and the
  publish) is noticed at once: each sign-in takes an order number as it commits (the session's
  ``last_seq``), its event carries it, and the counters keep ``low``, the number up to which every
  sign-in's event has been applied. A read compares ``low`` with the database's ``last_seq`` (one
  primary-key read); a gap is repaired by a rebuild, announced on the meeting's stream so every
  open screen re-counts, at once when the first sign-in missing was made more than ``STALE_S`` ago,
  else once the gap has outlived ``GRACE_S`` (longer than any event in flight takes). The door
  writes nothing more for this: its events already carry the number. A revoke is counted in its
  own transaction (the session's ``revokes``) and by its event (``revokes_key``); the same read
  compares the two, and a revoke whose event has not come within ``GRACE_S`` is repaired the same way.
- who is expected (the roster): computed from the database and cached in Redis for a few seconds,
  under a stamp; each process parses and indexes a cached roster once per stamp (:class:`Roster`),
  so a read of the numbers costs one small GET and a pass over who has arrived, not a decode of
  and a pass over the whole roster (10,000 people on a large meeting). Deactivated contacts are
  never expected. A person on leave (``Leave``) leaves 应到 and is counted
  as 请假 instead; if they sign in anyway they count in 实到 like anyone signed in outside the
  roster, and the rate, which counts only the roster's arrivals, stays at most 100%.

The database stays the truth: every number here can be recomputed from it. When Redis cannot be
reached (or does not answer within ``LIVE_TIMEOUT_S``) the reads count in the database instead:
slower, still exact.

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
import time
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis as redis_lib
from flask import Flask, current_app
from redis.exceptions import RedisError
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db, get_redis
from app.services.contacts.phones import mask_name
from app.services.timeutil import fmt_hm
from models import Admission, Contact, Invitee, Leave, Meeting, MeetingSession, MeetingUnit, SignIn, Unit
from models.meetings import InviteeRole

log = logging.getLogger(__name__)

RECONCILE_S = 60
ROSTER_TTL_S = 10
RECENT_N = 12
UNGROUPED = ""
#: Sessions whose parsed roster a process keeps (the newest used).
ROSTERS_KEPT = 64
#: The most people one read of :func:`missing_people` returns.
MISSING_LIMIT_MAX = 500
#: How long a committed sign-in's event may be missing from the counters before a read rebuilds
#: them (events follow their commit by milliseconds; a killed worker's never come).
GRACE_S = 0.5
#: A missing sign-in made longer ago than this is not in flight: repaired at once, without the grace.
#: (Made is the app's clock before the commit; a round's commit and publish follow within a second
#: even under a burst. A false alarm costs one rebuild.)
STALE_S = 2.0
#: Live reads wait this long for Redis, then count in the database (a hung Redis must not hang a
#: screen); after a failure this process skips Redis for ``REDIS_BACKOFF_S``.
LIVE_TIMEOUT_S = 0.5
REDIS_BACKOFF_S = 1.0
#: The meeting's stream is trimmed to about this many events.
STREAM_MAXLEN = 2000


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


def public_late(late: bool, role: str | None) -> bool:
    """Whether a public screen (the big screen) labels a sign-in 迟到: only when it is late, and
    never a 领导's (a government meeting does not project that). Organizers' pages and the reports
    keep the plain ``late`` flag for everyone."""
    return bool(late) and role != InviteeRole.LEADER


@dataclass
class RecentSignIn:
    contact_id: int
    name: str
    unit: str
    at: str
    late: bool
    method: str
    seq: int
    #: 参会身份 at the meeting (None when not invited); decides :func:`public_late`, never sent.
    role: str | None = None


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
                with_leave: bool | None = None, public: bool = False) -> dict[str, Any]:
        """The numbers as JSON. ``with_missing``: each unit's list of who is missing (the mini
        program's); ``with_leave`` (default: as ``with_missing``): the people on leave, by name.
        The big screen gets neither; the console's live page gets the people on leave only (it
        reads who is missing a unit at a time, :func:`missing_people`). ``public`` (the big
        screen): the recent sign-ins' ``late`` as a projector may say it (:func:`public_late`)."""
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
        recent = []
        for r in self.recent:
            item = {**asdict(r), "name": name(r.name)}
            role = item.pop("role")
            if public:
                item["late"] = public_late(r.late, role)
            recent.append(item)
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


def low_key(session_id: int) -> str:
    """Every sign-in numbered up to this has been applied to the live hash."""
    return f"huiyi:hc:{session_id}:low"


def revokes_key(session_id: int) -> str:
    """How many revokes the live hash has applied (set by a rebuild, counted up by revoke events);
    compared with the session's ``revokes`` in the database to notice a revoke whose event was lost."""
    return f"huiyi:hc:{session_id}:revokes"


def ahead_key(session_id: int) -> str:
    """Order numbers applied above ``low`` (a sorted set): events arrive out of order."""
    return f"huiyi:hc:{session_id}:ahead"


def roster_key(session_id: int) -> str:
    # v2: the cached roster holds the people on leave and each person's title as well.
    # v3: and its stamp (also under :func:`stamp_key`), which processes key their parsed copy by.
    return f"huiyi:hc:{session_id}:roster:v3"


def stamp_key(session_id: int) -> str:
    return roster_key(session_id) + ":stamp"


def stream_key(meeting_id: int) -> str:
    """The meeting's live stream (written by :mod:`app.services.live.events`)."""
    return f"huiyi:live:{meeting_id}:stream"


def _value(unit_id: int, late: bool, seq: int | None = None) -> str:
    """A live hash field's value: unit, late flag and, when known, the sign-in's order number (a
    rebuild keeps the fields of sign-ins newer than what it read)."""
    return f"{unit_id}|{1 if late else 0}|{seq}" if seq else f"{unit_id}|{1 if late else 0}"


def _late(value: bytes | str) -> bool:
    parts = _as_text(value).split("|", 2)
    return len(parts) > 1 and parts[1] == "1"


# -- the Redis client of live reads -----------------------------------------------------------------
_redis_down_until = 0.0  # monotonic: this process reads live numbers from the database until then


class RedisBackingOff(redis_lib.exceptions.ConnectionError):
    """Redis failed a moment ago: the live reads go to the database without trying it."""


def live_redis(app: Flask | None = None, *, timeout: float = LIVE_TIMEOUT_S) -> redis_lib.Redis:
    """The app's Redis as the live reads use it: the same server and connection settings, but
    replies waited for at most ``timeout``, so a hung Redis costs a screen that long, not the
    client's 5 s; and none at all for ``REDIS_BACKOFF_S`` after a failure (:func:`redis_failed`).
    The in-process stand-in (no REDIS_URL) is returned as it is."""
    if time.monotonic() < _redis_down_until:
        raise RedisBackingOff("Redis failed a moment ago")
    app = app or current_app
    base = get_redis(app)
    clients = app.extensions.setdefault("huiyi_live_redis", {})
    known = clients.get(timeout)
    if known is not None and known[0] is base:
        return known[1]
    pool = base.connection_pool
    if type(base).__module__.startswith("fakeredis"):
        client = base
    else:
        kwargs = {**pool.connection_kwargs, "socket_timeout": timeout,
                  "socket_connect_timeout": min(timeout, pool.connection_kwargs.get("socket_connect_timeout")
                                                or timeout)}
        client = redis_lib.Redis(connection_pool=redis_lib.ConnectionPool(
            connection_class=pool.connection_class, max_connections=pool.max_connections, **kwargs))
    clients[timeout] = (base, client)
    return client


def redis_backing_off() -> bool:
    """True while live reads go without Redis after a failure (other reads of the same page can
    skip it too rather than wait on it)."""
    return time.monotonic() < _redis_down_until


def redis_failed(exc: Exception, what: str) -> None:
    """Note a failed live read: the next ones skip Redis for a moment."""
    global _redis_down_until
    if not isinstance(exc, RedisBackingOff):
        log.warning("live %s: Redis unavailable (%s); counting in the database", what, exc)
    _redis_down_until = time.monotonic() + REDIS_BACKOFF_S


# -- fed by live_events after each commit -----------------------------------------------------------
def record_signins(payloads: list[dict[str, Any]], pipe=None) -> None:
    """One script per session for these sign-ins' events: set their fields (idempotent: a
    replayed event cannot count anyone twice) and move ``low`` past the order numbers now all
    applied. ``pipe``: a Redis pipeline to queue the update on (the live events'), else sent at once."""
    target = pipe if pipe is not None else get_redis()
    for session_id, events in _by_session(payloads).items():
        args: list[Any] = []
        for p in events:
            args += [str(p["contact_id"]), _value(p["unit_id"], p.get("late", False), p.get("seq")),
                     p.get("seq") or ""]
        target.eval(_RECORD, 3, live_key(session_id), low_key(session_id), ahead_key(session_id), *args)


def record_revokes(payloads: list[dict[str, Any]], pipe=None) -> None:
    target = pipe if pipe is not None else get_redis()
    for session_id, events in _by_session(payloads).items():
        target.hdel(live_key(session_id), *(str(p["contact_id"]) for p in events))
        target.incrby(revokes_key(session_id), len(events))


def _by_session(payloads: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {}
    for p in payloads:
        grouped.setdefault(p["session_id"], []).append(p)
    return grouped


# Moves ``low`` (KEYS[2]) up through the numbers in ``ahead`` (KEYS[3]); shared by both scripts.
_ADVANCE = """
local function advance(low)
  while redis.call('ZSCORE', KEYS[3], low + 1) do low = low + 1 end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', low)
  redis.call('SET', KEYS[2], low)
end
"""
# KEYS: live hash, low, ahead. ARGV: (contact id, value, order number or '') per sign-in.
# EVAL, not EVALSHA: it is queued on a pipeline, where a script the server no longer has would fail
# the whole pipeline.
_RECORD = _ADVANCE + """
local low = tonumber(redis.call('GET', KEYS[2]) or '0')
for i = 1, #ARGV, 3 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  local seq = tonumber(ARGV[i + 2])
  if seq and seq > low then redis.call('ZADD', KEYS[3], seq, seq) end
end
advance(low)
"""
# KEYS: live hash, low, ahead, built. ARGV: low (every sign-in numbered up to it was read), the
# built marker's lifetime, then (contact id, value) per live sign-in read. The fields of sign-ins
# numbered above ``low`` were set by events newer than the read: they stay.
_REBUILD = _ADVANCE + """
local low = tonumber(ARGV[1])
local function hset(pairs)
  for i = 1, #pairs, 2000 do
    redis.call('HSET', KEYS[1], unpack(pairs, i, math.min(i + 1999, #pairs)))
  end
end
local kept = {}
local current = redis.call('HGETALL', KEYS[1])
for i = 1, #current, 2 do
  local seq = tonumber(string.match(current[i + 1], '^[^|]*|[^|]*|(%d+)$'))
  if seq and seq > low then
    kept[#kept + 1] = current[i]; kept[#kept + 1] = current[i + 1]
    redis.call('ZADD', KEYS[3], seq, seq)  -- applied: ``low`` may go past it
  end
end
redis.call('DEL', KEYS[1])
local rows = {}
for i = 3, #ARGV do rows[#rows + 1] = ARGV[i] end
hset(rows)
hset(kept)
advance(low)
redis.call('SET', KEYS[4], '1', 'EX', ARGV[2])
"""


# -- rebuild ----------------------------------------------------------------------------------------
def rebuild(session_id: int, *, announce: int | None = None) -> int:
    """Replace the session's live hash with what the database says; returns 实到.

    ``announce``: the meeting id whose stream hears of it (a ``resync`` event), so every open
    screen re-counts; a repair does, a routine reconcile need not."""
    # The committed order number first: every sign-in numbered up to it is in the read that follows.
    # (Numbers are taken in commit order, so whatever that read sees is also complete up to its own
    # highest number.)
    last, revokes = db.session.execute(
        select(MeetingSession.last_seq, MeetingSession.revokes).where(MeetingSession.id == session_id)).one()
    last = last or 0
    rows = db.session.execute(
        select(SignIn.contact_id, Contact.unit_id, SignIn.late, SignIn.seq).join(Contact, Contact.id == SignIn.contact_id)
        .where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
    ).all()
    low = max([last, *(seq or 0 for *_rest, seq in rows)])
    args: list[Any] = [low, RECONCILE_S]
    for contact_id, unit_id, late, seq in rows:
        args += [str(contact_id), _value(unit_id, late, seq)]
    r = live_redis(timeout=max(LIVE_TIMEOUT_S, 2.0))  # a large meeting's rebuild takes Redis a while
    r.eval(_REBUILD, 4, live_key(session_id), low_key(session_id), ahead_key(session_id), built_key(session_id),
           *args)
    # Read before the rows, like ``last``: a revoke committed in between is in the rows already and
    # its event then counts up to the database's number.
    r.set(revokes_key(session_id), revokes or 0)
    if announce is not None:
        r.xadd(stream_key(announce), {"data": json.dumps({"type": "resync", "meeting_id": announce,
                                                          "session_id": session_id})},
               maxlen=STREAM_MAXLEN, approximate=True)
    return len(rows)


def _ensure_built(session_id: int, r: redis_lib.Redis) -> None:
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


#: A process checks a session's counters against the database at most this often (reads in
#: between trust them): a burst's counts pay for no check, a gap waits at most this long more.
HEAL_EVERY_S = 0.5
_heal_due: dict[int, float] = {}


def heal_due(session_id: int) -> bool:
    """True (and the next check scheduled) when this process should check the session now."""
    now = time.monotonic()
    if _heal_due.get(session_id, 0.0) > now:
        return False
    _heal_due[session_id] = now + HEAL_EVERY_S
    return True


#: How long a gap's first sighting is remembered (far longer than ``GRACE_S``).
GAP_KEEP_MS = 10_000


def revoke_gap_key(session_id: int) -> str:
    """When a revoke's missing event was first seen (as :func:`gap_key`, for revokes)."""
    return f"huiyi:hc:{session_id}:revoke-gap"


def gap_key(session_id: int) -> str:
    """The committed order number when a gap was first seen, kept ``GAP_KEEP_MS`` (its age is
    read from its TTL): shared, so the first read of any process starts the grace."""
    return f"huiyi:hc:{session_id}:gap"


def heal(ref: SessionRef, r: redis_lib.Redis | None = None) -> bool:
    """Repair the counters if a sign-in committed more than ``GRACE_S`` ago has not reached them
    (see the module's docstring); True if they were rebuilt. One Redis round trip and one
    primary-key read."""
    r = r if r is not None else live_redis()
    pipe = r.pipeline(transaction=False)
    pipe.get(low_key(ref.session_id))
    pipe.get(gap_key(ref.session_id))
    pipe.pttl(gap_key(ref.session_id))
    pipe.get(revokes_key(ref.session_id))
    low, seen, ttl_ms, applied = pipe.execute()
    low = int(low or 0)
    committed = _committed(ref.session_id)
    if committed is None:
        return False
    last, revokes = committed
    if low >= last:
        if applied is None or int(applied) >= revokes:
            return False
        # A revoke committed whose event has not come: in flight for GRACE_S at most, else lost
        # (its worker died between the commit and the publish). No order number dates it, so the
        # first sighting is kept and the repair waits out the grace.
        if r.set(revoke_gap_key(ref.session_id), revokes, nx=True, px=GAP_KEEP_MS):
            return False
        if (GAP_KEEP_MS - max(r.pttl(revoke_gap_key(ref.session_id)), 0)) / 1000 < GRACE_S:
            return False
    elif seen is None or low >= int(seen):
        # A new gap (or the last one closed and another opened): events in flight close it soon,
        # unless the first sign-in missing is older than any event in flight (its worker died).
        if _age_s(ref.session_id, low + 1) < STALE_S:
            r.set(gap_key(ref.session_id), last, px=GAP_KEEP_MS)
            return False
    elif (GAP_KEEP_MS - max(ttl_ms, 0)) / 1000 < GRACE_S:
        return False
    # One reader repairs; the others go on with the counters as they are for this read.
    if not r.set(f"huiyi:hc:{ref.session_id}:repairing", "1", nx=True, px=int(GRACE_S * 1000)):
        return False
    r.delete(gap_key(ref.session_id), revoke_gap_key(ref.session_id))
    log.warning("headcount of session %s misses committed events (sign-ins %s applied of %s, revokes %s of %s): "
                "rebuilding", ref.session_id, low, last, applied, revokes)
    rebuild(ref.session_id, announce=ref.meeting_id)
    return True


def _read_outside_session(statement, *, row: bool = False) -> Any:
    """One value (``row``: the first row) on a connection of its own, returned to the pool at once.

    The gap check runs inside reads of every kind (pages, streams, jobs, the drills' checks), whose
    session may live long or never be removed by its caller: a read there would open a transaction
    that holds its locks until then (a stream's would hold them for its whole life). A caller already
    in a transaction (or a session bound to one connection, as tests' are) reads in it: nothing new
    is opened then, and it sees what that transaction sees."""
    session = db.session()  # the scoped session's current Session
    if session.in_transaction() or not isinstance(session.get_bind(), Engine):
        result = session.execute(statement)
    else:
        with db.engine.connect() as conn:
            result = conn.execute(statement)
            return result.first() if row else result.scalar()
    return result.first() if row else result.scalar()


def _age_s(session_id: int, seq: int) -> float:
    """Seconds since the sign-in numbered ``seq`` was made (its ``signed_at``, taken just before its
    commit); 0 when there is none (yet)."""
    try:
        at = _read_outside_session(select(SignIn.signed_at).where(SignIn.session_id == session_id,
                                                                  SignIn.seq == seq))
    except SQLAlchemyError:
        return 0.0
    if at is None:
        return 0.0
    if at.tzinfo is None:  # SQLite keeps naive UTC
        at = at.replace(tzinfo=UTC)
    return (datetime.now(UTC) - at).total_seconds()


def _committed(session_id: int) -> tuple[int, int] | None:
    """The session's committed order number and revokes (None when the database cannot say)."""
    try:
        row = _read_outside_session(
            select(MeetingSession.last_seq, MeetingSession.revokes).where(MeetingSession.id == session_id), row=True)
        return (row[0] or 0, row[1] or 0) if row is not None else (0, 0)
    except SQLAlchemyError:
        log.warning("headcount gap check skipped for session %s: database unavailable", session_id)
        return None


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
    ``ROSTER_TTL_S``, dropped by :func:`forget_roster`). Without Redis, the database's."""
    try:
        return _cached_roster(ref, live_redis())
    except RedisError as exc:
        redis_failed(exc, "roster")
        return Roster("", *_load_people(ref))


def _cached_roster(ref: SessionRef, r: redis_lib.Redis) -> Roster:
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
    """Drop the cached roster (after invitees or leaves change) so the next read sees the new list.
    Without Redis there is nothing cached to drop (a roster cached before expires by itself)."""
    try:
        get_redis().delete(roster_key(session_id), stamp_key(session_id))
    except RedisError:
        log.warning("cached roster of session %s not dropped: Redis unavailable", session_id)


# -- reads ------------------------------------------------------------------------------------------
def numbers(meeting: Meeting, session: MeetingSession, *, recent: bool = True, missing: bool = True) -> Headcount:
    """The live numbers of ``session``: counters from Redis (rebuilt if lost), roster from the database."""
    return numbers_for(SessionRef.of(meeting, session), recent=recent, missing=missing)


def numbers_for(ref: SessionRef, *, recent: bool = True, missing: bool = True) -> Headcount:
    """``missing``: fill each unit's list of who is missing (the WeChat 未到 reply and the mini
    program want them); without, the counts cost a pass over who has arrived only. From the live
    counters (repaired first if they miss a committed sign-in, :func:`heal`), else, when Redis
    cannot be read, from the database."""
    try:
        r = live_redis()
        _ensure_built(ref.session_id, r)
        if heal_due(ref.session_id):
            heal(ref, r)
        live = r.hgetall(live_key(ref.session_id))
        people = _cached_roster(ref, r)
        arrivals = ((int(key), _late(value)) for key, value in live.items())
    except RedisError as exc:
        redis_failed(exc, "numbers")
        arrivals, people = _database_arrivals(ref.session_id), Roster("", *_load_people(ref))
    result = _count(ref, arrivals, people, missing=missing)
    if recent:
        result.recent = recent_signins(ref.session_id)
    return result


def _database_arrivals(session_id: int) -> list[tuple[int, bool]]:
    """(contact id, late) of the session's live sign-ins, from the database."""
    return [(cid, late) for cid, late in db.session.execute(
        select(SignIn.contact_id, SignIn.late).where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None)))]


def _count(ref: SessionRef, arrivals, people: Roster, *, missing: bool) -> Headcount:
    unit_arrived: dict[int, int] = {}
    group_arrived: dict[str, int] = {}
    arrived_ids: set[int] = set()
    late = arrived = 0
    for cid, is_late in arrivals:
        arrived += 1
        late += is_late
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
    return Headcount(ref.meeting_id, ref.session_id, expected=len(people.expected), arrived=arrived, late=late,
                     units=units, groups=groups, leave=len(people.on_leave), on_leave=people.leave_list,
                     listed=missing, stamp=people.stamp)


def screen_headcount(session_id: int) -> Headcount:
    """The numbers a big screen of the session shows (counts only), once any gap between the
    counters and the database has had its ``GRACE_S``: what the fault drills compare with
    :func:`database_truth` (``arrived``, ``late``). Needs an app context."""
    session = db.session.get(MeetingSession, session_id)
    if session is None:
        raise ValueError(f"no session {session_id}")
    ref = SessionRef.of(session.meeting, session)
    try:
        r = live_redis()
        _ensure_built(session_id, r)
        heal(ref, r)
        if r.exists(gap_key(session_id)):  # noticed, not yet outlived its grace: a screen shows this next
            time.sleep(GRACE_S)
            heal(ref, r)
    except RedisError as exc:
        redis_failed(exc, "screen headcount")  # counted in the database below: nothing to wait for
    return numbers_for(ref, recent=False, missing=False)


def missing_people(ref: SessionRef, *, unit_id: int | None = None, query: str = "", after: int | None = None,
                   limit: int = 100) -> dict[str, Any]:
    """Who is missing, a page at a time: of one unit, or matching ``query`` (in the name, 职务 or
    unit, any case), or both; in the roster's order. ``after``: the last contact id of the page
    before (``next`` of its answer). Returns ``{"people": [{"id", "name", "title", "unit_id",
    "unit"}], "total": how many match, "next": the cursor of the next page or None}``."""
    try:
        r = live_redis()
        _ensure_built(ref.session_id, r)
        if heal_due(ref.session_id):
            heal(ref, r)
        arrived = {int(k) for k in r.hkeys(live_key(ref.session_id))}
        people = _cached_roster(ref, r)
    except RedisError as exc:
        redis_failed(exc, "missing list")
        arrived = {cid for cid, _late in _database_arrivals(ref.session_id)}
        people = Roster("", *_load_people(ref))
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
        select(SignIn.seq, SignIn.signed_at, SignIn.late, SignIn.method, Contact.id, Contact.name, Unit.name,
               Invitee.role)
        .join(Contact, Contact.id == SignIn.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, (Invitee.meeting_id == SignIn.meeting_id) & (Invitee.contact_id == SignIn.contact_id))
        .where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
        .order_by(SignIn.seq.desc()).limit(limit)
    ).all()
    return [RecentSignIn(contact_id=cid, name=name, unit=unit, at=_hm(at), late=late, method=method, seq=seq,
                         role=role)
            for seq, at, late, method, cid, name, unit, role in rows]


def _hm(at: datetime | str) -> str:
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return fmt_hm(at)


def event_for_screen(payload: dict[str, Any], *, mask: bool, public: bool = False) -> dict[str, Any]:
    """A live event as a page shows it: masked name when the meeting asks, local time; on a
    ``public`` screen, ``late`` as :func:`public_late` has it."""
    out = {"type": payload.get("type"), "session_id": payload.get("session_id"), "seq": payload.get("seq"),
           "contact_id": payload.get("contact_id"), "unit_id": payload.get("unit_id")}
    if payload.get("type") == "signin":
        name = payload.get("name") or ""
        out.update(name=mask_name(name) if mask else name, unit=payload.get("unit") or "",
                   at=_hm(payload["at"]) if payload.get("at") else "",
                   late=public_late(payload.get("late"), payload.get("role")) if public else bool(payload.get("late")),
                   method=payload.get("method"))
    return out


def screen_key(secret_key: str, meeting_code: str, version: int = 0) -> str:
    """The big screen's access key: an HMAC of the meeting code, so guessing a code is not enough
    to watch a meeting's attendance. Organizers copy the full link from the console. ``version``
    (the meeting's ``screen_key_version``) retires the links given out before it was raised."""
    message = f"screen:{meeting_code}" if not version else f"screen:{meeting_code}:{version}"
    digest = hmac.new(secret_key.encode(), message.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def check_screen_key(secret_key: str, meeting_code: str, key: str | None, *, version: int = 0,
                     fallbacks: tuple[str, ...] | list[str] = ()) -> bool:
    """``fallbacks``: earlier SECRET_KEYs (Flask's SECRET_KEY_FALLBACKS), so rotating the secret keeps
    screens open during the change; bytes are compared (a non-ASCII key is simply wrong)."""
    if not key:
        return False
    return any(hmac.compare_digest(screen_key(secret, meeting_code, version).encode(), key.encode())
               for secret in (secret_key, *fallbacks))


def database_truth(session_id: int) -> tuple[int, int]:
    """(实到, late) straight from the database; for checks and tests."""
    rows = db.session.execute(
        select(SignIn.late).where(SignIn.session_id == session_id, SignIn.revoked_at.is_(None))
    ).scalars().all()
    return len(rows), sum(1 for late in rows if late)
