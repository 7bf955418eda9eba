"""Votes (投票/表决): creating, opening and closing them, and casting ballots.

Guarantees:
- one ballot per person per vote, decided by the database: the voted-marker row
  (``vote_participations``, unique per vote and person) is inserted first, so of two concurrent
  attempts exactly one inserts it and the other is told "您已投票";
- no ballot after closing: a ballot reads the vote's state under a share lock, and closing updates
  that row, so a close waits for ballots in flight and ballots after it see the closed state;
- anonymous ballots carry no person, no time and a random id; when an anonymous vote closes, its
  ballots and markers are rewritten in one transaction so that even PostgreSQL's system columns
  (insertion transaction ``xmin``, physical order ``ctid``) no longer pair a ballot with a marker;
- live results hear about a ballot only after it is committed (:mod:`app.services.votes.results`);
- ballots arriving together are cast many to a transaction (:mod:`app.services.votes.ballots`), each
  still decided and answered on its own by the rules here and the unique marker.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services import audit
from app.services.live import events as live_events
from app.services.meetings import organizers
from app.services.votes import ballots as ballot_batch
from app.services.votes import results as vote_results
from app.services.votes.rules import (
    CLOSED,
    DRAFT,
    MAX_OPTIONS,
    OPEN,
    BallotReceipt,
    VoteError,
    effective_state,
    eligible_ids_query,
)
from app.tx import on_commit
from models import Contact, Meeting
from models.votes import Ballot, BallotChoice, Vote, VoteOption, VoteParticipation

KINDS = ("single", "multiple", "motion")
ELIGIBILITY = ("signed_in", "invitees", "roles")
VISIBILITY = ("live", "after_close", "organizers")
MOTION_OPTIONS = ("赞成", "反对", "弃权")


def get_vote(meeting: Meeting, vote_id: int) -> Vote:
    # The options come in the same query: every page showing a vote needs them.
    vote = db.session.get(Vote, vote_id, options=[joinedload(Vote.options)])
    if vote is None or vote.meeting_id != meeting.id:
        raise VoteError("vote_not_found")
    return vote


def list_votes(meeting: Meeting) -> list[Vote]:
    return list(db.session.scalars(select(Vote).where(Vote.meeting_id == meeting.id).order_by(Vote.id.desc())))


def visible_votes(meeting: Meeting, *, now: datetime | None = None) -> list[Vote]:
    """What attendees see: votes that are open or finished (drafts stay with the organizers)."""
    return [v for v in list_votes(meeting) if effective_state(v, now) != DRAFT]


# -- organizer actions -----------------------------------------------------------------------------
def create_vote(meeting: Meeting, *, actor: Contact | None, title: str, kind: str = "single",
                options: Sequence[str] = (), min_choices: int = 1, max_choices: int = 1,
                anonymous: bool = False, eligibility: str = "signed_in", eligible_roles: Iterable[str] = (),
                eligible_groups: Iterable[str] = (), results_visibility: str = "after_close",
                opens_at: datetime | None = None, closes_at: datetime | None = None,
                session_id: int | None = None, description: str = "") -> Vote:
    """Create a vote (a draft unless ``opens_at`` schedules it).

    :raise OrganizerError: the actor lacks the ``votes`` right; :raise VoteError: invalid settings.
    """
    organizers.require_right(meeting, actor, "votes")
    title = (title or "").strip()
    if not title:
        raise VoteError("title_missing")
    if kind not in KINDS:
        raise VoteError("kind_invalid")
    labels = list(MOTION_OPTIONS) if kind == "motion" else [str(o).strip() for o in options if str(o).strip()]
    if len(labels) < 2:
        raise VoteError("options_missing")
    if len(labels) > MAX_OPTIONS:
        raise VoteError("options_too_many", n=MAX_OPTIONS)
    if kind == "multiple":
        if not 1 <= min_choices <= max_choices <= len(labels):
            raise VoteError("choices_range_invalid")
    else:
        min_choices = max_choices = 1
    if eligibility not in ELIGIBILITY:
        raise VoteError("eligibility_invalid")
    roles = [r.strip() for r in eligible_roles if r and r.strip()]
    groups = [g.strip() for g in eligible_groups if g and g.strip()]
    if eligibility == "roles" and not (roles or groups):
        raise VoteError("roles_missing")
    if results_visibility not in VISIBILITY:
        raise VoteError("visibility_invalid")
    if opens_at and closes_at and closes_at <= opens_at:
        raise VoteError("schedule_invalid")
    if session_id is not None and session_id not in {s.id for s in meeting.sessions}:
        raise VoteError("session_invalid")

    vote = Vote(meeting_id=meeting.id, session_id=session_id, title=title[:200], description=description,
                kind=kind, min_choices=min_choices, max_choices=max_choices, anonymous=anonymous,
                eligibility=eligibility, eligible_roles=roles if eligibility == "roles" else [],
                eligible_groups=groups if eligibility == "roles" else [], state=DRAFT, opens_at=opens_at,
                closes_at=closes_at, results_visibility=results_visibility,
                options=[VoteOption(position=i, label=label[:200]) for i, label in enumerate(labels)])
    db.session.add(vote)
    db.session.flush()
    audit.record(_actor(actor), "vote.create", meeting_id=meeting.id, target=f"vote:{vote.id}", kind=kind,
                 anonymous=anonymous, eligibility=eligibility)
    return vote


def open_vote(meeting: Meeting, vote: Vote, *, actor: Contact | None, now: datetime | None = None) -> Vote:
    organizers.require_right(meeting, actor, "votes")
    now = now or datetime.now(UTC)
    if effective_state(vote, now) == CLOSED:
        raise VoteError("vote_closed")  # reopening would let late ballots in after people saw results
    vote.state = OPEN
    db.session.flush()
    audit.record(_actor(actor), "vote.open", meeting_id=meeting.id, target=f"vote:{vote.id}")
    _announce(vote)
    return vote


def close_vote(meeting: Meeting, vote: Vote, *, actor: Contact | None, now: datetime | None = None) -> Vote:
    organizers.require_right(meeting, actor, "votes")
    # The UPDATE takes the row lock that ballots in flight share: it waits for them, and every
    # ballot after it reads "closed".
    db.session.execute(sa.update(Vote).where(Vote.id == vote.id).values(state=CLOSED)
                       .execution_options(synchronize_session=False))
    db.session.refresh(vote)
    if vote.anonymous:
        _unlink_anonymous(vote)
    audit.record(_actor(actor), "vote.close", meeting_id=meeting.id, target=f"vote:{vote.id}")
    _announce(vote)
    return vote


def show_on_screen(meeting: Meeting, vote: Vote | None, *, actor: Contact | None) -> str:
    """Switch the big screen to this vote's bars (``vote:<id>``), or back to the headcount."""
    organizers.require_right(meeting, actor, "votes")
    meeting.screen_mode = f"vote:{vote.id}" if vote is not None else "headcount"
    db.session.flush()
    audit.record(_actor(actor), "screen.mode", meeting_id=meeting.id, target=f"meeting:{meeting.id}",
                 mode=meeting.screen_mode)

    meeting_id, mode = meeting.id, meeting.screen_mode
    on_commit(lambda: live_events.publish(meeting_id, {"type": "screen_mode", "meeting_id": meeting_id,
                                                       "mode": mode}))
    return meeting.screen_mode


