"""会议通知 in the mini program: my notices of a meeting, one in full (read), and my answer (参加 or
请假). The same service as the notice's link (/n/<token>); here the caller's bound identity is the key."""

from __future__ import annotations

from app.services.meetings.visibility import participating_meeting
from app.services.notify import notices as svc
from miniprogram_api import schemas_notices as s
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api


def _out(recipient, meeting) -> s.NoticeOut:
    notice, state = recipient.notice, svc.state_of(recipient)
    return s.NoticeOut(id=notice.id, kind=notice.kind, title=notice.title, body=notice.body, sent_at=notice.sent_at,
                       ask_reply=notice.ask_reply, state=state, state_text=svc.STATES[state],
                       leave_reason=recipient.leave_reason, decision_note=recipient.decision_note,
                       can_answer=svc.can_answer(recipient, meeting))


@api(bp, "/meetings/<code>/notices", authenticate=current_identity, tags=["会议通知"],
     summary="我收到的本会议通知（新的在前）", responses={200: s.NoticeList, 403: ErrorBody, 404: ErrorBody})
def my_notices(code: str, me):
    contact = bound_contact(me)
    meeting = participating_meeting(code, contact)
    return s.NoticeList(items=[_out(r, meeting) for r in svc.mine(meeting, contact)])


@api(bp, "/meetings/<code>/notices/<int:notice_id>", authenticate=current_identity, tags=["会议通知"],
     summary="一条通知的全文（打开即记为已读）", responses={200: s.NoticeOut, 403: ErrorBody, 404: ErrorBody})
def my_notice(code: str, notice_id: int, me):
    """不是发给本人的通知返回 404 notice_not_found。"""
    contact = bound_contact(me)
    meeting = participating_meeting(code, contact)
    recipient = svc.recipient_for(meeting, contact, notice_id)
    svc.mark_read(recipient)
    return _out(recipient, meeting)


@api(bp, "/meetings/<code>/notices/<int:notice_id>/answer", "POST", body=s.NoticeAnswer,
     authenticate=current_identity, tags=["会议通知"], summary="回执：参加，或请假（填写事由，待会务组批准）",
     responses={200: s.NoticeOut, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody})
def answer_notice(code: str, notice_id: int, me, body: s.NoticeAnswer):
    """请假未填事由返回 400 leave_reason_missing；请假已批准或未批准后再改返回 409 leave_decided；
    会议结束后返回 400 meeting_over；通知无需回执返回 400 reply_not_asked。"""
    contact = bound_contact(me)
    meeting = participating_meeting(code, contact)
    recipient = svc.recipient_for(meeting, contact, notice_id)
    if body.answer == "attend":
        svc.attend(recipient, meeting, channel="mp")
    else:
        svc.ask_leave(recipient, meeting, reason=body.reason, channel="mp")
    return _out(recipient, meeting)
