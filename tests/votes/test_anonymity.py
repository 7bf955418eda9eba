"""After an anonymous vote, nothing in the database tells who chose what.

Each of the 30 voters picks an option of their own, so any link from a ballot back to a voter or to
the voting order (a person column, a time, id order, insertion transaction, physical row order)
would reveal exactly who chose what. The test reads the tables, system columns included.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from sqlalchemy import select

from app.services.votes import cast_ballot, close_vote, create_vote, open_vote
from models import AuditLog, Contact, Meeting, Vote, VoteParticipation
from tests.votes.test_vote_concurrency import seed

N = 30


def spearman(a: list[int], b: list[int]) -> float:
    n = len(a)
    ra = {v: i for i, v in enumerate(sorted(a))}
    rb = {v: i for i, v in enumerate(sorted(b))}
    d2 = sum((ra[x] - rb[y]) ** 2 for x, y in zip(a, b, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_anonymous_vote_leaves_no_link(app, committed_db):
    db = committed_db
    _motion_id, _options, contact_ids = seed(db, N, code="ANON")
    meeting = db.session.scalar(select(Meeting).where(Meeting.code == "ANON"))
    organizer = db.session.scalar(select(Contact).where(Contact.name == "会务"))
    vote = create_vote(meeting, actor=organizer, title="无记名选举", kind="single", anonymous=True,
                       options=[f"候选人{i:02d}" for i in range(N)], eligibility="invitees")
    open_vote(meeting, vote, actor=organizer)
    db.session.commit()
    vote_id = vote.id
    option_of_voter = {}
    for i, cid in enumerate(contact_ids):  # voter i (in voting order) picks option i, one commit each
        v = db.session.get(Vote, vote_id)
        option_of_voter[cid] = v.options[i].id
        cast_ballot(v, db.session.get(Contact, cid), [v.options[i].id])
        db.session.commit()
    voting_order = [option_of_voter[cid] for cid in contact_ids]

    conn = db.session.connection()
    # While the vote is open, PostgreSQL's system columns still pair ballot and marker: the same
    # inserting transaction. This is what closing removes.
    before = conn.execute(sa.text(
        "SELECT count(*) FROM ballots b JOIN vote_participations p ON p.xmin = b.xmin WHERE b.vote_id = :v"
    ), {"v": vote_id}).scalar_one()
    assert before == N
    db.session.rollback()

    close_vote(meeting, db.session.get(Vote, vote_id), actor=organizer)
    db.session.commit()
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

    # 2. The markers say who voted (the turnout), in voting order - and nothing about what.
    markers = conn.execute(sa.text("SELECT contact_id FROM vote_participations WHERE vote_id = :v ORDER BY id"),
                           {"v": vote_id}).scalars().all()
    assert markers == contact_ids

    # 3. Ballot ids are random: sorted by id, ballots do not come in voting order.
    by_id = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        "WHERE b.vote_id = :v ORDER BY b.id"), {"v": vote_id}).scalars().all()
    assert sorted(by_id) == sorted(voting_order) and by_id != voting_order
    assert abs(spearman(voting_order, by_id)) < 0.7

    # 4. Physical order (ctid) follows the random ids, not the voting order.
    by_ctid = conn.execute(sa.text(
        "SELECT c.option_id FROM ballots b JOIN ballot_choices c ON c.ballot_id = b.id "
        "WHERE b.vote_id = :v ORDER BY b.ctid"), {"v": vote_id}).scalars().all()
    assert by_ctid == by_id

    # 5. Insertion transactions (xmin) no longer pair them: every ballot and marker was rewritten by
    #    the closing transaction.
    xmins = conn.execute(sa.text(
        "SELECT count(DISTINCT b.xmin::text), count(DISTINCT p.xmin::text) FROM ballots b, vote_participations p "
        "WHERE b.vote_id = :v AND p.vote_id = :v"), {"v": vote_id}).one()
    assert tuple(xmins) == (1, 1)

    # 6. The audit log records the organizer's actions, never a ballot.
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

    # 7. Totals still add up.
    assert db.session.scalar(select(sa.func.count()).select_from(VoteParticipation)
                             .where(VoteParticipation.vote_id == vote_id)) == N
