"""会议通知 in the mini program: my list, the full text (read), 参加 and 请假, bad input refused."""

from __future__ import annotations

from sqlalchemy import select

from models import NoticeRecipient
from tests.mp.conftest import API, bearer, token_for


def test_my_notices_read_and_answered_in_the_mini_program(app, client, db, nm, factory):
    from app.services.notify import notices as svc

    notice = svc.create(nm.meeting, title="关于召开全区经济工作会议的通知", body="请携带笔记本。", audience={"all": True},
                        actor=nm.organizer)
    svc.send(notice, nm.meeting, actor=nm.organizer)
    db.session.commit()
    person = nm.people[10]  # no WeChat bound yet: this identity is the mini program's
    headers = bearer(token_for(app, factory.identity(person)))
    base = f"{API}/meetings/{nm.meeting.code}/notices"
    listed = client.get(base, headers=headers).json["items"]
    assert [(n["title"], n["state"], n["can_answer"]) for n in listed] == [
        ("关于召开全区经济工作会议的通知", "unread", True)]
    full = client.get(f"{base}/{notice.id}", headers=headers).json
    assert full["body"] == "请携带笔记本。" and full["state"] == "read"

    refused = client.post(f"{base}/{notice.id}/answer", json={"answer": "leave", "reason": "  "}, headers=headers)
    assert refused.status_code == 400 and refused.json["error"]["code"] == "leave_reason_missing"
    for bad in ({"answer": "maybe"}, {"answer": "leave", "reason": "长" * 201}, {"answer": "attend", "x": 1}, []):
        res = client.post(f"{base}/{notice.id}/answer", json=bad, headers=headers)
        assert res.status_code in (400, 422) and res.json["error"]["message"]
    asked = client.post(f"{base}/{notice.id}/answer", json={"answer": "leave", "reason": "外出公干"}, headers=headers)
    assert asked.status_code == 200 and asked.json["state"] == "leave_pending"
    row = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == person.id))
    svc.decide_leave(notice, nm.meeting, row.id, approve=True, note="", actor=nm.organizer)
    db.session.commit()
    after = client.get(f"{base}/{notice.id}", headers=headers).json
    assert (after["state"], after["state_text"], after["can_answer"]) == ("leave_approved", "已准假", False)
    again = client.post(f"{base}/{notice.id}/answer", json={"answer": "attend"}, headers=headers)
    assert again.status_code == 409 and again.json["error"]["code"] == "leave_decided"
    # Another attendee reads their own copy: nothing of the first person's answer.
    other = bearer(token_for(app, factory.identity(nm.people[11])))
    theirs = client.get(f"{base}/{notice.id}", headers=other).json
    assert (theirs["state"], theirs["leave_reason"]) == ("read", None)
    assert client.get(f"{base}/999999", headers=other).status_code == 404
