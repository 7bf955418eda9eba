"""The organizers' survey creation form, and the links that lead to votes, surveys and the other
organizer pages from the H5 meeting page and the live console."""

from __future__ import annotations

from app.services.votes import surveys, votes
from models.surveys import Survey
from tests.votes.conftest import login


def _form(**extra) -> dict[str, str]:
    data = {"title": "会议满意度调查", "anonymous": "1",
            "q1_text": "您对会议组织是否满意？", "q1_kind": "single", "q1_options": "满意\n一般\n\n不满意\n",
            "q1_required": "1",
            "q2_text": "您关注哪些议题？", "q2_kind": "multiple", "q2_options": "预算\n民生", "q2_required": "1",
            "q3_text": "会场服务评分", "q3_kind": "rating",
            "q4_text": "其他意见<建议>", "q4_kind": "text", "q4_options": "ignored for text"}
    data.update(extra)
    return data


def test_organizer_creates_a_survey(db, client, vm):
    login(client, vm.organizer_identity_id)
    page = client.get(f"/admin/{vm.meeting.code}/surveys")
    assert page.status_code == 200 and 'id="create-survey"' in page.get_data(as_text=True)
    res = client.post(f"/admin/{vm.meeting.code}/surveys", data=_form())
    assert res.status_code == 302
    survey = db.session.query(Survey).filter_by(meeting_id=vm.meeting.id).one()
    assert res.headers["Location"].endswith(f"/admin/{vm.meeting.code}/surveys/{survey.id}")
    assert survey.title == "会议满意度调查" and survey.anonymous and survey.state == "draft"
    got = [(q.kind, q.text, q.options, q.required) for q in survey.questions]
    assert got == [("single", "您对会议组织是否满意？", ["满意", "一般", "不满意"], True),
                   ("multiple", "您关注哪些议题？", ["预算", "民生"], True),
                   ("rating", "会场服务评分", [], False),
                   ("text", "其他意见<建议>", [], False)]
    listing = client.get(f"/admin/{vm.meeting.code}/surveys").get_data(as_text=True)
    assert "会议满意度调查" in listing and "未开始" in listing


def test_invalid_survey_is_explained_and_keeps_the_form(db, client, vm):
    login(client, vm.organizer_identity_id)
    res = client.post(f"/admin/{vm.meeting.code}/surveys", data=_form(q2_options="只有一个"))
    body = res.get_data(as_text=True)
    assert res.status_code == 422 and "第 2 题设置不正确" in body
    assert "会议满意度调查" in body and "其他意见&lt;建议&gt;" in body
    assert db.session.query(Survey).count() == 0


def test_survey_without_questions_is_refused(db, client, vm):
    login(client, vm.organizer_identity_id)
    res = client.post(f"/admin/{vm.meeting.code}/surveys", data={"title": "空问卷"})
    assert res.status_code == 422 and "问卷至少需要一个问题" in res.get_data(as_text=True)


def test_attendee_cannot_create_a_survey(db, client, factory, vm):
    login(client, factory.identity(vm.delegates[0]).id)
    assert client.post(f"/admin/{vm.meeting.code}/surveys", data=_form()).status_code == 403
    assert db.session.query(Survey).count() == 0


def test_meeting_page_links_to_open_votes_and_surveys(db, client, factory, vm):
    login(client, factory.identity(vm.delegates[0]).id)
    page = client.get(f"/m/{vm.meeting.code}").get_data(as_text=True)
    assert 'id="activities"' not in page
    vote = votes.create_vote(vm.meeting, actor=vm.organizer, title="表决", kind="motion")
    survey = surveys.create_survey(vm.meeting, actor=vm.organizer, title="满意度<调查>",
                                   questions=[{"kind": "rating", "text": "评分"}])
    page = client.get(f"/m/{vm.meeting.code}").get_data(as_text=True)
    assert 'id="activities"' not in page  # drafts are not shown
    votes.open_vote(vm.meeting, vote, actor=vm.organizer)
    surveys.set_state(vm.meeting, survey, "open", actor=vm.organizer)
    page = client.get(f"/m/{vm.meeting.code}").get_data(as_text=True)
    assert f'href="/m/{vm.meeting.code}/votes"' in page and "1 项进行中" in page
    assert f'href="/m/{vm.meeting.code}/surveys/{survey.id}"' in page and "满意度&lt;调查&gt;" in page


def test_console_links_to_organizer_pages(db, client, vm):
    login(client, vm.organizer_identity_id)
    page = client.get(f"/admin/{vm.meeting.code}").get_data(as_text=True)
    code = vm.meeting.code
    for href in (f"/admin/{code}/votes", f"/admin/{code}/surveys", f"/admin/{code}/documents",
                 f"/admin/codes/{code}/poster.pdf", f"/admin/codes/{code}/qr.png"):
        assert f'href="{href}"' in page, href
