"""Questionnaires (问卷): single choice, multiple choice, rating 1–5 and free text.

One response per person per survey, decided by the database like ballots: the participation
marker (unique per survey and person) is inserted first. Anonymous surveys store the response with
no person and no time and a random id, so a response cannot be traced back to whoever gave it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.exports import runs_as_job, safe_filename, stored, write_xlsx
from app.services.meetings import organizers
from models import Contact, Invitee, Meeting
from models.surveys import Survey, SurveyParticipation, SurveyQuestion, SurveyResponse

QUESTION_KINDS = ("single", "multiple", "rating", "text")
KIND_LABELS = {"single": "单选", "multiple": "多选", "rating": "评分", "text": "填空"}
MAX_TEXT = 2000


class SurveyError(DomainError):
    messages = {
        "survey_not_found": "找不到该问卷",
        "title_missing": "请填写问卷标题",
        "questions_missing": "问卷至少需要一个问题",
        "question_invalid": "第 {n} 题设置不正确",
        "survey_not_open": "问卷尚未开始",
        "survey_closed": "问卷已结束",
        "already_answered": "您已提交过本问卷，每人只能提交一次",
        "not_eligible": "您不在本次问卷范围内",
        "answer_missing": "第 {n} 题为必答题",
        "answer_invalid": "第 {n} 题的回答无效",
    }
    statuses = {"survey_not_found": 404, "already_answered": 409, "survey_closed": 409, "survey_not_open": 409,
                "not_eligible": 403}


def get_survey(meeting: Meeting, survey_id: int) -> Survey:
    survey = db.session.get(Survey, survey_id)
    if survey is None or survey.meeting_id != meeting.id:
        raise SurveyError("survey_not_found")
    return survey


def visible_surveys(meeting: Meeting) -> list[Survey]:
    """What attendees see: surveys that are open or closed (drafts stay with the organizers)."""
    return list(db.session.scalars(select(Survey).where(Survey.meeting_id == meeting.id, Survey.state != "draft")
                                   .order_by(Survey.id.desc())))


def list_surveys(meeting: Meeting, *, state: str | None = None) -> list[Survey]:
    """The meeting's surveys, newest first; only those in ``state`` when given."""
    q = select(Survey).where(Survey.meeting_id == meeting.id)
    if state is not None:
        q = q.where(Survey.state == state)
    return list(db.session.scalars(q.order_by(Survey.id.desc())))


def create_survey(meeting: Meeting, *, actor: Contact | None, title: str, questions: Sequence[Mapping[str, Any]],
                  anonymous: bool = True) -> Survey:
    """``questions``: [{"kind": "single"|"multiple"|"rating"|"text", "text": ..., "options": [...],
    "required": bool}]."""
    organizers.require_right(meeting, actor, "votes")
    title = (title or "").strip()
    if not title:
        raise SurveyError("title_missing")
    if not questions:
        raise SurveyError("questions_missing")
    built = []
    for n, q in enumerate(questions, start=1):
        kind, text = q.get("kind"), str(q.get("text") or "").strip()
        options = [str(o).strip() for o in q.get("options") or [] if str(o).strip()]
        if kind not in QUESTION_KINDS or not text or (kind in ("single", "multiple") and len(options) < 2):
            raise SurveyError("question_invalid", n=n)
        built.append(SurveyQuestion(position=n, kind=kind, text=text[:500],
                                    options=options if kind in ("single", "multiple") else [],
                                    required=bool(q.get("required", True))))
    survey = Survey(meeting_id=meeting.id, title=title[:200], anonymous=anonymous, state="draft", questions=built)
    db.session.add(survey)
    db.session.flush()
    audit.record(f"contact:{actor.id}", "survey.create", meeting_id=meeting.id, target=f"survey:{survey.id}")
    return survey


def set_state(meeting: Meeting, survey: Survey, state: str, *, actor: Contact | None) -> Survey:
    """Open (``open``) or close (``closed``) a survey; a closed survey stays closed."""
    organizers.require_right(meeting, actor, "votes")
    if state not in ("open", "closed") or survey.state == "closed":
        raise SurveyError("survey_closed")
    # The UPDATE waits for responses in flight (they hold a share lock on the row).
    db.session.execute(sa.update(Survey).where(Survey.id == survey.id).values(state=state)
                       .execution_options(synchronize_session=False))
    db.session.refresh(survey)
    audit.record(f"contact:{actor.id}", f"survey.{state}", meeting_id=meeting.id, target=f"survey:{survey.id}")
    return survey


def is_eligible(survey: Survey, contact: Contact) -> bool:
    """Anyone approved on the meeting's invitee list may answer."""
    return contact.active and db.session.scalar(select(Invitee.id).where(
        Invitee.meeting_id == survey.meeting_id, Invitee.contact_id == contact.id, Invitee.status == "approved"
    )) is not None


def has_answered(survey: Survey, contact: Contact) -> bool:
    return db.session.scalar(select(SurveyParticipation.id).where(
        SurveyParticipation.survey_id == survey.id, SurveyParticipation.contact_id == contact.id)) is not None


