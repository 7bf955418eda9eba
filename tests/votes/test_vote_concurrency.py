"""Concurrency: the database, not luck, keeps one ballot per person; live totals add up.

Each test runs twice: ballots cast one per transaction in the caller's session (``inline``, the path
with ``GROUP_COMMIT`` off) and many per transaction through the per-process group commit
(``batched``, the production path, :mod:`app.services.votes.ballots`)."""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.live import events as live_events
from app.services.votes import results as vote_results
from app.services.votes.rules import VoteError
from app.services.votes.votes import cast_ballot, create_vote, open_vote
from models import Ballot, BallotChoice, Contact, OrganizerRight, Vote, VoteParticipation

pytestmark = pytest.mark.slow


@pytest.fixture(params=["inline", "batched"])
def ballot_path(request, app, committed_db) -> str:
    if request.param == "batched":
        request.getfixturevalue("group_commit")
        request.getfixturevalue("patient_ballots")  # see tests/votes/conftest.py
    return request.param


def batches(app) -> tuple[int, int]:
    """(rounds, largest batch) of the ballot group commit so far."""
    stats = app.extensions["group_commit:ballots"].stats
    return stats.rounds, stats.largest


def seed(db, n_people: int, *, anonymous: bool = False, code: str = "VCONC"):
    """A meeting with ``n_people`` signed in and an open motion vote; ids only (threads reload)."""
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import create_meeting, invite_contact
    from app.services.meetings.organizers import add_organizer
    from app.services.signin.write import sign_in

    unit = add_unit(code, "并发投票单位", actor="test")
    starts = datetime.now(UTC) + timedelta(minutes=30)
    meeting = create_meeting(code, "并发投票测试", actor="test", starts_at=starts,
                             ends_at=starts + timedelta(hours=2), publish=True)
    contacts = [Contact(unit=unit, name=f"投票{i}", phone=f"1360000{i:04d}") for i in range(n_people)]
    organizer = Contact(unit=unit, name="会务", phone="13599990000")
    db.session.add_all([*contacts, organizer])
    db.session.flush()
    session = meeting.sessions[0]
    for c in contacts:
        invite_contact(meeting, c, actor="test")
        sign_in(meeting, session, c, method="scan", check_window=False)
    add_organizer(code, organizer.phone, actor="test", right=OrganizerRight.STAFF)
    vote = create_vote(meeting, actor=organizer, title="并发表决", kind="motion", anonymous=anonymous,
                       results_visibility="live")
    open_vote(meeting, vote, actor=organizer)
    db.session.commit()
    return vote.id, [o.id for o in vote.options], [c.id for c in contacts]


def cast_in_own_context(app, vote_id: int, contact_id: int, option_id: int, barrier=None) -> str:
    from app.extensions import db

    with app.app_context():
        if barrier is not None:
            barrier.wait()
        try:
            vote = db.session.get(Vote, vote_id)
            cast_ballot(vote, db.session.get(Contact, contact_id), [option_id])
            db.session.commit()
            return "ok"
        except VoteError as exc:
            db.session.rollback()
            return exc.code
        finally:
            db.session.remove()


def test_thousand_attendees_vote_at_once(app, committed_db, redis_client, ballot_path):
    vote_id, option_ids, contact_ids = seed(committed_db, 1000)
    rng = random.Random(8)
    picks = {cid: rng.choice(option_ids) for cid in contact_ids}
    barrier = threading.Barrier(32)
    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(lambda cid: cast_in_own_context(app, vote_id, cid, picks[cid],
                                                                 barrier if cid <= contact_ids[31] else None),
                                 contact_ids))
    assert outcomes == ["ok"] * 1000
    if ballot_path == "batched":  # batches really formed: fewer transactions than ballots
        rounds, largest = batches(app)
        assert largest > 1 and rounds < 1000
    s = committed_db.session
    assert s.scalar(select(func.count()).select_from(Ballot)) == 1000
    assert s.scalar(select(func.count()).select_from(BallotChoice)) == 1000
    markers = s.scalars(select(VoteParticipation.contact_id)).all()
    assert len(markers) == len(set(markers)) == 1000
    ballots_named = s.scalars(select(Ballot.contact_id)).all()
    assert sorted(ballots_named) == sorted(contact_ids)  # a named vote: each person exactly once

    vote = s.get(Vote, vote_id)
    exact = vote_results.results(vote, live=False)
    expected = {str(o): sum(1 for p in picks.values() if p == o) for o in option_ids}
    assert exact.totals == expected and sum(exact.totals.values()) == exact.ballots == 1000
    assert exact.eligible == 1000 and exact.turnout == 100.0
    # the live counters (fed after each commit) agree with the database ...
    live = vote_results.results(vote, live=True)
    assert live.totals == expected and live.ballots == 1000
    # ... and so does the latest event on the meeting's live stream (concurrent publishes may land out
    # of order, so "latest" is the one with the most ballots, which is what consumers show)
    entries = redis_client.xrange(live_events.stream_key(vote.meeting_id))
    events = [json.loads(fields[b"data"]) for _id, fields in entries]
    latest = max((e for e in events if e["type"] == "vote" and e["vote_id"] == vote_id), key=lambda e: e["ballots"])
    assert latest["totals"] == expected and latest["ballots"] == 1000 and latest["turnout"] == 100.0
    assert all(sum(e["totals"].values()) == e["ballots"] for e in events if e["type"] == "vote")
    # losing Redis loses nothing: the counters are rebuilt from the database
    redis_client.flushdb()
    rebuilt = vote_results.results(vote, live=True)
    assert rebuilt.totals == expected and rebuilt.ballots == 1000


