"""Votes (投票/表决), their options and ballots.

Anonymous votes keep the ballot and the "has voted" marker in separate tables with nothing that
links them: ballots carry a random id and no time, so neither the database nor an organizer can
tell who chose what, while the marker still refuses a second ballot.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column


class Vote(Model):
    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meeting_sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: ``single``, ``multiple`` (with min/max), ``motion`` (赞成/反对/弃权).
    kind: Mapped[str] = mapped_column(sa.String(16))
    min_choices: Mapped[int] = mapped_column(default=1)
    max_choices: Mapped[int] = mapped_column(default=1)
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    #: ``signed_in`` (default), ``invitees``, ``roles`` (see eligible_roles / eligible_groups).
    eligibility: Mapped[str] = mapped_column(sa.String(16), default="signed_in")
    eligible_roles: Mapped[list[str]] = mapped_column(JSONType, default=list)
    eligible_groups: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: ``draft``, ``open``, ``closed``.
    state: Mapped[str] = mapped_column(sa.String(16), default="draft")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: ``live``, ``after_close``, ``organizers``.
    results_visibility: Mapped[str] = mapped_column(sa.String(16), default="after_close")
    created_at: Mapped[datetime] = created_at_column()

    options: Mapped[list[VoteOption]] = relationship(
        order_by="VoteOption.position", cascade="all, delete-orphan"
    )


class VoteOption(Model):
    __tablename__ = "vote_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    label: Mapped[str] = mapped_column(sa.String(200))


class VoteParticipation(Model):
    """The voted-marker: one per person per vote, the database's guard against a second ballot."""

    __tablename__ = "vote_participations"
    __table_args__ = (sa.UniqueConstraint("vote_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)


class Ballot(Model):
    __tablename__ = "ballots"

    #: Random (uuid4 hex), so insertion order does not reveal who voted when.
    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    vote_id: Mapped[int] = mapped_column(sa.ForeignKey("votes.id", ondelete="CASCADE"), index=True)
    #: Set for named votes only; always NULL for anonymous ones.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"))
    #: Named votes only; anonymous ballots carry no time.
    cast_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    choices: Mapped[list[BallotChoice]] = relationship(cascade="all, delete-orphan")


class BallotChoice(Model):
    __tablename__ = "ballot_choices"

    ballot_id: Mapped[str] = mapped_column(sa.ForeignKey("ballots.id", ondelete="CASCADE"), primary_key=True)
    option_id: Mapped[int] = mapped_column(sa.ForeignKey("vote_options.id", ondelete="CASCADE"), primary_key=True)
