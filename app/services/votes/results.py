"""Vote results: exact tallies from the database, and live counters in Redis for screens.

Live counters (rebuildable, never the truth):
- ``seen``: a Redis set of the ballot ids already counted, and ``totals``: a hash with the number of
  ballots (``b``) and the count per option (``o:<id>``). A ballot is added to both by one Lua script
  (atomic in Redis) only if its id is not yet in ``seen``, so adding the same ballot twice counts it
  once;
- that makes a rebuild a *union*: it adds every ballot found in the database that is not yet seen.
  Ballots are never removed, so a rebuild racing with ballots being committed can neither drop one
  nor count one twice. Every read of live results compares the counted ballots with one indexed
  ``COUNT`` in the database: while the counters are behind it answers from the database, and it
  rebuilds when they stay behind (an after-commit update was lost) or the ``built`` marker is
  missing (Redis lost or flushed);
- after each commit of ballots (many at a time, :mod:`app.services.votes.ballots`) they are counted
  by one script call and the new totals are published once on the meeting's live stream
  (``{"type": "vote", ...}``) for the big screen and the organizer page. Events from concurrent
  batches may reach the stream out of order; while a vote is open its counts only grow, so a
  consumer shows the event with the highest ``ballots`` it has seen for the vote.

Closed votes are always counted from the database.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy import select

from app import jobs
from app.extensions import db, get_redis
from app.services import audit
from app.services.exports import runs_as_job, safe_filename, stored, write_xlsx
from app.services.live import events as live_events
from app.services.meetings import organizers
from app.services.votes.rules import CLOSED, KIND_LABELS, STATE_LABELS, effective_state, eligible_ids_query
from models import Contact, Meeting, Unit
from models.votes import Ballot, BallotChoice, Vote, VoteOption

log = logging.getLogger(__name__)
#: The counters of a finished meeting expire on their own; they are rebuilt if asked for again.
KEEP_S = 7 * 24 * 3600
ELIGIBLE_TTL_S = 5
STUCK_S = 2


@dataclass
class OptionCount:
    id: int
    label: str
    count: int = 0
    percent: float = 0.0


#: The pass rule of a 表决: 赞成 more than half of those entitled to vote (过半数, the rule of the
#: 党委/人大 meetings this serves), judged once the vote is closed.
PASS_RULE = "赞成票超过应投票人数的一半为通过"


@dataclass
class Results:
    vote_id: int
    meeting_id: int
    title: str
    kind: str
    state: str
    ballots: int
    eligible: int
    options: list[OptionCount] = field(default_factory=list)

    @property
    def turnout(self) -> float:
        """Ballots against those eligible, in percent with one decimal."""
        return round(self.ballots * 100.0 / self.eligible, 1) if self.eligible else 0.0

    @property
    def outcome(self) -> str | None:
        """通过 / 未通过 for a closed 表决 (``PASS_RULE``); None for another kind or before the close."""
        if self.kind != "motion" or self.state != CLOSED:
            return None
        yes = next((o.count for o in self.options if o.label == "赞成"), 0)
        return "通过" if yes * 2 > self.eligible else "未通过"

    @property
    def totals(self) -> dict[str, int]:
        return {str(o.id): o.count for o in self.options}

    def to_dict(self) -> dict[str, Any]:
        return {"type": "vote", "vote_id": self.vote_id, "meeting_id": self.meeting_id, "title": self.title,
                "kind": self.kind, "state": self.state, "ballots": self.ballots, "eligible": self.eligible,
                "turnout": self.turnout, "outcome": self.outcome, "totals": self.totals,
                "options": [{"id": o.id, "label": o.label, "count": o.count, "percent": o.percent}
                            for o in self.options]}


# -- keys ------------------------------------------------------------------------------------------
def seen_key(vote_id: int) -> str:
    return f"huiyi:vote:{vote_id}:seen"


def totals_key(vote_id: int) -> str:
    return f"huiyi:vote:{vote_id}:totals"


def built_key(vote_id: int) -> str:
    return f"huiyi:vote:{vote_id}:built"


def eligible_key(vote_id: int) -> str:
    return f"huiyi:vote:{vote_id}:eligible"


# -- exact counts from the database ----------------------------------------------------------------
def tally_from_db(vote_id: int, conn=None) -> tuple[int, dict[int, int]]:
    """(number of ballots, {option id: count}) as stored, read in one statement (one snapshot), so
    the totals always add up against the ballot count even while ballots are being committed."""
    conn = conn if conn is not None else db.session
    total = select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == vote_id).scalar_subquery()
    rows = conn.execute(
        select(BallotChoice.option_id, sa.func.count(), total).join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.vote_id == vote_id).group_by(BallotChoice.option_id)
    ).all()
    if not rows:  # every ballot has a choice: no choices, no ballots
        return 0, {}
    return rows[0][2], {option_id: n for option_id, n, _total in rows}


def eligible_count(vote: Vote, conn=None) -> int:

    conn = conn if conn is not None else db.session
    return conn.execute(select(sa.func.count()).select_from(eligible_ids_query(vote).subquery())).scalar_one()


def results(vote: Vote, *, live: bool = True) -> Results:
    """The vote's results: from the live counters while it is open, from the database otherwise."""

    state = effective_state(vote)
    if live and state != CLOSED:
        ballots, counts = live_totals(vote.id)
        eligible = _cached_eligible(vote)
    else:
        ballots, counts = tally_from_db(vote.id)
        eligible = eligible_count(vote)
    return _build(vote, state, ballots, counts, eligible)


