"""Votes and surveys in a meeting: list them, cast a ballot, read results, answer a questionnaire.

The same service calls as the H5 pages, so the same rules, error codes and messages."""

from __future__ import annotations

from app.services.meetings import organizers
from app.services.meetings.visibility import participating_meeting
from app.services.votes import results as vote_results
from app.services.votes import surveys, votes
from app.services.votes.rules import VoteError
from miniprogram_api import present_attendee
from miniprogram_api import schemas_attendee as s
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api

REFUSALS = {400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody}


def _is_organizer(meeting, contact) -> bool:
    return organizers.organizer_right(meeting, contact) is not None


@api(bp, "/meetings/<code>/votes", authenticate=current_identity, tags=["投票与问卷"],
     summary="会议中的投票（进行中与已结束），含我是否已投", responses={200: s.VoteList, 403: ErrorBody, 404: ErrorBody})
def vote_list(code: str, me):
    contact = bound_contact(me)
    meeting = participating_meeting(code, me.contact)
    organizer = _is_organizer(meeting, contact)
    return s.VoteList(items=[present_attendee.vote(v, contact, is_organizer=organizer)
                             for v in votes.visible_votes(meeting)])


@api(bp, "/meetings/<code>/votes/<int:vote_id>/ballot", "POST", body=s.BallotRequest,
     authenticate=current_identity, tags=["投票与问卷"], summary="投票（每人每项投票只能投一次）",
     responses={200: s.BallotResult, **REFUSALS})
def vote_ballot(code: str, vote_id: int, me, body: s.BallotRequest):
    """不能投票时返回原因代码：already_voted、vote_closed、vote_not_open、not_eligible、choice_invalid…"""
    contact = bound_contact(me)
    meeting = participating_meeting(code, me.contact)
    vote = votes.get_vote(meeting, vote_id)
    receipt = votes.cast_ballot(vote, contact, body.option_ids)
    return s.BallotResult(status="voted", vote_id=vote.id, option_ids=receipt.option_ids,
                          message="投票成功，您的选择已记录",
                          results_visible=votes.results_visible(vote, is_organizer=_is_organizer(meeting, contact)))


@api(bp, "/meetings/<code>/votes/<int:vote_id>/results", authenticate=current_identity, tags=["投票与问卷"],
     summary="投票结果（按投票的公布方式；会务人员总能查看）",
     responses={200: s.VoteResultsOut, 403: ErrorBody, 404: ErrorBody})
def vote_results_view(code: str, vote_id: int, me):
    meeting = participating_meeting(code, me.contact)
    vote = votes.get_vote(meeting, vote_id)
    if not votes.results_visible(vote, is_organizer=_is_organizer(meeting, me.contact)):
        raise VoteError("results_hidden")
    return present_attendee.vote_results(vote_results.results(vote))


@api(bp, "/meetings/<code>/surveys", authenticate=current_identity, tags=["投票与问卷"],
     summary="会议中的问卷（进行中与已结束），含我是否已提交",
     responses={200: s.SurveyList, 403: ErrorBody, 404: ErrorBody})
def survey_list(code: str, me):
    contact = bound_contact(me)
    meeting = participating_meeting(code, me.contact)
    return s.SurveyList(items=[present_attendee.survey(x, contact) for x in surveys.visible_surveys(meeting)])


@api(bp, "/meetings/<code>/surveys/<int:survey_id>/response", "POST", body=s.SurveyResponseRequest,
     authenticate=current_identity, tags=["投票与问卷"], summary="提交问卷（每人一次）",
     responses={200: s.SurveyResponseResult, **REFUSALS})
def survey_response(code: str, survey_id: int, me, body: s.SurveyResponseRequest):
    """不能提交时返回原因代码：already_answered、survey_closed、not_eligible、answer_missing…"""
    contact = bound_contact(me)
    meeting = participating_meeting(code, me.contact)
    survey = surveys.get_survey(meeting, survey_id)
    surveys.submit_response(survey, contact, body.answers)
    return s.SurveyResponseResult(status="submitted", survey_id=survey.id, message="提交成功，感谢您的反馈")
