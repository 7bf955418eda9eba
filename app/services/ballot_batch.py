"""Ballots, many per transaction: the ballot path's group commit (:mod:`app.batching`).

A vote opening in a hall of 3,000 is 3,000 ballots within seconds. Each ballot alone pays a
transaction (BEGIN, the locked state read, the insert, COMMIT with a WAL flush) and two Redis round
trips for the live results. Here the ballots that arrived together are cast as one unit of work:

- per vote in the batch, one query reads the state under a share lock on the vote row (a close
  waits for the batch; ballots after the close see it) and which of the batch's voters are
  eligible; :func:`votes.check_ballot` then decides each ballot by the same rules as always;
- one statement inserts every voted-marker, ballot and choice (PostgreSQL: arrays through
  ``unnest``, data-modifying CTEs). The unique (vote, person) marker still decides: each marker row
  is ``ON CONFLICT DO NOTHING`` and only ballots whose marker went in are inserted, so a person
  voting twice, in this batch, another one in flight, or another process, gets "您已投票";
- one commit; then, per vote, one Redis call counts all its ballots and one event tells the screens.

Anonymity within a batch: markers are inserted in contact-id order, ballots and their choices in
the order of their random ids, so the position of a ballot among the rows its transaction wrote says
nothing about which marker it came with. The batch's rows share one ``xmin`` (as one ballot's rows
always did) until closing the vote rewrites them all (:func:`votes._unlink_anonymous`).

Each caller's ballot is answered only after the commit, with its own receipt or its own
:class:`votes.VoteError`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select

from app.batching import GroupCommitTimeout, group_commit
from app.extensions import db
from app.services import vote_results, votes
from app.services.vote_results import Snapshot
from app.services.votes import BallotReceipt, VoteError
from models.votes import Ballot, BallotChoice, Vote, VoteParticipation

#: Ballots per transaction at most (a batch is also bounded by the request threads per process).
MAX_BATCH = 128


@dataclass(frozen=True)
class VoteFacts:
    """What the ballot rules read from a vote besides its state: settings fixed when it was created.
    The state is read again, under the lock, in the batch."""

    id: int
    meeting_id: int
    session_id: int | None
    kind: str
    min_choices: int
    max_choices: int
    anonymous: bool
    eligibility: str
    eligible_roles: tuple[str, ...]
    eligible_groups: tuple[str, ...]
    option_ids: frozenset[int]

    @classmethod
    def of(cls, vote: Vote) -> VoteFacts:
        return cls(vote.id, vote.meeting_id, vote.session_id, vote.kind, vote.min_choices, vote.max_choices,
                   vote.anonymous, vote.eligibility, tuple(vote.eligible_roles or ()),
                   tuple(vote.eligible_groups or ()), frozenset(o.id for o in vote.options))


@dataclass(frozen=True)
class BallotItem:
    vote: VoteFacts
    contact_id: int
    contact_active: bool
    option_ids: tuple
    at: datetime
    #: What the live event says besides the counters (read in the caller's request).
    snapshot: Snapshot


def submit(item: BallotItem) -> BallotReceipt:
    """Cast ``item``'s ballot; returns once it is committed.

    :raise VoteError: the ballot's refusal, as :func:`votes.cast_ballot` documents, or ``busy`` when
        the database did not answer in time (the ballot may or may not be stored).
    """
    if current_app.config.get("GROUP_COMMIT", True):
        _end_callers_transaction()
    try:
        return group_commit("ballots", cast_ballots, max_batch=MAX_BATCH)(item)
    except GroupCommitTimeout:
        raise VoteError("busy") from None


def _end_callers_transaction() -> None:
    """Commit the caller's transaction (its reads) before waiting for the batch, keeping what it
    loaded: a request thread waiting with a pooled connection checked out would, with as many
    request threads as pooled connections, leave none for the batch thread that it waits on."""
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire


@cache
def _state_statement(shape: tuple[str, bool, bool, bool]) -> sa.Select:
    """The vote's state under a share lock on its row, joined with those of ``contact_ids`` who are
    eligible: one row per eligible voter (or one with ``contact_id`` NULL), built once per shape."""
    eligible = votes.eligible_template(*shape).subquery()
    hits = (select(eligible.c.contact_id)
            .where(eligible.c.contact_id.in_(sa.bindparam("contact_ids", expanding=True))).subquery())
    return (select(Vote.state, Vote.opens_at, Vote.closes_at, hits.c.contact_id)
            .select_from(Vote).outerjoin(hits, sa.true())
            .where(Vote.id == sa.bindparam("vote_id")).with_for_update(read=True, of=Vote))


def cast_ballots(items: list[BallotItem]) -> list[BallotReceipt | VoteError]:
    """Cast every ballot of ``items`` in one transaction; one result per item, in order."""
    results: list[BallotReceipt | VoteError | None] = [None] * len(items)
    by_vote: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        by_vote.setdefault(item.vote.id, []).append(i)

    pending: list[tuple[int, str, list[int]]] = []  # (item index, ballot id, chosen option ids)
    for vote_id, indexes in by_vote.items():
        facts = items[indexes[-1]].vote
        rows = db.session.execute(_state_statement(votes.eligible_shape(facts)), {
            "vote_id": vote_id, "contact_ids": sorted({items[i].contact_id for i in indexes}),
            **votes.eligible_params(facts)}).all()
        if not rows:
            for i in indexes:
                results[i] = VoteError("vote_not_found")
            continue
        eligible = {row.contact_id for row in rows if row.contact_id is not None}
        voting: set[int] = set()
        for i in indexes:
            item = items[i]
            try:
                chosen = votes.check_ballot(facts, rows[0], item.at, eligible=item.contact_active and
                                            item.contact_id in eligible, option_ids=item.option_ids)
            except VoteError as exc:
                results[i] = exc
                continue
            if item.contact_id in voting:  # the same person twice in one batch: the first one counts
                results[i] = VoteError("already_voted")
                continue
            voting.add(item.contact_id)
            pending.append((i, uuid.uuid4().hex, chosen))

    stored = _insert(items, pending)
    db.session.commit()

    counted: dict[int, list[tuple[str, list[int]]]] = {}
    for i, ballot_id, chosen in pending:
        if ballot_id in stored:
            results[i] = BallotReceipt(ballot_id, chosen)
            counted.setdefault(items[i].vote.id, []).append((ballot_id, chosen))
        else:  # the marker was already there: another ballot of theirs was committed first
            results[i] = VoteError("already_voted")
    for vote_id, ballots in counted.items():
        vote_results.ballots_committed(items[by_vote[vote_id][-1]].snapshot, ballots)
    return results  # type: ignore[return-value]


# PostgreSQL: all markers, ballots and choices of a batch in one statement whose text never changes
# (arrays, one per column). A ballot goes in only if its marker did (the join on ``marker``); the
# insertion order is the contact id for markers, the random ballot id for ballots and choices.
_PG_INSERT = sa.text("""
    WITH marker AS (
        INSERT INTO vote_participations (vote_id, contact_id)
        SELECT m.vote_id, m.contact_id
        FROM unnest(CAST(:m_vote AS integer[]), CAST(:m_contact AS integer[])) AS m(vote_id, contact_id)
        ORDER BY m.contact_id, m.vote_id
        ON CONFLICT (vote_id, contact_id) DO NOTHING
        RETURNING vote_id, contact_id),
    ballot AS (
        INSERT INTO ballots (id, vote_id, contact_id, cast_at)
        SELECT b.id, b.vote_id, b.contact_id, b.cast_at
        FROM unnest(CAST(:b_id AS varchar[]), CAST(:b_vote AS integer[]), CAST(:b_voter AS integer[]),
                    CAST(:b_contact AS integer[]), CAST(:b_cast_at AS timestamptz[]))
             AS b(id, vote_id, voter, contact_id, cast_at)
        JOIN marker ON marker.vote_id = b.vote_id AND marker.contact_id = b.voter
        ORDER BY b.id
        RETURNING id)
    INSERT INTO ballot_choices (ballot_id, option_id)
    SELECT c.ballot_id, c.option_id
    FROM unnest(CAST(:c_ballot AS varchar[]), CAST(:c_option AS integer[])) AS c(ballot_id, option_id)
    JOIN ballot ON ballot.id = c.ballot_id
    ORDER BY c.ballot_id, c.option_id
    RETURNING ballot_id""")


def _insert(items: list[BallotItem], pending: list[tuple[int, str, list[int]]]) -> set[str]:
    """Insert the pending ballots (marker first); returns the ids of the ballots stored."""
    if not pending:
        return set()
    rows = []  # (ballot id, vote id, voter, stored contact, stored time, chosen), in ballot-id order
    for i, ballot_id, chosen in sorted(pending, key=lambda p: p[1]):
        item = items[i]
        named = not item.vote.anonymous
        rows.append((ballot_id, item.vote.id, item.contact_id, item.contact_id if named else None,
                     item.at if named else None, chosen))
    if db.session.get_bind().dialect.name == "postgresql":
        markers = sorted((r[2], r[1]) for r in rows)
        params = {"m_vote": [v for _c, v in markers], "m_contact": [c for c, _v in markers],
                  "b_id": [r[0] for r in rows], "b_vote": [r[1] for r in rows], "b_voter": [r[2] for r in rows],
                  "b_contact": [r[3] for r in rows], "b_cast_at": [r[4] for r in rows],
                  "c_ballot": [r[0] for r in rows for _o in r[5]], "c_option": [o for r in rows for o in r[5]]}
        return set(db.session.execute(_PG_INSERT, params).scalars())
    return _insert_one_by_one(rows)


def _insert_one_by_one(rows: list[tuple]) -> set[str]:
    """SQLite (development): the same inserts, a statement per row."""
    from sqlalchemy.dialects.sqlite import insert

    marker = (insert(VoteParticipation).values(vote_id=sa.bindparam("v"), contact_id=sa.bindparam("c"))
              .on_conflict_do_nothing(index_elements=["vote_id", "contact_id"]).returning(VoteParticipation.id))
    stored = set()
    for ballot_id, vote_id, voter, *_stored in sorted(rows, key=lambda r: (r[2], r[1])):
        if db.session.execute(marker, {"v": vote_id, "c": voter}).scalar_one_or_none() is not None:
            stored.add(ballot_id)
    for ballot_id, vote_id, _voter, contact_id, cast_at, chosen in rows:
        if ballot_id in stored:
            db.session.add(Ballot(id=ballot_id, vote_id=vote_id, contact_id=contact_id, cast_at=cast_at,
                                  choices=[BallotChoice(option_id=o) for o in chosen]))
    db.session.flush()
    return stored
