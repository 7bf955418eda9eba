"""Questionnaires (问卷) and their responses."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import JSONType, Model, UTCDateTime, created_at_column


class Survey(Model):
    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    anonymous: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    #: ``draft``, ``open``, ``closed``.
    state: Mapped[str] = mapped_column(sa.String(16), default="draft")
    created_at: Mapped[datetime] = created_at_column()

    questions: Mapped[list[SurveyQuestion]] = relationship(
        order_by="SurveyQuestion.position", cascade="all, delete-orphan"
    )


class SurveyQuestion(Model):
    __tablename__ = "survey_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    #: ``single``, ``multiple``, ``rating`` (1–5), ``text``.
    kind: Mapped[str] = mapped_column(sa.String(16))
    text: Mapped[str] = mapped_column(sa.String(500))
    options: Mapped[list[str]] = mapped_column(JSONType, default=list)
    required: Mapped[bool] = mapped_column(default=True, server_default=sa.true())


class SurveyParticipation(Model):
    """One response per person per survey, guarded by the database."""

    __tablename__ = "survey_participations"
    __table_args__ = (sa.UniqueConstraint("survey_id", "contact_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"))
    contact_id: Mapped[int] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"), index=True)


class SurveyResponse(Model):
    __tablename__ = "survey_responses"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    survey_id: Mapped[int] = mapped_column(sa.ForeignKey("surveys.id", ondelete="CASCADE"), index=True)
    #: NULL for anonymous surveys.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="RESTRICT"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: {question_id: answer}: an option index, a list of indexes, 1–5, or text.
    answers: Mapped[dict] = mapped_column(JSONType, default=dict)
