"""Pages reached directly (a menu, a bookmark, the meeting page's button): OAuth, then the same flows."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from models import Document, SignIn
from tests.h5.conftest import ZHANG


def log_in_as(client, identity):
    with client.session_transaction() as s:
        s["identity_id"] = identity.id


def test_unknown_visitor_goes_through_wechat_oauth_and_comes_back(db, client, sim, meeting):
    res = client.get("/m/H5TEST")
    assert res.status_code == 302
    authorize = res.headers["Location"]
    parts = urlsplit(authorize)
    assert authorize.startswith("http://wechat.sim/connect/oauth2/authorize?") and parts.fragment == "wechat_redirect"
    query = parse_qs(parts.query)
    assert query["scope"] == ["snsapi_base"] and query["redirect_uri"] == ["http://huiyi.test/m/oauth"]

    # The simulator plays WeChat's in-app browser for this phone user.
    sim.state.ensure_user("o-direct")
    back = sim.app.test_client().get(parts.path, query_string=parts.query + "&sim_openid=o-direct")
    assert back.status_code == 302 and back.headers["Location"].startswith("http://huiyi.test/m/oauth?code=")
    landing = urlsplit(back.headers["Location"])
    res = client.get(landing.path + "?" + landing.query)
    assert res.status_code == 302 and res.headers["Location"] == "/m/H5TEST"

    body = client.get("/m/H5TEST").get_data(as_text=True)
    assert "全区经济工作会议" in body and "区政府三楼大会议室" in body
    assert "首次使用请先核对身份" in body


def test_meeting_page_content_is_escaped_and_complete(db, client, meeting, factory):
    log_in_as(client, factory.identity(meeting_invitees(db, meeting)[0]))
    body = client.get("/m/H5TEST").get_data(as_text=True)
    # Intro: newlines kept by CSS (pre-line), markup shown as text.
    assert "一、传达上级精神\n二、部署明年工作 &lt;b&gt;不是标签&lt;/b&gt;" in body
    assert "<b>不是标签" not in body  # (the card's own <b> around the next item's time is ours)
    assert "主持人宣布开会" in body and "王主任" in body and "09:10" in body
    assert "年" in body and "月" in body and "–" in body  # fmt_range_cn: 2026年11月22日（周日） 09:00–12:00
    assert "会议材料" not in body  # no documents yet: no section at all
    assert "张三，您尚未签到" in body


def meeting_invitees(db, meeting):
    from models import Invitee

    return [i.contact for i in db.session.scalars(select(Invitee).where(Invitee.meeting_id == meeting.id))]


def test_unbound_visitor_binds_on_the_signin_page(db, client, meeting, factory):
    log_in_as(client, factory.identity())
    page = client.get("/m/H5TEST/signin")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认并签到" in body and 'name="t"' not in body
    res = client.post("/m/H5TEST/signin?s=1", data=ZHANG)
    assert res.status_code == 302 and res.headers["Location"] == "/m/H5TEST/done?s=1"
    assert db.session.scalar(select(SignIn.method)) == "h5"
    assert "签到成功" in client.get("/m/H5TEST/done?s=1").get_data(as_text=True)


def test_bound_visitor_signs_in_with_one_tap(db, client, meeting, factory):
    zhang = meeting_invitees(db, meeting)[0]
    log_in_as(client, factory.identity(zhang))
    body = client.get("/m/H5TEST").get_data(as_text=True)
    assert "您尚未签到" in body and 'action="/m/H5TEST/signin?s=1"' in body
    assert "签到" in client.get("/m/H5TEST/signin").get_data(as_text=True)  # a confirm button, no writes
    assert db.session.scalar(select(SignIn)) is None

    res = client.post("/m/H5TEST/signin?s=1")
    assert res.status_code == 302
    done = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "签到成功" in done and "第 1 位" in done
    body = client.get("/m/H5TEST").get_data(as_text=True)
    assert "您已于" in body and "第 1 位" in body
    # Already signed in: the sign-in page forwards to the result, and a second POST changes nothing.
    assert client.get("/m/H5TEST/signin").headers["Location"] == "/m/H5TEST/done?s=1"
    client.post("/m/H5TEST/signin?s=1")
    assert "您已签到" in client.get("/m/H5TEST/done?s=1").get_data(as_text=True)
    assert len(db.session.scalars(select(SignIn)).all()) == 1


def test_not_on_the_list_and_documents(db, client, meeting, factory):
    outsider = factory.contact(name="赵六")
    log_in_as(client, factory.identity(outsider))
    body = client.get("/m/H5TEST").get_data(as_text=True)
    assert "您不在本次会议的参会名单中" in body and "<button" not in body

    # Someone not on the list sees no materials, not even their titles.
    db.session.add(Document(meeting_id=meeting.id, number="会-01", title="政府工作报告（征求意见稿）"))
    db.session.flush()
    body = client.get("/m/H5TEST").get_data(as_text=True)
    assert "政府工作报告（征求意见稿）" not in body


def test_done_page_without_a_sign_in_goes_to_the_meeting_page(db, client, meeting, factory):
    zhang = meeting_invitees(db, meeting)[0]
    log_in_as(client, factory.identity(zhang))
    assert client.get("/m/H5TEST/done").headers["Location"] == "/m/H5TEST"
    sign_in(meeting, get_session(meeting), zhang, method="scan")
    assert "您已签到" in client.get("/m/H5TEST/done").get_data(as_text=True)


def test_votes_and_surveys_are_for_participants_only_on_h5(client, db, factory):
    """A bound person who is not on the list reads neither a vote's question nor a survey's (issue 21.9);
    an invitee does. The mini program's doors obey the same rule (tests/mp/test_mp_authz.py)."""
    from app.services.votes.surveys import create_survey, set_state
    from app.services.votes.votes import create_vote, open_vote
    from app.web.auth import SESSION_KEY
    from models import OrganizerRight

    unit = factory.unit()
    meeting = factory.meeting("PART1")
    owner = factory.contact(unit, name="会务")
    from app.services.meetings.organizers import add_organizer

    add_organizer("PART1", owner.phone, actor="test", right=OrganizerRight.OWNER)
    invited, stranger = factory.contact(unit, name="受邀"), factory.contact(unit, name="路人")
    factory.invitee(meeting, invited)
    vote = create_vote(meeting, actor=owner, title="秘密表决事项", options=["同意", "反对"])
    open_vote(meeting, vote, actor=owner)
    survey = create_survey(meeting, actor=owner, title="内部问卷",
                           questions=[{"kind": "text", "text": "内部问题", "required": False}])
    set_state(meeting, survey, "open", actor=owner)
    ids = {c: factory.identity(c).id for c in (invited, stranger)}
    db.session.commit()
    pages = ["/m/PART1/votes", f"/m/PART1/votes/{vote.id}", f"/m/PART1/votes/{vote.id}/results",
             f"/m/PART1/surveys/{survey.id}"]
    with client.session_transaction() as s:
        s[SESSION_KEY] = ids[stranger]
    for page in pages:
        res = client.get(page)
        body = res.get_data(as_text=True)
        assert res.status_code == 403 and "秘密表决事项" not in body and "内部问题" not in body, page
    with client.session_transaction() as s:
        s[SESSION_KEY] = ids[invited]
    assert "秘密表决事项" in client.get("/m/PART1/votes").get_data(as_text=True)
    assert "内部问题" in client.get(f"/m/PART1/surveys/{survey.id}").get_data(as_text=True)
