"""The console's notice pages and the person's notice page, through HTTP."""

from __future__ import annotations

from sqlalchemy import select

from app import jobs
from models import AuditLog, Leave, Notice, NoticeRecipient
from tests.notices.conftest import login


def _create_and_send(app, client, db, nm) -> Notice:
    code = nm.meeting.code
    login(client, nm.organizer_identity)
    page = client.get(f"/admin/{code}/notices/new")
    assert page.status_code == 200 and "关于召开全区经济工作会议的通知" in page.text
    res = client.post(f"/admin/{code}/notices", data={"title": "关于召开全区经济工作会议的通知", "body": "请携带笔记本。",
                                                       "all": "1", "ask_reply": "1", "kind": "notice"})
    assert res.status_code == 302 and "/notices/" in res.headers["Location"]
    notice = db.session.scalar(select(Notice))
    draft = client.get(res.headers["Location"])
    assert "按当前选择将发给 <strong>12</strong> 人" in draft.text
    sent = client.post(f"/admin/{code}/notices/{notice.id}/send", follow_redirects=True)
    assert "已提交发送，共 12 人" in sent.text
    assert jobs.run_pending(app) is True
    return notice


def test_console_to_person_and_back(app, client, db, nm):
    notice = _create_and_send(app, client, db, nm)
    recipient = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == nm.people[0].id))
    person = app.test_client()
    page = person.get(f"/n/{recipient.token}")
    assert page.status_code == 200 and "请携带笔记本。" in page.text and "致 代表0" in page.text
    db.session.refresh(recipient)
    assert recipient.read_at is not None  # opening the full text is what 已读 means
    asked = person.post(f"/n/{recipient.token}/leave", data={"reason": "外出公干"})
    assert asked.status_code == 302
    assert "请假申请已提交" in person.get(asked.headers["Location"]).text

    detail = client.get(f"/admin/{nm.meeting.code}/notices/{notice.id}")
    assert "外出公干" in detail.text and "1 待批" in detail.text
    approved = client.post(f"/admin/{nm.meeting.code}/notices/{notice.id}/leave/{recipient.id}",
                           data={"decision": "approve"}, follow_redirects=True)
    assert "已批准 代表0 请假" in approved.text
    assert db.session.scalar(select(Leave).where(Leave.contact_id == nm.people[0].id)) is not None
    assert "会务组已批准您请假" in person.get(f"/n/{recipient.token}").text
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"notice.create", "notice.send", "notice.leave_request", "notice.leave_approve", "leave.record"} <= actions


def test_person_page_refuses_bad_input_in_chinese(app, client, db, nm):
    _create_and_send(app, client, db, nm)
    recipient = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == nm.people[1].id))
    person = app.test_client()
    for token in ("nope", "x" * 200, "%00" * 20, recipient.token[:-1] + "?"):
        res = person.get(f"/n/{token}")
        assert res.status_code in (400, 404) and ("通知" in res.text or "请求" in res.text)
    empty = person.post(f"/n/{recipient.token}/leave", data={"reason": " "})
    assert empty.status_code == 400 and "请填写请假事由" in empty.text
    long = person.post(f"/n/{recipient.token}/leave", data={"reason": "长" * 201})
    assert long.status_code == 400 and "200 字以内" in long.text
    db.session.refresh(recipient)
    assert recipient.answer is None  # nothing half-written
    assert person.post(f"/n/{recipient.token}/attend").status_code == 302
    db.session.refresh(recipient)
    assert recipient.answer == "attend"


def test_console_refuses_a_sent_notice_edit_and_other_meetings_notice(app, client, db, nm, factory):
    notice = _create_and_send(app, client, db, nm)
    edit = client.post(f"/admin/{nm.meeting.code}/notices/{notice.id}/edit",
                       data={"title": "改", "body": "", "all": "1"}, follow_redirects=True)
    assert "该通知已发送，不能再修改" in edit.text
    other = factory.meeting("OTHER1", title="另一个会")
    factory.db.session.commit()
    assert client.get(f"/admin/{nm.meeting.code}/notices/999999").status_code == 404
    assert client.get(f"/admin/{other.code}/notices/{notice.id}").status_code == 403


def test_the_meeting_page_lists_my_notices(app, client, db, nm):
    from app.web.auth import SESSION_KEY
    from models import WechatIdentity

    notice = _create_and_send(app, client, db, nm)
    person = nm.people[0]
    identity = db.session.scalar(select(WechatIdentity).where(WechatIdentity.contact_id == person.id))
    mine = app.test_client()
    with mine.session_transaction() as s:
        s[SESSION_KEY] = identity.id
    page = mine.get(f"/m/{nm.meeting.code}")
    recipient = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == person.id))
    assert page.status_code == 200 and notice.title in page.text and f"/n/{recipient.token}" in page.text
    assert "未读" in page.text
    other = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == nm.people[1].id))
    assert other.token not in page.text  # only my own link
