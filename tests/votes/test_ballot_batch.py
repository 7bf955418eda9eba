"""Ballots many to a transaction (app/services/ballot_batch.py): each still answered on its own.

The batch function is called directly with a chosen batch (deterministic), and the production path
runs through the H5 page with the per-process group commit, many requests at once.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from app.services.live import events as live_events
from app.services.votes import ballots as ballot_batch
from app.services.votes import results as vote_results
from app.services.votes.ballots import BallotItem
from app.services.votes.rules import BallotReceipt, VoteError
from app.services.votes.votes import close_vote
from models import Ballot, BallotChoice, Contact, Meeting, Vote, VoteParticipation, WechatIdentity
from tests.votes.test_vote_concurrency import seed

pytestmark = pytest.mark.slow


def item(vote: Vote, contact: Contact, *option_ids, at: datetime | None = None) -> BallotItem:
    return BallotItem(vote.meeting_id, None, vote.id, None, contact.id, tuple(option_ids), at or datetime.now(UTC))


def by_identity(vote: Vote, identity_id: int, *option_ids) -> BallotItem:
    return BallotItem(None, "VBAT5", vote.id, identity_id, None, tuple(option_ids), datetime.now(UTC))


def outcome(result) -> str:
    return "ok" if isinstance(result, BallotReceipt) else result.code


def vote_events(redis_client, meeting_id: int, vote_id: int) -> list[dict]:
    entries = redis_client.xrange(live_events.stream_key(meeting_id))
    return [e for e in (json.loads(f[b"data"]) for _id, f in entries) if e["type"] == "vote" and e["vote_id"] == vote_id]


def test_each_ballot_of_a_batch_gets_its_own_answer(app, committed_db, redis_client):
    db = committed_db
    vote_id, (yes, no, abstain), contact_ids = seed(db, 4, code="VBAT1")
    vote = db.session.get(Vote, vote_id)
    a, b, c, d = (db.session.get(Contact, cid) for cid in contact_ids)
    outsider = Contact(unit_id=a.unit_id, name="局外人", phone="13500000001")
    db.session.add(outsider)
    db.session.commit()
    assert [outcome(r) for r in ballot_batch.cast_ballots([item(vote, d, no)])] == ["ok"]  # d voted before
    before = len(vote_events(redis_client, vote.meeting_id, vote_id))

    vote = db.session.get(Vote, vote_id)
    results = ballot_batch.cast_ballots([
        item(vote, a, 999999),    # refused choice: leaves a free to vote later in the same batch
        item(vote, a, yes),       # a's ballot
        item(vote, a, no),        # a again in the same batch
        item(vote, b, abstain),
        item(vote, d, yes),       # d's marker is already stored
        item(vote, outsider, yes),
        item(vote, c, yes, no),   # a motion takes exactly one choice
        BallotItem(vote.meeting_id + 1000, None, vote.id, None, c.id, (yes,), datetime.now(UTC)),  # not its meeting
        BallotItem(None, "OTHER", vote.id, None, c.id, (yes,), datetime.now(UTC)),  # nor by code
    ])
    assert [outcome(r) for r in results] == ["choice_invalid", "ok", "already_voted", "ok", "already_voted",
                                             "not_eligible", "choice_count", "vote_not_found", "vote_not_found"]
    assert results[1].option_ids == [yes] and results[3].option_ids == [abstain]
    assert results[1].vote.title == "并发表决" and results[1].vote.state == "open"  # as the batch read it
    assert (results[1].meeting.code, results[1].meeting.title) == ("VBAT1", "并发投票测试")

    s = db.session
    assert s.scalar(select(func.count()).select_from(VoteParticipation)) == 3
    assert sorted(s.scalars(select(Ballot.contact_id))) == sorted([a.id, b.id, d.id])  # named vote
    assert s.scalar(select(func.count()).select_from(BallotChoice)) == 3
    # The live results heard about the batch once, with both of its ballots.
    events = vote_events(redis_client, vote.meeting_id, vote_id)
    assert len(events) == before + 1 and events[-1]["ballots"] == 3
    assert events[-1]["totals"] == {str(yes): 1, str(no): 1, str(abstain): 1}
    assert vote_results.results(s.get(Vote, vote_id), live=False).totals == events[-1]["totals"]


def test_a_closed_vote_refuses_the_whole_batch(app, committed_db):
    db = committed_db
    vote_id, (yes, _no, _abstain), contact_ids = seed(db, 3, code="VBAT2")
    vote = db.session.get(Vote, vote_id)
    people = [db.session.get(Contact, cid) for cid in contact_ids]
    organizer = db.session.scalar(select(Contact).where(Contact.name == "会务"))
    # Ballots taken while the vote was open, then it closes before their batch runs: the batch reads
    # the state itself, under the lock.
    items = [item(vote, p, yes) for p in people]
    close_vote(db.session.get(Meeting, vote.meeting_id), vote, actor=organizer)
    db.session.commit()
    assert [outcome(r) for r in ballot_batch.cast_ballots(items)] == ["vote_closed"] * 3
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 0


def test_the_batch_finds_who_votes_from_their_wechat_identity(app, committed_db):
    """The H5 page hands the batch the identity from the session cookie only: the batch reads its
    bound contact, with the contact's own eligibility and whether it is still active."""
    db = committed_db
    vote_id, (yes, no, _abstain), contact_ids = seed(db, 4, code="VBAT5")
    a, b, c, d = (db.session.get(Contact, cid) for cid in contact_ids)
    outsider = Contact(unit_id=a.unit_id, name="局外人", phone="13500000002")
    db.session.add(outsider)
    db.session.flush()
    now = datetime.now(UTC)
    ia, ib, ic, i_out = (WechatIdentity(oa_openid=f"o-vbat5-{p.id}", contact_id=p.id, bound_at=now)
                         for p in (a, b, c, outsider))
    unbound = WechatIdentity(oa_openid="o-vbat5-unbound")
    db.session.add_all([ia, ib, ic, i_out, unbound])
    c.active = False  # left the directory after binding
    db.session.commit()
    vote = db.session.get(Vote, vote_id)
    results = ballot_batch.cast_ballots([
        by_identity(vote, ia.id, yes),
        by_identity(vote, ia.id, no),          # the same identity twice in the batch
        item(vote, a, no),                     # and the same person by contact
        by_identity(vote, ib.id, no),
        by_identity(vote, ic.id, yes),         # inactive contact
        by_identity(vote, i_out.id, yes),      # bound, but not signed in to the meeting
        by_identity(vote, unbound.id, yes),    # never bound
        by_identity(vote, 999_999_999, yes),   # gone
        item(vote, d, yes),
    ])
    assert [outcome(r) for r in results] == ["ok", "already_voted", "already_voted", "ok", "not_eligible",
                                             "not_eligible", "voter_unknown", "voter_unknown", "ok"]
    s = db.session
    assert sorted(s.scalars(select(VoteParticipation.contact_id))) == sorted([a.id, b.id, d.id])
    assert sorted(s.scalars(select(Ballot.contact_id))) == sorted([a.id, b.id, d.id])


