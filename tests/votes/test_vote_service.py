"""Vote rules: kinds, choice counts, eligibility, states, schedule, authorization, results."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.meetings.organizers import OrganizerError
from app.services.signin.rules import get_session
from app.services.signin.write import revoke
from app.services.votes import results as vote_results
from app.services.votes import rules as vote_rules
from app.services.votes import votes
from app.services.votes.rules import VoteError
from app.services.votes.votes import cast_ballot, close_vote, create_vote, open_vote
from models import Ballot, VoteParticipation
from tests.votes.conftest import build


def opened(vm, **kw):
    kw.setdefault("title", "关于本次会议议程的表决")
    kw.setdefault("kind", "motion")
    vote = create_vote(vm.meeting, actor=vm.organizer, **kw)
    return open_vote(vm.meeting, vote, actor=vm.organizer)


def ids(vote, *labels):
    by_label = {o.label: o.id for o in vote.options}
    return [by_label[label] for label in labels]


def code_of(fn):
    with pytest.raises(VoteError) as err:
        fn()
    return err.value.code, err.value.message


def test_motion_gets_three_options_and_counts(db, vm):
    vote = opened(vm)
    assert [o.label for o in vote.options] == ["赞成", "反对", "弃权"]
    for person, label in zip(vm.people, ["赞成", "赞成", "反对", "弃权", "赞成", "反对"], strict=True):
        cast_ballot(vote, person, ids(vote, label))
    res = vote_results.results(vote, live=False)
    assert res.totals == {str(i): n for i, n in zip(ids(vote, "赞成", "反对", "弃权"), [3, 2, 1], strict=True)}
    assert res.ballots == 6 and res.eligible == 6 and res.turnout == 100.0


def test_single_needs_exactly_one_valid_choice(db, vm):
    vote = opened(vm, kind="single", options=["张三", "李四", "王五"])
    assert code_of(lambda: cast_ballot(vote, vm.people[0], []))[0] == "choice_count"
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "张三", "李四")))[0] == "choice_count"
    assert code_of(lambda: cast_ballot(vote, vm.people[0], [999999]))[0] == "choice_invalid"
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ["x"]))[0] == "choice_invalid"
    cast_ballot(vote, vm.people[0], ids(vote, "李四"))
    # a refused attempt leaves no marker behind: the valid one went through afterwards
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 1


def test_multiple_respects_min_and_max(db, vm):
    vote = opened(vm, kind="multiple", options=["甲", "乙", "丙", "丁"], min_choices=2, max_choices=3)
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "甲"))) == ("too_few", "请至少选择 2 项")
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "甲", "乙", "丙", "丁"))) == \
        ("too_many", "最多只能选择 3 项")
    receipt = cast_ballot(vote, vm.people[0], ids(vote, "甲", "丙") + ids(vote, "甲"))  # duplicates collapse
    stored = db.session.get(Ballot, receipt.ballot_id)
    assert sorted(c.option_id for c in stored.choices) == sorted(ids(vote, "甲", "丙")) == receipt.option_ids


def test_create_validates_settings(db, vm):
    def make(**kw):
        kw.setdefault("title", "测试")
        return lambda: create_vote(vm.meeting, actor=vm.organizer, **kw)

    assert code_of(make(title="  ", kind="motion"))[0] == "title_missing"
    assert code_of(make(kind="ranked", options=["a", "b"]))[0] == "kind_invalid"
    assert code_of(make(kind="single", options=["only", " "]))[0] == "options_missing"
    assert code_of(make(kind="multiple", options=["a", "b"], min_choices=2, max_choices=3))[0] == "choices_range_invalid"
    assert code_of(make(kind="motion", eligibility="roles"))[0] == "roles_missing"
    assert code_of(make(kind="motion", results_visibility="everyone"))[0] == "visibility_invalid"
    now = datetime.now(UTC)
    assert code_of(make(kind="motion", opens_at=now, closes_at=now))[0] == "schedule_invalid"


def test_already_voted_and_closed(db, vm):
    vote = opened(vm)
    cast_ballot(vote, vm.people[0], ids(vote, "赞成"))
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "反对"))) == \
        ("already_voted", "您已投票，每人只能投一次")
    close_vote(vm.meeting, vote, actor=vm.organizer)
    assert code_of(lambda: cast_ballot(vote, vm.people[1], ids(vote, "赞成"))) == ("vote_closed", "投票已结束")
    assert code_of(lambda: open_vote(vm.meeting, vote, actor=vm.organizer))[0] == "vote_closed"
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_draft_is_not_open(db, vm):
    vote = create_vote(vm.meeting, actor=vm.organizer, title="草稿", kind="motion")
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "赞成"))) == ("vote_not_open", "投票尚未开始")
    assert votes.visible_votes(vm.meeting) == []


def test_schedule_opens_and_closes_without_anyone(db, vm):
    now = datetime.now(UTC)
    vote = create_vote(vm.meeting, actor=vm.organizer, title="定时表决", kind="motion",
                       opens_at=now + timedelta(minutes=5), closes_at=now + timedelta(minutes=15))
    assert vote_rules.effective_state(vote, now) == "draft"
    assert vote_rules.effective_state(vote, now + timedelta(minutes=5)) == "open"
    assert vote_rules.effective_state(vote, now + timedelta(minutes=15)) == "closed"
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "赞成"), now=now))[0] == "vote_not_open"
    cast_ballot(vote, vm.people[0], ids(vote, "赞成"), now=now + timedelta(minutes=6))
    assert code_of(lambda: cast_ballot(vote, vm.people[1], ids(vote, "赞成"),
                                       now=now + timedelta(minutes=16)))[0] == "vote_closed"
    # opened by hand early, still closed by its schedule
    early = create_vote(vm.meeting, actor=vm.organizer, title="提前开始", kind="motion",
                        opens_at=now + timedelta(hours=1), closes_at=now + timedelta(hours=2))
    open_vote(vm.meeting, early, actor=vm.organizer, now=now)
    assert vote_rules.effective_state(early, now) == "open"
    assert vote_rules.effective_state(early, now + timedelta(hours=2)) == "closed"


def test_signed_in_eligibility_follows_live_sign_ins(db, factory):
    vm = build(factory, "VOTE2", signed_in=3)
    vote = opened(vm)
    not_signed = vm.people[4]
    assert code_of(lambda: cast_ballot(vote, not_signed, ids(vote, "赞成"))) == \
        ("not_eligible", "您不在本次投票范围内")
    revoke(vm.meeting, get_session(vm.meeting), vm.people[0], actor=vm.organizer, reason="误签")
    assert code_of(lambda: cast_ballot(vote, vm.people[0], ids(vote, "赞成")))[0] == "not_eligible"
    cast_ballot(vote, vm.people[1], ids(vote, "赞成"))
    assert vote_results.results(vote, live=False).eligible == 2
    outsider = factory.contact(name="局外人")
    assert code_of(lambda: cast_ballot(vote, outsider, ids(vote, "赞成")))[0] == "not_eligible"


def test_invitees_eligibility_needs_no_sign_in(db, factory):
    vm = build(factory, "VOTE3", signed_in=0)
    vote = opened(vm, eligibility="invitees")
    cast_ballot(vote, vm.people[5], ids(vote, "反对"))
    assert vote_results.results(vote, live=False).eligible == 6
    assert code_of(lambda: cast_ballot(vote, factory.contact(), ids(vote, "赞成")))[0] == "not_eligible"


def test_roles_eligibility_delegates_only_and_groups(db, vm):
    vote = opened(vm, eligibility="roles", eligible_roles=["代表"])
    cast_ballot(vote, vm.delegates[0], ids(vote, "赞成"))
    assert code_of(lambda: cast_ballot(vote, vm.observers[0], ids(vote, "赞成")))[0] == "not_eligible"
    assert vote_results.results(vote, live=False).eligible == 4
    group_vote = opened(vm, title="第一代表团表决", eligibility="roles", eligible_roles=["代表"],
                        eligible_groups=["第一代表团"])
    cast_ballot(group_vote, vm.delegates[0], ids(group_vote, "赞成"))
    assert code_of(lambda: cast_ballot(group_vote, vm.delegates[1], ids(group_vote, "赞成")))[0] == "not_eligible"
    assert vote_results.results(group_vote, live=False).eligible == 2


def test_session_vote_counts_that_session_only(db, factory):
    vm = build(factory, "VOTE4")
    session = get_session(vm.meeting)
    vote = opened(vm, session_id=session.id)
    assert vote_results.results(vote, live=False).eligible == 6
    assert code_of(lambda: create_vote(vm.meeting, actor=vm.organizer, title="x", kind="motion",
                                       session_id=999999))[0] == "session_invalid"


def test_organizer_rights(db, factory, vm):
    attendee = vm.people[0]
    with pytest.raises(OrganizerError) as err:
        create_vote(vm.meeting, actor=attendee, title="越权", kind="motion")
    assert err.value.code == "not_organizer"
    other = build(factory, "VOTE5")
    vote = create_vote(vm.meeting, actor=vm.organizer, title="本会表决", kind="motion")
    for action in (votes.open_vote, votes.close_vote):
        with pytest.raises(OrganizerError):
            action(vm.meeting, vote, actor=other.organizer)
    with pytest.raises(OrganizerError):
        vote_results.export_xlsx(vm.meeting, vote, actor=attendee)
    with pytest.raises(VoteError) as err:
        votes.get_vote(other.meeting, vote.id)  # a vote is only reachable through its own meeting
    assert err.value.code == "vote_not_found"


def test_results_visibility(db, vm):
    live = opened(vm, results_visibility="live")
    after = opened(vm, title="结束后公布", results_visibility="after_close")
    hidden = opened(vm, title="仅会务组", results_visibility="organizers")
    assert votes.results_visible(live, is_organizer=False)
    assert not votes.results_visible(after, is_organizer=False)
    assert not votes.results_visible(hidden, is_organizer=False)
    assert votes.results_visible(hidden, is_organizer=True)
    close_vote(vm.meeting, after, actor=vm.organizer)
    close_vote(vm.meeting, hidden, actor=vm.organizer)
    assert votes.results_visible(after, is_organizer=False)
    assert not votes.results_visible(hidden, is_organizer=False)


def test_screen_mode_toggle(db, vm):
    vote = opened(vm)
    assert votes.show_on_screen(vm.meeting, vote, actor=vm.organizer) == f"vote:{vote.id}"
    assert vm.meeting.screen_mode == f"vote:{vote.id}"
    assert votes.show_on_screen(vm.meeting, None, actor=vm.organizer) == "headcount"
    with pytest.raises(OrganizerError):
        votes.show_on_screen(vm.meeting, vote, actor=vm.people[0])