def _build(vote: Vote, state: str, ballots: int, counts: dict[int, int], eligible: int) -> Results:
    options = []
    for option in vote.options:
        n = counts.get(option.id, 0)
        options.append(OptionCount(option.id, option.label, n, round(n * 100.0 / ballots, 1) if ballots else 0.0))
    return Results(vote.id, vote.meeting_id, vote.title, vote.kind, state, ballots, eligible, options)


# -- live counters ---------------------------------------------------------------------------------
#: Count ballots unless their ids were already counted, atomically (no lost or double counts under
#: any concurrency); return whether the counters are built and the totals right after. ARGV holds
#: each ballot as its id, its number of choices, then those choices' ``o:<id>`` fields.
_ADD_LUA = """
local i = 1
while i <= #ARGV do
  local n = tonumber(ARGV[i + 1])
  if redis.call('SADD', KEYS[1], ARGV[i]) == 1 then
    redis.call('HINCRBY', KEYS[2], 'b', 1)
    for j = i + 2, i + 1 + n do redis.call('HINCRBY', KEYS[2], ARGV[j], 1) end
  end
  i = i + 2 + n
end
return {redis.call('EXISTS', KEYS[3]), redis.call('HGETALL', KEYS[2])}
"""


def _ballot_args(ballots: list[tuple[str, list[int]]]) -> list:
    args: list = []
    for ballot_id, option_ids in ballots:
        args += [ballot_id, len(option_ids), *[f"o:{o}" for o in option_ids]]
    return args


def _add_ballots(r: redis_lib.Redis, vote_id: int, ballots: list[tuple[str, list[int]]]) -> tuple[bool, dict]:
    """Count ballots not yet counted (idempotent); returns (built, raw totals after them)."""
    built, flat = r.register_script(_ADD_LUA)(keys=_keys(vote_id), args=_ballot_args(ballots))
    return bool(built), dict(zip(flat[::2], flat[1::2], strict=True))


def _keys(vote_id: int) -> list[str]:
    return [seen_key(vote_id), totals_key(vote_id), built_key(vote_id)]


def _add_many(r: redis_lib.Redis, vote_id: int, ballots: list[tuple[str, list[int]]]) -> None:
    known = {m.decode() if isinstance(m, bytes) else m for m in r.smembers(seen_key(vote_id))}
    missing = [b for b in ballots if b[0] not in known]
    script = r.register_script(_ADD_LUA)
    pipe = r.pipeline(transaction=False)
    for start in range(0, len(missing), 500):
        script(keys=_keys(vote_id), args=_ballot_args(missing[start:start + 500]), client=pipe)
    pipe.execute()


def rebuild(vote_id: int, conn=None) -> None:
    """Add every stored ballot not yet counted (a union: safe while ballots keep arriving)."""
    conn = conn if conn is not None else db.session
    rows = conn.execute(
        select(BallotChoice.ballot_id, BallotChoice.option_id).join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.vote_id == vote_id)
    ).all()
    by_ballot: dict[str, list[int]] = {}
    for ballot_id, option_id in rows:
        by_ballot.setdefault(ballot_id, []).append(option_id)
    r = get_redis()
    r.hsetnx(totals_key(vote_id), "b", 0)  # an empty vote is "built" with zero ballots
    _add_many(r, vote_id, list(by_ballot.items()))
    r.set(built_key(vote_id), "1", ex=KEEP_S)


def stored_ballots(vote_id: int, conn=None) -> int:
    conn = conn if conn is not None else db.session
    return conn.execute(select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == vote_id)).scalar_one()