def test_h5_ballots_at_once_through_the_group_commit(app, committed_db, group_commit, patient_ballots,
                                                   redis_client):
    """The production path: the H5 ballot page, 200 attendees at once (and 20 of them twice)."""
    from app.web.auth import SESSION_KEY

    db = committed_db
    vote_id, option_ids, contact_ids = seed(db, 200, code="VBAT3")
    identities = [WechatIdentity(oa_openid=f"o-vbat-{cid}", contact_id=cid, bound_at=datetime.now(UTC))
                  for cid in contact_ids]
    db.session.add_all(identities)
    db.session.commit()
    attempts = [(ident.id, option_ids[n % 3]) for n, ident in enumerate(identities)]
    attempts += [(ident.id, option_ids[0]) for ident in identities[:20]]

    def post(attempt) -> str:
        identity_id, option_id = attempt
        client = app.test_client()
        with client.session_transaction() as s:
            s[SESSION_KEY] = identity_id
        resp = client.post(f"/m/VBAT3/votes/{vote_id}", data={"option": str(option_id)})
        text = resp.get_data(as_text=True)
        return "ok" if resp.status_code == 200 and "投票成功" in text else \
            "already" if resp.status_code == 409 and "您已投票" in text else f"{resp.status_code}"

    in_requests: list[str] = []  # statements run by the request threads, not the batch thread

    def seen(_conn, _cursor, statement, *_args) -> None:
        if not threading.current_thread().name.startswith("group-commit-ballots"):
            in_requests.append(statement.split()[1])

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        with ThreadPoolExecutor(max_workers=24) as pool:
            outcomes = list(pool.map(post, attempts))
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert outcomes.count("ok") == 200 and outcomes.count("already") == 20
    # A ballot's request reads nothing (the batch thread does); a refusal loads the meeting and the
    # vote to explain itself.
    assert sorted(in_requests) == ["meetings.id,"] * 20 + ["votes.id,"] * 20
    stats = app.extensions["group_commit:ballots"].stats
    assert stats.items == 220 and stats.largest > 1
    s = db.session
    assert s.scalar(select(func.count()).select_from(Ballot)) == 200
    assert s.scalar(select(func.count()).select_from(VoteParticipation)) == 200
    vote = s.get(Vote, vote_id)
    exact = vote_results.results(vote, live=False)
    assert vote_results.results(vote, live=True).totals == exact.totals and exact.ballots == 200
    assert sum(exact.totals.values()) == 200


def test_a_timeout_is_answered_as_busy(app, committed_db, monkeypatch):
    from app.batching import GroupCommitTimeout

    def late(_item):
        raise GroupCommitTimeout("ballots")

    monkeypatch.setattr(ballot_batch, "group_commit", lambda *a, **k: late)
    db = committed_db
    vote_id, (yes, *_), (cid,) = seed(db, 1, code="VBAT4")
    with pytest.raises(VoteError) as err:
        ballot_batch.submit(item(db.session.get(Vote, vote_id), db.session.get(Contact, cid), yes))
    assert err.value.code == "busy" and err.value.status == 503
