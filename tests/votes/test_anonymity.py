"""After an anonymous vote, nothing in the database tells who chose what.

Each of the 30 voters picks an option of their own, so any link from a ballot back to a voter or to
the voting order (a person column, a time, id order, insertion transaction, physical row order)
would reveal exactly who chose what. The tests read the tables, system columns included: ballots
cast one per transaction, many in one batch, and at once through the group commit.

Physical order is PostgreSQL's ``ctid`` or SQLite's ``rowid`` (the demo's database); the inserting
transaction (``xmin``) exists on PostgreSQL only, so those checks are PostgreSQL's alone.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa
from sqlalchemy import select

from app.services.votes.votes import cast_ballot, close_vote, create_vote, open_vote
from models import AuditLog, Contact, Meeting, Vote, VoteParticipation
from tests.votes.test_vote_concurrency import seed

N = 30


def spearman(a: list[int], b: list[int]) -> float:
    n = len(a)
    ra = {v: i for i, v in enumerate(sorted(a))}
    rb = {v: i for i, v in enumerate(sorted(b))}
    d2 = sum((ra[x] - rb[y]) ** 2 for x, y in zip(a, b, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def physical(conn) -> str:
    """The column that tells a row's physical (insertion) order."""
    return "ctid" if conn.dialect.name == "postgresql" else "rowid"


def _anonymous_vote(db, code: str):
    _motion_id, _options, contact_ids = seed(db, N, code=code)
    meeting = db.session.scalar(select(Meeting).where(Meeting.code == code))
    organizer = db.session.scalar(select(Contact).where(Contact.name == "会务"))
    vote = create_vote(meeting, actor=organizer, title="无记名选举", kind="single", anonymous=True,
                       options=[f"候选人{i:02d}" for i in range(N)], eligibility="invitees")
    open_vote(meeting, vote, actor=organizer)
    db.session.commit()
    return meeting, organizer, vote.id, [o.id for o in vote.options], contact_ids


def test_anonymous_vote_leaves_no_link(app, committed_db):
    db = committed_db
    meeting, organizer, vote_id, option_ids, contact_ids = _anonymous_vote(db, "ANON")
    for i, cid in enumerate(contact_ids):  # voter i (in voting order) picks option i, one commit each
        cast_ballot(db.session.get(Vote, vote_id), db.session.get(Contact, cid), [option_ids[i]])
        db.session.commit()
    voting_order = option_ids

    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        # While the vote is open, PostgreSQL's system columns still pair ballot and marker: the same
        # inserting transaction. This is what closing removes.
        before = conn.execute(sa.text(
            "SELECT count(*) FROM ballots b JOIN vote_participations p ON p.xmin = b.xmin WHERE b.vote_id = :v"
        ), {"v": vote_id}).scalar_one()
        assert before == N
    else:
        # SQLite's rowids still follow the voting order: the same thing closing must remove.
        by_rowid = conn.execute(sa.text(
            "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
            "WHERE b.vote_id = :v ORDER BY b.rowid"), {"v": vote_id}).scalars().all()
        assert by_rowid == voting_order
    db.session.rollback()

    close_vote(meeting, db.session.get(Vote, vote_id), actor=organizer)
    db.session.commit()
    # The markers say who voted (the turnout), in voting order - and nothing about what.
    markers = db.session.execute(sa.text(
        "SELECT contact_id FROM vote_participations WHERE vote_id = :v ORDER BY id"), {"v": vote_id}).scalars().all()
    assert markers == contact_ids
    assert_unlinked(db, vote_id, contact_ids, voting_order)


def test_anonymous_ballots_in_one_batch_are_not_stored_in_voter_order(app, committed_db):
    """Many ballots share a transaction: inside it, row order must not pair ballots with markers."""
    from app.services.votes import ballots as ballot_batch
    from tests.votes.test_ballot_batch import item

    db = committed_db
    meeting, organizer, vote_id, option_ids, contact_ids = _anonymous_vote(db, "ANONB")
    vote = db.session.get(Vote, vote_id)
    people = [db.session.get(Contact, cid) for cid in contact_ids]
    # Voter i (in the batch's order: contact ids descending) picks option i; one batch, one commit.
    order = list(reversed(range(N)))
    results = ballot_batch.cast_ballots([item(vote, people[k], option_ids[n]) for n, k in enumerate(order)])
    assert all(isinstance(r, ballot_batch.BallotReceipt) for r in results)
    voting_order = [option_ids[n] for n in range(N)]

    conn = db.session.connection()
    ctid = physical(conn)
    if conn.dialect.name == "postgresql":
        one_xmin = conn.execute(sa.text(
            "SELECT count(DISTINCT b.xmin::text), count(DISTINCT p.xmin::text) FROM ballots b, vote_participations p "
            "WHERE b.vote_id = :v AND p.vote_id = :v"), {"v": vote_id}).one()
        assert tuple(one_xmin) == (1, 1)  # one transaction for all 30
    # Inside it, markers lie in contact order (not the batch's voting order) ...
    markers = conn.execute(sa.text(f"SELECT contact_id FROM vote_participations WHERE vote_id = :v ORDER BY {ctid}"),
                           {"v": vote_id}).scalars().all()
    assert markers == sorted(contact_ids)
    # ... and ballots in the order of their random ids: neither pairs a ballot with its marker.
    by_ctid = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        f"WHERE b.vote_id = :v ORDER BY b.{ctid}"), {"v": vote_id}).scalars().all()
    by_id = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        "WHERE b.vote_id = :v ORDER BY b.id"), {"v": vote_id}).scalars().all()
    by_marker_order = [option_ids[order.index(contact_ids.index(cid))] for cid in markers]
    assert by_ctid == by_id and by_ctid != by_marker_order and abs(spearman(by_marker_order, by_ctid)) < 0.7
    choices_by_ctid = conn.execute(sa.text(
        "SELECT c.option_id FROM ballot_choices c JOIN ballots b ON c.ballot_id = b.id "
        f"WHERE b.vote_id = :v ORDER BY c.{ctid}"), {"v": vote_id}).scalars().all()
    assert choices_by_ctid == by_id
    db.session.rollback()

    close_vote(meeting, db.session.get(Vote, vote_id), actor=organizer)
    db.session.commit()
    assert_unlinked(db, vote_id, contact_ids, voting_order)


