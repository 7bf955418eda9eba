"""Vote pages over HTTP: attendee ballots and messages, organizer actions, export, authorization."""

from __future__ import annotations

import io

import openpyxl
import pytest

from app.services.votes.votes import cast_ballot, close_vote, create_vote, open_vote
from models import Vote
from tests.votes.conftest import build, login

EVIL = "<script>alert(1)</script>"


@pytest.fixture
def attendee(factory, vm):
    return factory.identity(vm.delegates[0])


def motion(vm, **kw):
    kw.setdefault("title", "关于会议议程的表决")
    vote = create_vote(vm.meeting, actor=vm.organizer, kind=kw.pop("kind", "motion"), **kw)
    open_vote(vm.meeting, vote, actor=vm.organizer)
    # Committed (a savepoint here) so a request's rollback of a refused ballot cannot undo the setup.
    from app.extensions import db

    db.session.commit()
    return vote


def test_attendee_votes_once_and_is_told_clearly(db, client, vm, attendee, redis_client):
    vote = motion(vm, results_visibility="live")
    login(client, attendee.id)
    listing = client.get(f"/m/{vm.meeting.code}/votes").get_data(as_text=True)
    assert "关于会议议程的表决" in listing and "进行中" in listing
    page = client.get(f"/m/{vm.meeting.code}/votes/{vote.id}").get_data(as_text=True)
    assert page.count('name="option"') == 3 and "赞成" in page and "弃权" in page
    yes = vote.options[0].id
    res = client.post(f"/m/{vm.meeting.code}/votes/{vote.id}", data={"option": yes})
    assert res.status_code == 200 and "投票成功" in res.get_data(as_text=True)
    assert "查看结果" in res.get_data(as_text=True)
    again = client.post(f"/m/{vm.meeting.code}/votes/{vote.id}", data={"option": yes})
    assert again.status_code == 409 and "您已投票" in again.get_data(as_text=True)
    assert "您已投票" in client.get(f"/m/{vm.meeting.code}/votes/{vote.id}").get_data(as_text=True)
    # After-commit callbacks read on their own connection, which cannot see this test's rolled-back
    # outer transaction; drop their counters so the request rebuilds them from its own session.
    redis_client.flushdb()
    data = client.get(f"/m/{vm.meeting.code}/votes/{vote.id}/results.json").get_json()
    assert data["ballots"] == 1 and data["totals"][str(yes)] == 1 and data["eligible"] == 6


def test_closed_and_not_eligible_messages(db, client, factory, vm, attendee):
    vote = motion(vm)
    close_vote(vm.meeting, vote, actor=vm.organizer)
    login(client, attendee.id)
    res = client.post(f"/m/{vm.meeting.code}/votes/{vote.id}", data={"option": vote.options[0].id})
    assert res.status_code == 409 and "投票已结束" in res.get_data(as_text=True)
    observers_out = motion(vm, title="代表表决", eligibility="roles", eligible_roles=["代表"])
    observer = factory.identity(vm.observers[0])
    db.session.commit()
    login(client, observer.id)
    res = client.post(f"/m/{vm.meeting.code}/votes/{observers_out.id}", data={"option": observers_out.options[0].id})
    assert res.status_code == 403 and "您不在本次投票范围内" in res.get_data(as_text=True)


@pytest.mark.parametrize("change", ["deleted", "unbound"])
def test_a_cookie_whose_identity_is_gone_or_unbound_is_sent_to_sign_in(db, client, vm, attendee, change):
    """The ballot POST trusts the signed cookie only to reach the batch; the batch finds no bound
    contact behind it, and the page sends the visitor to the sign-in page as for anyone unbound."""
    from sqlalchemy import func, select

    from models import Ballot, VoteParticipation, WechatIdentity

    vote = motion(vm)
    login(client, attendee.id)
    if change == "deleted":
        db.session.delete(db.session.get(WechatIdentity, attendee.id))
    else:
        attendee.contact_id = None
    db.session.commit()
    res = client.post(f"/m/{vm.meeting.code}/votes/{vote.id}", data={"option": vote.options[0].id})
    assert res.status_code == 302 and res.headers["Location"].endswith(f"/m/{vm.meeting.code}/signin")
    assert db.session.scalar(select(func.count()).select_from(VoteParticipation)) == 0
    assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_a_ballot_without_a_session_goes_through_wechat_oauth(db, client, vm):
    vote = motion(vm)
    res = client.post(f"/m/{vm.meeting.code}/votes/{vote.id}", data={"option": vote.options[0].id})
    assert res.status_code == 302 and "/connect/oauth2/authorize" in res.headers["Location"]
    with client.session_transaction() as s:
        assert f"/m/{vm.meeting.code}/votes/{vote.id}" in s["oauth_next"].values()


def test_results_hidden_until_allowed(db, client, vm, attendee):
    vote = motion(vm, results_visibility="after_close")
    login(client, attendee.id)
    assert client.get(f"/m/{vm.meeting.code}/votes/{vote.id}/results").status_code == 403
    assert client.get(f"/m/{vm.meeting.code}/votes/{vote.id}/results.json",
                      headers={"Accept": "application/json"}).get_json()["error"]["code"] == \
        "results_hidden"
    close_vote(vm.meeting, vote, actor=vm.organizer)
    assert client.get(f"/m/{vm.meeting.code}/votes/{vote.id}/results").status_code == 200


def test_labels_are_escaped(db, client, vm, attendee):
    vote = motion(vm, kind="single", options=[EVIL, "正常选项"], title=EVIL, results_visibility="live")
    login(client, attendee.id)
    for url in (f"/m/{vm.meeting.code}/votes", f"/m/{vm.meeting.code}/votes/{vote.id}",
                f"/m/{vm.meeting.code}/votes/{vote.id}/results"):
        html = client.get(url).get_data(as_text=True)
        assert EVIL not in html and "&lt;script&gt;" in html
    login(client, vm.organizer_identity_id)
    html = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}").get_data(as_text=True)
    assert EVIL not in html