def submit_response(survey: Survey, contact: Contact, answers: Mapping[Any, Any], *,
                    now: datetime | None = None) -> SurveyResponse:
    """Store ``contact``'s answers ({question id: option index | [indexes] | 1–5 | text}) in the caller's
    transaction.

    :raise SurveyError: ``survey_not_open``, ``survey_closed``, ``not_eligible``, ``answer_missing``,
        ``answer_invalid``, ``already_answered``.
    """
    state = db.session.execute(select(Survey.state).where(Survey.id == survey.id)
                               .with_for_update(read=True)).scalar_one()
    if state != "open":
        raise SurveyError("survey_closed" if state == "closed" else "survey_not_open")
    if not is_eligible(survey, contact):
        raise SurveyError("not_eligible")
    clean = _check_answers(survey, {str(k): v for k, v in answers.items()})
    dialect = db.session.get_bind().dialect.name
    insert = (sa.dialects.postgresql.insert if dialect == "postgresql" else sa.dialects.sqlite.insert)
    marker = db.session.execute(
        insert(SurveyParticipation).values(survey_id=survey.id, contact_id=contact.id)
        .on_conflict_do_nothing(index_elements=["survey_id", "contact_id"]).returning(SurveyParticipation.id)
    ).scalar_one_or_none()
    if marker is None:
        raise SurveyError("already_answered")
    response = SurveyResponse(id=uuid.uuid4().hex, survey_id=survey.id,
                              contact_id=None if survey.anonymous else contact.id,
                              submitted_at=None if survey.anonymous else (now or datetime.now(UTC)), answers=clean)
    db.session.add(response)
    db.session.flush()
    return response


def _check_answers(survey: Survey, answers: Mapping[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for n, q in enumerate(survey.questions, start=1):
        raw = answers.get(str(q.id))
        if raw in (None, "", []):
            if q.required:
                raise SurveyError("answer_missing", n=n)
            continue
        try:
            if q.kind == "single":
                value: Any = int(raw)
                ok = 0 <= value < len(q.options)
            elif q.kind == "multiple":
                value = sorted({int(x) for x in (raw if isinstance(raw, list | tuple) else [raw])})
                ok = all(0 <= x < len(q.options) for x in value)
            elif q.kind == "rating":
                value = int(raw)
                ok = 1 <= value <= 5
            else:
                value = str(raw).strip()[:MAX_TEXT]
                ok = True
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SurveyError("answer_invalid", n=n)
        clean[str(q.id)] = value
    return clean


@dataclass
class QuestionSummary:
    id: int
    kind: str
    text: str
    answered: int = 0
    #: single/multiple: [(option, count)]
    counts: list[tuple[str, int]] = field(default_factory=list)
    #: rating: average (one decimal) and counts for 1..5
    average: float | None = None
    texts: list[str] = field(default_factory=list)


def summary(survey: Survey) -> tuple[int, list[QuestionSummary]]:
    """(number of responses, per-question summary) straight from the stored responses."""
    responses = db.session.scalars(select(SurveyResponse.answers).where(SurveyResponse.survey_id == survey.id)).all()
    out = []
    for q in survey.questions:
        s = QuestionSummary(q.id, q.kind, q.text)
        values = [r[str(q.id)] for r in responses if str(q.id) in r]
        s.answered = len(values)
        if q.kind in ("single", "multiple"):
            counts = [0] * len(q.options)
            for v in values:
                for i in (v if isinstance(v, list) else [v]):
                    counts[i] += 1
            s.counts = list(zip(q.options, counts, strict=True))
        elif q.kind == "rating":
            s.counts = [(str(i), sum(1 for v in values if v == i)) for i in range(1, 6)]
            s.average = round(sum(values) / len(values), 1) if values else None
        else:
            s.texts = [v for v in values if v]
        out.append(s)
    return len(responses), out


def export_xlsx(meeting: Meeting, survey: Survey, *, actor: Contact | None) -> bytes:
    """One row per response, one column per question (anonymous responses in random-id order)."""

    organizers.require_right(meeting, actor, "votes")
    questions = list(survey.questions)
    rows = []
    stored = db.session.execute(
        select(SurveyResponse.answers, Contact.name).outerjoin(Contact, Contact.id == SurveyResponse.contact_id)
        .where(SurveyResponse.survey_id == survey.id).order_by(SurveyResponse.id)).all()
    for answers, name in stored:
        row: list[object] = [] if survey.anonymous else [name or ""]
        for q in questions:
            v = answers.get(str(q.id))
            if v is None:
                row.append(None)
            elif q.kind == "single":
                row.append(q.options[v])
            elif q.kind == "multiple":
                row.append("、".join(q.options[i] for i in v))
            else:
                row.append(v)
        rows.append(row)
    headers = ([] if survey.anonymous else ["姓名"]) + [f"{i}. {q.text}" for i, q in enumerate(questions, 1)]
    audit.record(f"contact:{actor.id}", "survey.export", meeting_id=meeting.id, target=f"survey:{survey.id}")
    return write_xlsx(headers, rows, sheet_title=survey.title)


def export_in_job(survey: Survey) -> bool:
    """The exports' one rule (app/services/exports.py): one row per response, a column per question."""
    responses = int(db.session.scalar(
        select(sa.func.count()).select_from(SurveyResponse).where(SurveyResponse.survey_id == survey.id)) or 0)
    return runs_as_job(responses, len(survey.questions) + 1)


def export_filename(meeting: Meeting, survey: Survey) -> str:
    return f"{safe_filename(meeting.title) or meeting.code}-问卷-{safe_filename(survey.title) or survey.id}.xlsx"


def export_job(meeting_id: int, survey_id: int, contact_id: int) -> dict[str, str]:
    """The job behind a large survey export: the same file, kept for the download."""
    meeting = db.session.get(Meeting, meeting_id)
    survey = db.session.get(Survey, survey_id)
    jobs.report_progress(0, 2, "正在读取问卷答卷")
    data = export_xlsx(meeting, survey, actor=db.session.get(Contact, contact_id))
    jobs.report_progress(2, 2, "已生成")
    return stored(data, export_filename(meeting, survey))
