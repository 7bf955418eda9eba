"""Votes, surveys and documents to response models: what an attendee is shown, and nothing more."""

from __future__ import annotations

from flask import url_for

from app.services.documents import materials as documents
from app.services.votes import rules as vote_rules
from app.services.votes import surveys, votes
from app.services.votes.results import Results
from miniprogram_api import schemas_attendee as s
from models import Contact, Meeting
from models.surveys import Survey
from models.votes import Vote


def vote(item: Vote, contact: Contact, *, is_organizer: bool) -> s.VoteOut:
    return s.VoteOut(
        id=item.id, title=item.title, description=item.description or "", kind=item.kind,
        state=vote_rules.effective_state(item), anonymous=item.anonymous, min_choices=item.min_choices,
        max_choices=item.max_choices, opens_at=item.opens_at, closes_at=item.closes_at,
        options=[s.VoteOptionOut(id=o.id, label=o.label) for o in item.options],
        has_voted=votes.has_voted(item, contact), eligible=votes.is_eligible(item, contact),
        results_visible=votes.results_visible(item, is_organizer=is_organizer))


def vote_results(res: Results) -> s.VoteResultsOut:
    return s.VoteResultsOut(
        vote_id=res.vote_id, title=res.title, kind=res.kind, state=res.state, ballots=res.ballots,
        eligible=res.eligible, turnout=res.turnout,
        options=[s.OptionCountOut(id=o.id, label=o.label, count=o.count, percent=o.percent) for o in res.options])


def survey(item: Survey, contact: Contact) -> s.SurveyOut:
    return s.SurveyOut(
        id=item.id, title=item.title, state=item.state, anonymous=item.anonymous,
        questions=[s.SurveyQuestionOut(id=q.id, kind=q.kind, text=q.text, options=list(q.options or []),
                                       required=q.required) for q in item.questions],
        answered=surveys.has_answered(item, contact))


def document(meeting: Meeting, listed: documents.ListedDocument) -> s.DocumentOut:
    doc, version, token = listed.document, listed.version, listed.token
    if version is None or token is None:
        return s.DocumentOut(number=doc.number, title=doc.title, ready=False)
    first = url_for("mp_api.document_page", code=meeting.code, token=token, n=1)
    return s.DocumentOut(
        number=doc.number, title=doc.title, ready=True, version=version.version, page_count=version.page_count,
        pages_ready=version.pages_ready or 0, token=token, first_page_url=first,
        page_url_template=first.rsplit("/", 1)[0] + "/{n}.png",
        download_url=url_for("mp_api.document_download", code=meeting.code, token=token)
                     if doc.allow_download else None)  # the download itself is checked by the service