def test_anonymous_ballots_cast_at_once_leave_no_link(app, committed_db, group_commit, patient_ballots):
    """The production path: 30 voters at once, batched by the group commit, then the vote closes."""
    from tests.votes.test_vote_concurrency import cast_in_own_context

    db = committed_db
    meeting, organizer, vote_id, option_ids, contact_ids = _anonymous_vote(db, "ANONC")
    barrier = threading.Barrier(N)
    with ThreadPoolExecutor(max_workers=N) as pool:
        outcomes = list(pool.map(lambda i: cast_in_own_context(app, vote_id, contact_ids[i], option_ids[i], barrier),
                                 range(N)))
    assert outcomes == ["ok"] * N
    assert app.extensions["group_commit:ballots"].stats.largest > 1

    close_vote(meeting, db.session.get(Vote, vote_id), actor=organizer)
    db.session.commit()
    markers = db.session.execute(sa.text("SELECT contact_id FROM vote_participations WHERE vote_id = :v"),
                                 {"v": vote_id}).scalars().all()
    assert sorted(markers) == contact_ids
    assert_unlinked(db, vote_id, contact_ids, option_ids)


def assert_unlinked(db, vote_id: int, contact_ids: list[int], voting_order: list[int]) -> None:
    """After closing: nothing in the tables (system columns included) or the audit log pairs a ballot
    with a voter, a marker or the voting order."""
    conn = db.session.connection()
    # 1. No person and no time on ballots; the tables have no column that could hold one.
    cols = {t: [c["name"] for c in sa.inspect(conn).get_columns(t)]
            for t in ("ballots", "ballot_choices", "vote_participations")}
    assert cols == {"ballots": ["id", "vote_id", "contact_id", "cast_at"],
                    "ballot_choices": ["ballot_id", "option_id"],
                    "vote_participations": ["id", "vote_id", "contact_id"]}
    rows = conn.execute(sa.text("SELECT id, contact_id, cast_at FROM ballots WHERE vote_id = :v"),
                        {"v": vote_id}).all()
    assert len(rows) == N and all(r.contact_id is None and r.cast_at is None for r in rows)

    # 2. Ballot ids are random: sorted by id, ballots do not come in voting order.
    by_id = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        "WHERE b.vote_id = :v ORDER BY b.id"), {"v": vote_id}).scalars().all()
    assert sorted(by_id) == sorted(voting_order) and by_id != voting_order
    assert abs(spearman(voting_order, by_id)) < 0.7

    # 3. Physical order (ctid, SQLite's rowid) follows the random ids, not the voting order.
    by_ctid = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        f"WHERE b.vote_id = :v ORDER BY b.{physical(conn)}"), {"v": vote_id}).scalars().all()
    assert by_ctid == by_id

    # 4. Insertion transactions (xmin, PostgreSQL's) no longer pair them: every ballot and marker was
    #    rewritten by the closing transaction.
    if conn.dialect.name == "postgresql":
        xmins = conn.execute(sa.text(
            "SELECT count(DISTINCT b.xmin::text), count(DISTINCT p.xmin::text) FROM ballots b, vote_participations p "
            "WHERE b.vote_id = :v AND p.vote_id = :v"), {"v": vote_id}).one()
        assert tuple(xmins) == (1, 1)

    # 5. The audit log records the organizer's actions, never a ballot.
    audit = db.session.scalars(select(AuditLog)).all()
    assert not [a for a in audit if a.action.startswith("vote.") and a.action not in
                ("vote.create", "vote.open", "vote.close")]
    ballot_ids = {r.id for r in rows}
    voters = {f"contact:{cid}" for cid in contact_ids}
    for a in audit:
        text = json.dumps([a.actor, a.target, a.data], ensure_ascii=False, default=str)
        assert not any(b in text for b in ballot_ids)
        if a.action.startswith("vote."):
            assert a.actor not in voters and a.target not in voters

    # 6. Totals still add up.
    assert db.session.scalar(select(sa.func.count()).select_from(VoteParticipation)
                             .where(VoteParticipation.vote_id == vote_id)) == N
