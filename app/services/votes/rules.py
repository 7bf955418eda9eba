"""The rules of a vote that every part of voting shares: its states, who is eligible, and whether a
ballot stands. Plain definitions with no side effects, so that casting (``votes.ballots``), counting
(``votes.results``) and the organizers' actions (``votes.votes``) all read them from one place."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy import select

from app.services.errors import DomainError
from models import Invitee, Meeting, SignIn
from models.votes import Vote

DRAFT, OPEN, CLOSED = "draft", "open", "closed"
MAX_OPTIONS = 50

KIND_LABELS = {"single": "单选", "multiple": "多选", "motion": "表决"}
STATE_LABELS = {DRAFT: "未开始", OPEN: "进行中", CLOSED: "已结束"}


class VoteError(DomainError):
    messages = {
        "vote_not_found": "找不到该投票",
        "title_missing": "请填写投票标题",
        "kind_invalid": "投票类型只能是单选、多选或表决",
        "options_missing": "请至少填写两个选项",
        "options_too_many": "选项不能超过 {n} 个",
        "option_blank": "选项内容不能为空",
        "choices_range_invalid": "多选的最少/最多选择数不正确",
        "eligibility_invalid": "投票范围设置不正确",
        "roles_missing": "按身份或代表团投票时，请指定可投票的身份或代表团",
        "visibility_invalid": "结果公布方式设置不正确",
        "schedule_invalid": "结束时间必须晚于开始时间",
        "session_invalid": "该场次不属于本次会议",
        "vote_not_open": "投票尚未开始",
        "vote_closed": "投票已结束",
        "already_voted": "您已投票，每人只能投一次",
        "not_eligible": "您不在本次投票范围内",
        "choice_invalid": "所选选项无效，请刷新后重试",
        "choice_count": "请选择 1 项",
        "too_few": "请至少选择 {n} 项",
        "too_many": "最多只能选择 {n} 项",
        "results_hidden": "投票结果暂不公开",
        "busy": "投票人数较多，请稍后刷新页面查看投票是否已记录",
        "voter_unknown": "请先登记身份后再投票",
    }
    statuses = {"voter_unknown": 403, "vote_not_found": 404, "already_voted": 409, "vote_closed": 409, "vote_not_open": 409,
                "not_eligible": 403, "results_hidden": 403, "busy": 503}


# -- state -----------------------------------------------------------------------------------------
def effective_state(vote: Vote, now: datetime | None = None) -> str:
    """The one rule for whether a vote takes ballots: closing by hand or reaching ``closes_at``
    ends it; opening by hand or reaching ``opens_at`` starts it. No job has to flip anything."""
    return _state_of(vote.state, vote.opens_at, vote.closes_at, now or datetime.now(UTC))


def _state_of(state: str, opens_at: datetime | None, closes_at: datetime | None, now: datetime) -> str:
    if state == CLOSED or (closes_at is not None and now >= closes_at):
        return CLOSED
    if state == OPEN or (opens_at is not None and now >= opens_at):
        return OPEN
    return DRAFT


# -- eligibility -----------------------------------------------------------------------------------
def eligible_ids_query(vote: Vote) -> sa.Select:
    """The contact ids allowed to vote: the one definition used by both the check and the turnout."""
    return eligible_template(*eligible_shape(vote)).params(**eligible_params(vote))


@cache
def eligible_template(eligibility: str, by_session: bool, by_roles: bool, by_groups: bool) -> sa.Select:
    """The eligible-ids query for one shape of settings, with the vote's values as bound parameters
    (``eligible_params``): built once per shape, so the ballot path does not rebuild it."""
    if eligibility == "signed_in":
        # A live sign-in, exactly as the sign-in service defines it (not revoked).
        q = select(SignIn.contact_id).where(SignIn.meeting_id == sa.bindparam("el_meeting"),
                                            SignIn.revoked_at.is_(None))
        if by_session:
            q = q.where(SignIn.session_id == sa.bindparam("el_session"))
        return q.distinct()
    q = select(Invitee.contact_id).where(Invitee.meeting_id == sa.bindparam("el_meeting"),
                                         Invitee.status == "approved")
    if by_roles:
        q = q.where(Invitee.role.in_(sa.bindparam("el_roles", expanding=True)))
    if by_groups:
        q = q.where(Invitee.group_name.in_(sa.bindparam("el_groups", expanding=True)))
    return q


def eligible_shape(vote: Vote) -> tuple[str, bool, bool, bool]:
    roles = vote.eligibility == "roles"
    return (vote.eligibility, vote.eligibility == "signed_in" and vote.session_id is not None,
            roles and bool(vote.eligible_roles), roles and bool(vote.eligible_groups))


def eligible_params(vote: Vote) -> dict:
    shape = eligible_shape(vote)
    params = {"el_meeting": vote.meeting_id}
    if shape[1]:
        params["el_session"] = vote.session_id
    if shape[2]:
        params["el_roles"] = list(vote.eligible_roles)
    if shape[3]:
        params["el_groups"] = list(vote.eligible_groups)
    return params


# -- ballots ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BallotReceipt:
    ballot_id: str
    option_ids: list[int]
    #: The vote as the ballot found it (read under its lock), and its meeting (code and title only):
    #: plain copies no session owns.
    vote: Vote | None = None
    meeting: Meeting | None = None


def check_ballot(vote: Vote, now: datetime, *, eligible: bool, option_ids: Iterable) -> list[int]:
    """The one rule for a ballot in ``vote`` (as read under its lock) by a voter who is, or is not,
    eligible and active: the chosen option ids.

    :raise VoteError: ``vote_closed``, ``vote_not_open``, ``not_eligible`` or a choice error.
    """
    state = effective_state(vote, now)
    if state != OPEN:
        raise VoteError("vote_closed" if state == CLOSED else "vote_not_open")
    if not eligible:
        raise VoteError("not_eligible")
    return _check_choices(vote, option_ids)


def _check_choices(vote: Vote, option_ids: Iterable) -> list[int]:
    valid = {o.id for o in vote.options}
    try:
        chosen = sorted({int(x) for x in option_ids})
    except (TypeError, ValueError):
        raise VoteError("choice_invalid") from None
    if any(x not in valid for x in chosen):
        raise VoteError("choice_invalid")
    if vote.kind != "multiple":
        if len(chosen) != 1:
            raise VoteError("choice_count")
        return chosen
    if len(chosen) < vote.min_choices:
        raise VoteError("too_few", n=vote.min_choices)
    if len(chosen) > vote.max_choices:
        raise VoteError("too_many", n=vote.max_choices)
    return chosen