def _actor(actor: Contact | None) -> str:
    return f"contact:{actor.id}" if actor is not None else "system"


def _announce(vote: Vote) -> None:

    vote_id = vote.id
    on_commit(lambda: vote_results.announce(vote_id))


# -- eligibility -----------------------------------------------------------------------------------
def is_eligible(vote: Vote, contact: Contact) -> bool:
    if not contact.active:
        return False
    sub = eligible_ids_query(vote).subquery()
    return db.session.scalar(select(sa.exists().where(sub.c.contact_id == contact.id))) or False


def has_voted(vote: Vote, contact: Contact) -> bool:
    return db.session.scalar(select(VoteParticipation.id).where(
        VoteParticipation.vote_id == vote.id, VoteParticipation.contact_id == contact.id)) is not None


# -- ballots ---------------------------------------------------------------------------------------
def cast_ballot(vote: Vote, contact: Contact, option_ids: Iterable[int], *,
                now: datetime | None = None) -> BallotReceipt:
    """Cast ``contact``'s ballot in ``vote``; returns once it is committed (see :func:`cast_ballot_in`)."""
    return _cast(vote.meeting_id, None, vote.id, None, contact.id, option_ids, now)


def cast_ballot_in(meeting_code: str, vote_id: int, identity_id: int, option_ids: Iterable, *,
                   now: datetime | None = None) -> BallotReceipt:
    """Cast the ballot of the contact bound to the WeChat identity ``identity_id`` in the vote
    ``vote_id`` of the meeting ``meeting_code``; returns once it is committed.

    The voter, the vote and its meeting are read (the vote under its share lock) together with the
    other ballots of its batch, so the caller need load none of them; the receipt carries the vote.

    Ballots arriving together are cast many to a transaction (:mod:`app.services.votes.ballots`),
    each decided by :func:`check_ballot` and the unique voted-marker. The caller's own transaction
    is committed first (with ``GROUP_COMMIT`` off the ballot is cast in it and commits it).

    :raise VoteError: ``voter_unknown`` (no such identity, or not bound to a contact),
        ``vote_not_found``, ``vote_not_open``, ``vote_closed``, ``not_eligible``, ``choice_invalid``,
        ``choice_count``, ``too_few``, ``too_many``, ``already_voted``; ``busy`` if the database did
        not answer in time.
    """
    return _cast(None, (meeting_code or "").strip(), vote_id, identity_id, None, option_ids, now)