def live_totals(vote_id: int) -> tuple[int, dict[int, int]]:
    """The live counters, checked against the number of stored ballots.

    Redis is read before the database count: every ballot Redis has counted was committed before,
    so Redis can only be behind the count (a ballot between its commit and its after-commit update,
    or one whose update was lost), never ahead unless ballots were deleted. While behind, this read
    answers from the database (exact); counters stuck behind for ``STUCK_S`` are rebuilt (a union).
    """
    r = get_redis()
    try:
        built = r.exists(built_key(vote_id))
        ballots, counts = _parse_totals(r.hgetall(totals_key(vote_id)))
        stored = stored_ballots(vote_id)
        if built and ballots == stored:
            return ballots, counts
        if built and ballots < stored:
            if not _stuck(r, vote_id, ballots):
                return tally_from_db(vote_id)
        elif built:  # ahead of the database: ballots were deleted behind our back; start over
            r.delete(built_key(vote_id), seen_key(vote_id), totals_key(vote_id))
        rebuild(vote_id)
        return _parse_totals(r.hgetall(totals_key(vote_id)))
    except redis_lib.RedisError:
        log.exception("live vote counters unavailable for vote %s; counting in the database", vote_id)
        return tally_from_db(vote_id)


def _stuck(r: redis_lib.Redis, vote_id: int, ballots: int) -> bool:
    """Whether the counters have stayed at ``ballots`` (behind the database) for ``STUCK_S``."""
    key = f"huiyi:vote:{vote_id}:behind"
    if r.set(key, ballots, nx=True, ex=STUCK_S * 5):
        return False
    raw, ttl = r.get(key), r.ttl(key)
    if raw is None or int(raw) != ballots:  # moving on: counters are catching up
        r.set(key, ballots, ex=STUCK_S * 5)
        return False
    if ttl >= 0 and STUCK_S * 5 - ttl >= STUCK_S:
        r.delete(key)
        return True
    return False


def _parse_totals(raw: dict) -> tuple[int, dict[int, int]]:
    ballots, counts = 0, {}
    for k, v in raw.items():
        key = k.decode() if isinstance(k, bytes) else k
        if key == "b":
            ballots = int(v)
        elif key.startswith("o:"):
            counts[int(key[2:])] = int(v)
    return ballots, counts


def _cached_eligible(vote: Vote, conn=None) -> int:
    r = get_redis()
    try:
        cached = r.get(eligible_key(vote.id))
        if cached is not None:
            return int(cached)
    except redis_lib.RedisError:
        return eligible_count(vote, conn)
    n = eligible_count(vote, conn)
    try:
        r.set(eligible_key(vote.id), n, ex=ELIGIBLE_TTL_S)
    except redis_lib.RedisError:
        pass
    return n


# -- after commit ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """What a live event needs besides the counters, read before the commit: after it the session may
    not emit SQL, and taking a second pooled connection per ballot would starve a busy pool."""

    vote_id: int
    meeting_id: int
    title: str
    kind: str
    state: str
    eligible: int
    options: tuple[tuple[int, str], ...]


def snapshot(vote: Vote) -> Snapshot:

    return Snapshot(vote.id, vote.meeting_id, vote.title, vote.kind, effective_state(vote), _event_eligible(vote),
                    tuple((o.id, o.label) for o in vote.options))


#: (vote id, created at) -> (expires at (monotonic), eligible count): the number shown with each
#: ballot's live event, held in the process for a second in front of the Redis copy, so a burst of
#: ballots does not pay a Redis round trip each for a number that changes only with sign-ins.
_EVENT_ELIGIBLE_S = 1.0
_event_eligible_memo: dict[tuple[int, object], tuple[float, int]] = {}


def _event_eligible(vote: Vote) -> int:
    key, now = (vote.id, vote.created_at), time.monotonic()
    held = _event_eligible_memo.get(key)
    if held is not None and held[0] > now:
        return held[1]
    n = _cached_eligible(vote)
    if len(_event_eligible_memo) > 1000:  # votes come and go; never grow without bound
        _event_eligible_memo.clear()
    _event_eligible_memo[key] = (now + _EVENT_ELIGIBLE_S, n)
    return n


def ballots_committed(snap: Snapshot, ballots: list[tuple[str, list[int]]]) -> None:
    """Count committed ballots (``(ballot id, option ids)``) of one vote and tell the meeting's live
    stream once: one Redis call for the counters, one for the event, however many ballots."""
    r = get_redis()
    try:
        # Counted even when the counters are not built (adding is idempotent, a rebuild is a union);
        # but then the totals are partial, so nothing is published until a reader has rebuilt them.
        built, raw = _add_ballots(r, snap.vote_id, ballots)
        if not built:
            return
        total, counts = _parse_totals(raw)
    except Exception:
        log.exception("could not count ballots for vote %s; the next read rebuilds the counters", snap.vote_id)
        return
    _publish(snap, total, counts)


def _publish(snap: Snapshot, ballots: int, counts: dict[int, int]) -> None:

    options = [OptionCount(oid, label, counts.get(oid, 0), round(counts.get(oid, 0) * 100.0 / ballots, 1)
                           if ballots else 0.0) for oid, label in snap.options]
    res = Results(snap.vote_id, snap.meeting_id, snap.title, snap.kind, snap.state, ballots, snap.eligible, options)
    live_events.publish(snap.meeting_id, res.to_dict())


def announce(vote_id: int) -> None:
    """Publish a vote's results after it opened or closed (rare: a connection of its own is fine)."""
    try:
        with db.engine.connect() as conn:
            vote = _detached_vote(conn, vote_id)
            if vote is None:
                return

            state = effective_state(vote)
            if state == CLOSED:
                ballots, counts = tally_from_db(vote_id, conn)
            else:
                rebuild(vote_id, conn)
                ballots, counts = _parse_totals(get_redis().hgetall(totals_key(vote_id)))
            snap = Snapshot(vote.id, vote.meeting_id, vote.title, vote.kind, state, eligible_count(vote, conn),
                            tuple((o.id, o.label) for o in vote.options))
    except Exception:
        log.exception("could not compute live results for vote %s", vote_id)
        return
    _publish(snap, ballots, counts)