def test_same_person_twenty_times_at_once(app, committed_db, ballot_path):
    vote_id, option_ids, (contact_id,) = seed(committed_db, 1, code="VSAME")
    barrier = threading.Barrier(20)
    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(lambda i: cast_in_own_context(app, vote_id, contact_id, option_ids[i % 3], barrier),
                                 range(20)))
    assert sorted(outcomes) == ["already_voted"] * 19 + ["ok"]
    s = committed_db.session
    assert s.scalar(select(func.count()).select_from(Ballot)) == 1
    assert s.scalar(select(func.count()).select_from(BallotChoice)) == 1
    assert s.scalar(select(func.count()).select_from(VoteParticipation)) == 1
    assert vote_results.results(s.get(Vote, vote_id), live=True).ballots == 1


def test_rebuild_while_ballots_arrive_counts_each_once(app, committed_db, redis_client, ballot_path):
    """A rebuild (Redis flushed mid-burst) racing with commits neither drops nor doubles a ballot."""
    vote_id, option_ids, contact_ids = seed(committed_db, 200, code="VRACE")
    stop = threading.Event()

    def flusher():
        with app.app_context():
            while not stop.is_set():
                redis_client.delete(vote_results.built_key(vote_id), vote_results.seen_key(vote_id),
                                    vote_results.totals_key(vote_id))
                vote_results.live_totals(vote_id)

    t = threading.Thread(target=flusher)
    t.start()
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            outcomes = list(pool.map(lambda cid: cast_in_own_context(app, vote_id, cid, option_ids[cid % 3]),
                                     contact_ids))
    finally:
        stop.set()
        t.join()
    assert outcomes == ["ok"] * 200
    vote = committed_db.session.get(Vote, vote_id)
    assert vote_results.results(vote, live=True).totals == vote_results.results(vote, live=False).totals


def test_lost_update_is_answered_from_the_database_then_repaired(app, committed_db, redis_client, monkeypatch):
    vote_id, option_ids, contact_ids = seed(committed_db, 3, code="VLOST")
    for cid in contact_ids:
        assert cast_in_own_context(app, vote_id, cid, option_ids[0]) == "ok"
    # Lose one ballot's after-commit update, as a crash between commit and callback would.
    lost = redis_client.srandmember(vote_results.seen_key(vote_id)).decode()
    redis_client.srem(vote_results.seen_key(vote_id), lost)
    redis_client.hincrby(vote_results.totals_key(vote_id), "b", -1)
    redis_client.hincrby(vote_results.totals_key(vote_id), f"o:{option_ids[0]}", -1)
    monkeypatch.setattr(vote_results, "STUCK_S", 1)
    vote = committed_db.session.get(Vote, vote_id)
    assert vote_results.live_totals(vote_id) == (3, {option_ids[0]: 3})  # exact, from the database
    assert redis_client.hget(vote_results.totals_key(vote_id), "b") == b"2"  # counters still behind
    time.sleep(1.2)
    assert vote_results.results(vote).ballots == 3
    assert redis_client.hget(vote_results.totals_key(vote_id), "b") == b"3"  # repaired by a union rebuild