def test_organizer_creates_opens_closes_and_exports(db, client, vm, redis_client):
    login(client, vm.organizer_identity_id)
    assert "新建投票" in client.get(f"/admin/{vm.meeting.code}/votes").get_data(as_text=True)
    bad = client.post(f"/admin/{vm.meeting.code}/votes", data={"title": "", "kind": "motion"})
    assert bad.status_code == 400 and "请填写投票标题" in bad.get_data(as_text=True)
    res = client.post(f"/admin/{vm.meeting.code}/votes", data={
        "title": "选举监票人", "kind": "multiple", "options": "=HYPERLINK(\"http://evil\",\"点我\")\n李四\n王五",
        "min_choices": "1", "max_choices": "2", "eligibility": "roles", "eligible_roles": ["代表"],
        "results_visibility": "organizers"})
    assert res.status_code == 302
    vote = db.session.get(Vote, int(res.headers["Location"].rsplit("/", 1)[1]))
    assert vote.kind == "multiple" and vote.eligible_roles == ["代表"] and vote.state == "draft"
    assert client.post(f"/admin/{vm.meeting.code}/votes/{vote.id}/open").status_code == 302
    cast_ballot(vote, vm.delegates[0], [vote.options[0].id, vote.options[1].id])
    cast_ballot(vote, vm.delegates[1], [vote.options[0].id])
    redis_client.flushdb()  # see test_attendee_votes_once_and_is_told_clearly
    data = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}/results.json").get_json()
    assert data["ballots"] == 2 and data["eligible"] == 4 and data["turnout"] == 50.0
    page = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}").get_data(as_text=True)
    assert "结束投票" in page and "在大屏显示" in page
    assert client.post(f"/admin/{vm.meeting.code}/votes/{vote.id}/screen", data={"on": "1"}).status_code == 302
    assert vm.meeting.screen_mode == f"vote:{vote.id}"
    assert client.post(f"/admin/{vm.meeting.code}/votes/{vote.id}/close").status_code == 302
    assert db.session.get(Vote, vote.id).state == "closed"

    xlsx = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.data))
    cell = wb.active["A2"]
    assert cell.value == '=HYPERLINK("http://evil","点我")'
    assert cell.data_type == "s" and cell.quotePrefix  # a string, never a formula
    values = [[c.value for c in row] for row in wb.active.iter_rows()]
    assert values[0] == ["选项", "票数", "占比"] and values[1][1] == 2 and values[2][1] == 1
    assert ["代表0", "区人大常委会办公室", '=HYPERLINK("http://evil","点我")、李四'] in values


def test_attendee_and_other_organizer_are_refused(db, client, factory, vm, attendee):
    vote = motion(vm)
    other = build(factory, "VOTEX")
    db.session.commit()
    base = f"/admin/{vm.meeting.code}/votes"
    for identity_id in (attendee.id, other.organizer_identity_id):
        login(client, identity_id)
        assert client.get(base).status_code == 403
        assert client.post(base, data={"title": "越权", "kind": "motion"}).status_code == 403
        assert client.get(f"{base}/{vote.id}").status_code == 403
        assert client.get(f"{base}/{vote.id}/results.json").status_code == 403
        assert client.post(f"{base}/{vote.id}/close").status_code == 403
        assert client.post(f"{base}/{vote.id}/open").status_code == 403
        assert client.post(f"{base}/{vote.id}/screen", data={"on": "1"}).status_code == 403
        assert client.get(f"{base}/{vote.id}/export.xlsx").status_code == 403
    # the other meeting's organizer cannot reach this vote through their own meeting either
    assert client.get(f"/admin/VOTEX/votes/{vote.id}").status_code == 404
    assert db.session.get(Vote, vote.id).state == "open"


def test_a_closed_motion_says_whether_it_passed_everywhere(db, client, vm, attendee):
    """通过 / 未通过 by one rule (赞成 more than half of those entitled: exactly half fails), on the attendee's results, the
    organizer's page, the export and its people-named file; 投票率 is called the same on each."""
    vote = motion(vm, results_visibility="live")
    yes = next(o.id for o in vote.options if o.label == "赞成")
    for person in vm.delegates[:3]:  # 3 of the 6 entitled: half, which is not more than half
        cast_ballot(vote, person, [yes])
    login(client, attendee.id)
    base = f"/m/{vm.meeting.code}/votes/{vote.id}/results"
    assert 'id="v-outcome" hidden' in client.get(base).get_data(as_text=True)  # not judged while open
    close_vote(vm.meeting, vote, actor=vm.organizer)
    db.session.commit()
    page = client.get(base).get_data(as_text=True)
    assert "表决结果：<span class=\"o\">未通过</span>" in page and "投票率" in page and "参与率" not in page
    assert client.get(f"{base}.json").get_json()["outcome"] == "未通过"
    login(client, vm.organizer_identity_id)
    admin = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}").get_data(as_text=True)
    assert "表决结果：未通过" in admin and "赞成票超过应投票人数的一半为通过" in admin and "参与率" not in admin
    xlsx = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}/export.xlsx")
    assert "filename*=UTF-8''" in xlsx.headers["Content-Disposition"] and "vote-" not in xlsx.headers[
        "Content-Disposition"]
    rows = [[c.value for c in row] for row in openpyxl.load_workbook(io.BytesIO(xlsx.data)).active.iter_rows()]
    assert ["表决结果", "未通过", "赞成票超过应投票人数的一半为通过"] in rows and ["投票率", "50.0%", None] in rows