def _detached_vote(conn, vote_id: int) -> Vote | None:
    """A plain Vote (with options) read on ``conn``, not attached to the request's session."""
    row = conn.execute(select(Vote.__table__).where(Vote.id == vote_id)).mappings().first()
    if row is None:
        return None
    options = conn.execute(select(VoteOption.__table__).where(VoteOption.vote_id == vote_id)
                           .order_by(VoteOption.position)).mappings().all()
    vote = Vote(**dict(row))
    vote.options = [VoteOption(**dict(o)) for o in options]
    return vote


# -- export ----------------------------------------------------------------------------------------
def export_xlsx(meeting, vote: Vote, *, actor) -> bytes:
    """The vote's results as xlsx (organizers only); named votes also list who chose what."""

    organizers.require_right(meeting, actor, "votes")
    res = results(vote, live=False)
    rows: list[list[object]] = [[o.label, o.count, f"{o.percent}%"] for o in res.options]
    rows += [[], ["投票", vote.title, ""], ["类型", KIND_LABELS.get(vote.kind, vote.kind), ""],
             ["状态", STATE_LABELS.get(res.state, res.state), ""], ["应投人数", res.eligible, ""],
             ["实投票数", res.ballots, ""], ["投票率", f"{res.turnout}%", ""],
             ["记名方式", "无记名" if vote.anonymous else "记名", ""]]
    if res.outcome:
        rows.insert(len(res.options) + 4, ["表决结果", res.outcome, PASS_RULE])  # after 状态
    if not vote.anonymous:
        labels = {o.id: o.label for o in vote.options}
        rows += [[], ["姓名", "单位", "选择"]]
        named = db.session.execute(
            select(Ballot.id, Contact.name, Unit.name).join(Contact, Contact.id == Ballot.contact_id)
            .join(Unit, Unit.id == Contact.unit_id).where(Ballot.vote_id == vote.id).order_by(Ballot.cast_at)
        ).all()
        choices: dict[str, list[str]] = {}
        for ballot_id, option_id in db.session.execute(
                select(BallotChoice.ballot_id, BallotChoice.option_id).join(Ballot, Ballot.id == BallotChoice.ballot_id)
                .where(Ballot.vote_id == vote.id)):
            choices.setdefault(ballot_id, []).append(labels.get(option_id, ""))
        rows += [[name, unit, "、".join(choices.get(bid, []))] for bid, name, unit in named]
    audit.record(f"contact:{actor.id}", "vote.export", meeting_id=meeting.id, target=f"vote:{vote.id}")
    return write_xlsx(["选项", "票数", "占比"], rows, sheet_title=vote.title)


def export_in_job(vote: Vote) -> bool:
    """The exports' one rule (app/services/exports.py): a named vote lists every ballot."""
    ballots = 0 if vote.anonymous else int(db.session.scalar(
        select(sa.func.count()).select_from(Ballot).where(Ballot.vote_id == vote.id)) or 0)
    return runs_as_job(ballots + len(vote.options) + 10, 3)


def export_filename(meeting, vote: Vote) -> str:
    return f"{safe_filename(meeting.title) or meeting.code}-投票结果-{safe_filename(vote.title) or vote.id}.xlsx"


def export_job(meeting_id: int, vote_id: int, contact_id: int) -> dict[str, str]:
    """The job behind a large vote export: the same file, kept for the download."""
    meeting = db.session.get(Meeting, meeting_id)
    vote = db.session.get(Vote, vote_id)
    actor = db.session.get(Contact, contact_id)
    jobs.report_progress(0, 2, "正在读取投票结果")
    data = export_xlsx(meeting, vote, actor=actor)
    jobs.report_progress(2, 2, "已生成")
    return stored(data, export_filename(meeting, vote))