def _cast(meeting_id: int | None, meeting_code: str | None, vote_id: int, identity_id: int | None,
          contact_id: int | None, option_ids: Iterable, now: datetime | None) -> BallotReceipt:

    return ballot_batch.submit(ballot_batch.BallotItem(meeting_id, meeting_code, vote_id, identity_id, contact_id,
                                                       tuple(option_ids), now or datetime.now(UTC)))


def _unlink_anonymous(vote: Vote) -> None:
    """Rewrite an anonymous vote's ballots and markers in this (closing) transaction.

    While a ballot and its marker sit where their own transaction wrote them, PostgreSQL's system
    columns still pair them (same ``xmin``; neighbouring ``ctid``s in insertion order). Rewritten
    here, every row carries the closing transaction's ``xmin`` and ballots lie in the order of their
    random ids, so nothing left in the tables says which ballot came with which marker.
    """
    ballots = db.session.execute(
        select(BallotChoice.ballot_id, BallotChoice.option_id).join(Ballot, Ballot.id == BallotChoice.ballot_id)
        .where(Ballot.vote_id == vote.id)
    ).all()
    by_ballot: dict[str, list[int]] = {}
    for ballot_id, option_id in ballots:
        by_ballot.setdefault(ballot_id, []).append(option_id)
    db.session.execute(sa.delete(Ballot).where(Ballot.vote_id == vote.id))
    if by_ballot:
        db.session.execute(sa.insert(Ballot), [{"id": bid, "vote_id": vote.id, "contact_id": None, "cast_at": None}
                                               for bid in sorted(by_ballot)])
        db.session.execute(sa.insert(BallotChoice), [{"ballot_id": bid, "option_id": oid}
                                                     for bid in sorted(by_ballot) for oid in by_ballot[bid]])
    # Touch every marker too: their xmin becomes the closing transaction's, like the ballots'.
    db.session.execute(sa.update(VoteParticipation).where(VoteParticipation.vote_id == vote.id)
                       .values(contact_id=VoteParticipation.contact_id).execution_options(synchronize_session=False))
    db.session.expire_all()


def results_visible(vote: Vote, *, is_organizer: bool, now: datetime | None = None) -> bool:
    """Organizers always see results; attendees as the vote's ``results_visibility`` allows."""
    if is_organizer:
        return True
    if vote.results_visibility == "live":
        return effective_state(vote, now) != DRAFT
    if vote.results_visibility == "after_close":
        return effective_state(vote, now) == CLOSED
    return False
