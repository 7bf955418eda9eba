"""Ballots, many per transaction: the ballot path's group commit (:mod:`app.batching`).

A vote opening in a hall of 3,000 is 3,000 ballots within seconds. Each ballot alone pays a
transaction (BEGIN, the locked state read, the insert, COMMIT with a WAL flush) and two Redis round
trips for the live results. Here the ballots that arrived together are cast as one unit of work:

- per vote in the batch, one query reads the vote (state, settings, its meeting's code and title)
  under a share lock on its row (a close waits for the batch; ballots after the close see it), its
  options come from a per-process copy (they never change), and one query tells who the vote's
  voters are (a WeChat identity's bound contact, or the contact given), whether they are active and
  whether eligible; :func:`vote_rules.check_ballot` then decides each ballot by the same rules as always.
  Callers therefore need not load the vote nor the voter (the H5 ballot page reads no database in
  its request thread): the receipt carries the vote, and a voter whose identity is gone or unbound
  gets ``voter_unknown``;
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
:class:`vote_rules.VoteError`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from app.batching import GroupCommitTimeout, committed, group_commit
from app.extensions import db
from app.services.votes import results as vote_results
from app.services.votes import rules as vote_rules
from app.services.votes.results import Snapshot
from app.services.votes.rules import BallotReceipt, VoteError
from models import Contact, Meeting, WechatIdentity
from models.votes import Ballot, BallotChoice, Vote, VoteOption, VoteParticipation

#: Ballots per transaction at most (a batch is also bounded by the request threads per process).
MAX_BATCH = 128
#: Batch threads per process. One: the ballots that arrive while a batch is in the database all go in
#: the next one (a second thread would start a small batch at once, for more CPU per ballot).
BATCH_THREADS = 1


@dataclass(frozen=True)
class BallotItem:
    #: The meeting the vote must belong to: its id, or its code (either may be None, not both).
    meeting_id: int | None
    meeting_code: str | None
    vote_id: int
    #: Who votes: a WeChat identity (the batch finds its bound contact) or a contact; exactly one of them.
    identity_id: int | None
    contact_id: int | None
    option_ids: tuple
    at: datetime


#: The database cannot be reached: refused, restarting (its connections terminated), no free connection.
DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)


def submit(item: BallotItem) -> BallotReceipt:
    """Cast ``item``'s ballot; returns once it is committed.

    :raise VoteError: the ballot's refusal, as :func:`votes.cast_ballot` documents, or ``busy`` when
        the database did not answer in time (the ballot may or may not be stored).
    """
    try:
        if current_app.config.get("GROUP_COMMIT", True):
            _end_callers_transaction()
        return group_commit("ballots", cast_ballots, max_batch=MAX_BATCH, threads=BATCH_THREADS)(item)
    except (GroupCommitTimeout, *DATABASE_DOWN):
        # The database did not answer (too slow, restarting, unreachable): the person is told to try
        # again and to look whether the ballot was recorded, since a commit may have gone through.
        raise VoteError("busy") from None


def _end_callers_transaction() -> None:
    """Commit the caller's transaction (its reads) and let go of its session before waiting for the
    batch. A request thread waiting with a pooled connection checked out would, with as many request
    threads as pooled connections, leave none for the batch thread it waits on. What the caller
    loaded stays readable (committed without expiring, then detached); a later query in the request
    gets a fresh session, and a request that makes none has nothing left to commit. A caller that
    never touched the database (the H5 ballot page) has no session to end."""
    if not db.session.registry.has():
        return
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = expire
    db.session.remove()


#: The vote row under a share lock (many batches proceed together, a close waits for them), with its
#: meeting's code and title.
_VOTE = (select(Vote.__table__, Meeting.code.label("meeting_code"), Meeting.title.label("meeting_title"))
         .join(Meeting, Meeting.id == Vote.meeting_id)
         .where(Vote.id == sa.bindparam("vote_id")).with_for_update(read=True, of=Vote))
_OPTIONS = (select(VoteOption.__table__).where(VoteOption.vote_id == sa.bindparam("vote_id"))
            .order_by(VoteOption.position))
#: (vote id, created at) -> its options' columns: options never change once a vote exists.
_options_memo: dict[tuple[int, object], list[dict]] = {}


@cache
def _voters_statement(shape: tuple[str, bool, bool, bool], dialect: str) -> sa.Select:
    """The voters of one vote's ballots: ``identity_ids`` by their bound contact (an identity that is
    gone or unbound has no row), ``contact_ids`` as given (``identity_id`` NULL); each with whether
    the contact is active and eligible under the vote's rule (:func:`vote_rules.eligible_template`).
    Built once per eligibility shape (bound parameters) and database."""
    by_identity = (select(WechatIdentity.id.label("identity_id"), Contact.id.label("contact_id"), Contact.active)
                   .join(Contact, Contact.id == WechatIdentity.contact_id)
                   .where(WechatIdentity.id.in_(sa.bindparam("identity_ids", expanding=True))))
    by_contact = (select(sa.cast(sa.null(), sa.Integer).label("identity_id"), Contact.id.label("contact_id"),
                         Contact.active)
                  .where(Contact.id.in_(sa.bindparam("contact_ids", expanding=True))))
    voters = sa.union_all(by_identity, by_contact).subquery("voters")
    if dialect != "postgresql":
        # SQLite (the demo's database) has no LATERAL: the same lookup per voter as a correlated EXISTS,
        # its condition inside the template's own query so that it goes through the index too.
        template = vote_rules.eligible_template(*shape)
        lookup = template.where(template.selected_columns[0] == voters.c.contact_id)
        return select(voters.c.identity_id, voters.c.contact_id, voters.c.active,
                      lookup.exists().label("eligible"))
    eligible = vote_rules.eligible_template(*shape).subquery("eligible")
    # Per voter (LATERAL), so the lookup goes by contact id through the index rather than hashing
    # every eligible id of the meeting.
    found = (select(eligible.c.contact_id).where(eligible.c.contact_id == voters.c.contact_id)
             .limit(1).lateral("found"))
    return (select(voters.c.identity_id, voters.c.contact_id, voters.c.active,
                   found.c.contact_id.is_not(None).label("eligible"))
            .select_from(voters.outerjoin(found, sa.true())))


def _voters(vote: Vote, items: list[BallotItem]) -> dict[tuple[str, int], tuple[int, bool]]:
    """``("identity" | "contact", id)`` -> (contact id, may vote: active and eligible) for the voters
    of ``items`` (ballots in ``vote``) that exist; one query."""
    statement = _voters_statement(vote_rules.eligible_shape(vote), db.session.get_bind().dialect.name)
    rows = db.session.execute(statement, {
        "identity_ids": sorted({i.identity_id for i in items if i.identity_id is not None}),
        "contact_ids": sorted({i.contact_id for i in items if i.identity_id is None and i.contact_id is not None}),
        **vote_rules.eligible_params(vote)})
    return {(("identity", r.identity_id) if r.identity_id is not None else ("contact", r.contact_id)):
            (r.contact_id, bool(r.active and r.eligible)) for r in rows}


def _voter_key(item: BallotItem) -> tuple[str, int | None]:
    return ("identity", item.identity_id) if item.identity_id is not None else ("contact", item.contact_id)


def _locked_vote(vote_id: int) -> tuple[Vote, Meeting] | None:
    """The vote as stored, read under the share lock, with its options, and its meeting's code and
    title: plain objects that no session owns (safe to hand to each caller's thread, which only
    reads them)."""
    row = db.session.execute(_VOTE, {"vote_id": vote_id}).mappings().first()
    if row is None:
        return None
    key = (row["id"], row["created_at"])
    options = _options_memo.get(key)
    if options is None:
        options = [dict(o) for o in db.session.execute(_OPTIONS, {"vote_id": vote_id}).mappings()]
        if len(_options_memo) > 1000:  # votes come and go; never grow without bound
            _options_memo.clear()
        _options_memo[key] = options
    columns = dict(row)
    meeting = Meeting(id=row["meeting_id"], code=columns.pop("meeting_code"), title=columns.pop("meeting_title"))
    vote = Vote(**columns)
    vote.options = [VoteOption(**o) for o in options]
    return vote, meeting


def _belongs(item: BallotItem, vote: Vote, meeting: Meeting) -> bool:
    """A vote is only reachable through its own meeting."""
    return ((item.meeting_id is None or item.meeting_id == vote.meeting_id)
            and (item.meeting_code is None or item.meeting_code == meeting.code))


def cast_ballots(items: list[BallotItem]) -> list[BallotReceipt | VoteError]:
    """Cast every ballot of ``items`` in one transaction; one result per item, in order."""
    results: list[BallotReceipt | VoteError | None] = [None] * len(items)
    by_vote: dict[int, list[int]] = {}
    for i, item in enumerate(items):
        by_vote.setdefault(item.vote_id, []).append(i)

    #: (item index, vote, voter's contact id, ballot id, chosen options)
    pending: list[tuple[int, Vote, int, str, list[int]]] = []
    snapshots: dict[int, Snapshot] = {}
    meetings: dict[int, Meeting] = {}
    for vote_id, indexes in by_vote.items():
        found = _locked_vote(vote_id)
        indexes = [i for i in indexes if found is not None and _belongs(items[i], *found)]
        for i in set(by_vote[vote_id]) - set(indexes):
            results[i] = VoteError("vote_not_found")
        if not indexes:
            continue
        vote, meetings[vote_id] = found
        snapshots[vote_id] = vote_results.snapshot(vote)
        voters = _voters(vote, [items[i] for i in indexes])
        voting: set[int] = set()
        for i in indexes:
            item = items[i]
            voter = voters.get(_voter_key(item))
            if voter is None:  # an identity deleted or unbound since its cookie was signed; no such contact
                results[i] = VoteError("voter_unknown")
                continue
            contact_id, may_vote = voter
            try:
                chosen = vote_rules.check_ballot(vote, item.at, eligible=may_vote, option_ids=item.option_ids)
            except VoteError as exc:
                results[i] = exc
                continue
            if contact_id in voting:  # the same person twice in one batch: the first one counts
                results[i] = VoteError("already_voted")
                continue
            voting.add(contact_id)
            pending.append((i, vote, contact_id, uuid.uuid4().hex, chosen))

    stored = _insert(pending, [item.at for item in items])
    db.session.commit()
    committed()  # the next round may form while this one updates the live results

    counted: dict[int, list[tuple[str, list[int]]]] = {}
    for i, vote, _contact_id, ballot_id, chosen in pending:
        if ballot_id in stored:
            results[i] = BallotReceipt(ballot_id, chosen, vote, meetings[vote.id])
            counted.setdefault(vote.id, []).append((ballot_id, chosen))
        else:  # the marker was already there: another ballot of theirs was committed first
            results[i] = VoteError("already_voted")
    for vote_id, ballots in counted.items():
        vote_results.ballots_committed(snapshots[vote_id], ballots)
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


def _insert(pending: list[tuple[int, Vote, int, str, list[int]]], at: list[datetime]) -> set[str]:
    """Insert the pending ballots (marker first); returns the ids of the ballots stored."""
    if not pending:
        return set()
    rows = []  # (ballot id, vote id, voter, stored contact, stored time, chosen), in ballot-id order
    for i, vote, contact_id, ballot_id, chosen in sorted(pending, key=lambda p: p[3]):
        named = not vote.anonymous
        rows.append((ballot_id, vote.id, contact_id, contact_id if named else None, at[i] if named else None, chosen))
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
