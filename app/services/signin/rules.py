"""Who may sign in to which session, and when: the one statement of the rule every channel obeys.

Nothing here writes. The write of a sign-in or of a refusal is :mod:`app.services.signin.write`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.services.errors import DomainError
from app.services.timeutil import fmt_hm, local, now_next_or_last
from models import Admission, Contact, Invitee, Meeting, MeetingSession, MeetingState, MeetingUnit, SignIn


class SignInError(DomainError):
    messages = {
        "meeting_not_published": "会议尚未发布，暂不能签到",
        "meeting_closed": "会议已结束",
        "not_open_yet": "签到尚未开始，签到时间为 {opens} 起，请稍后再扫码",
        "signin_closed": "签到已于 {closes} 结束，如需补签请联系会务组",
        "not_invited": "您不在本次会议的参会名单中，如有疑问请联系会务组",
        "pending_approval": "已提交签到申请，请等待会务组审核",
        "approval_rejected": "会务组未通过您的签到申请，如有疑问请联系会务组",
        "contact_inactive": "您已不在通讯录中，如有疑问请联系本单位办公室",
        "session_not_found": "找不到该场次",
        "not_signed_in": "该人员尚未签到",
    }
    statuses = {"session_not_found": 404, "not_signed_in": 409}

    def __init__(self, code: str, message: str | None = None, /, *, walk_in: bool = False, **params) -> None:
        super().__init__(code, message, **params)
        #: A person of an "open with approval" meeting who is not on the list yet: their attempt
        #: files a request for approval (:func:`app.services.signin.write.hold_walk_in`).
        self.walk_in = walk_in
    #: Every refusal of an attempt is stored as a SignInDenial (and a walk-in's pending request).
    recorded = frozenset({"meeting_not_published", "meeting_closed", "not_open_yet", "signin_closed",
                          "not_invited", "pending_approval", "approval_rejected", "contact_inactive"})


_LOOK_UP = object()


def get_session(meeting: Meeting, position: int | None = None) -> MeetingSession:
    """The session by position, or the one whose sign-in window is current, else the next to open,
    else the last."""
    sessions = meeting.sessions
    if not sessions:
        raise SignInError("session_not_found")
    if position is not None:
        for s in sessions:
            if s.position == position:
                return s
        raise SignInError("session_not_found")
    return now_next_or_last(sessions, datetime.now(UTC), opens=lambda s: s.signin_opens_at,
                            closes=lambda s: s.signin_closes_at)


def check_eligible(meeting: Meeting, session: MeetingSession, contact: Contact, *, now: datetime,
                   check_window: bool = True, invitee_status: str | None | object = _LOOK_UP) -> Invitee | None:
    """Whether ``contact`` may sign in to ``session`` now; returns their invitee row if any (None
    when the caller passed ``invitee_status``, already read with the contact: None = not invited).

    :raise SignInError: with the reason code.
    """
    if meeting.state == MeetingState.DRAFT:
        raise SignInError("meeting_not_published")
    if meeting.state in (MeetingState.CLOSED, MeetingState.ARCHIVED):
        raise SignInError("meeting_closed")
    if not contact.active:
        raise SignInError("contact_inactive")
    if check_window:
        if now < session.signin_opens_at:
            raise SignInError("not_open_yet", opens=_when(session.signin_opens_at, now))
        if now > session.signin_closes_at:
            raise SignInError("signin_closed", closes=_when(session.signin_closes_at, now))

    invitee = None
    if invitee_status is _LOOK_UP:
        invitee = db.session.scalar(
            select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id)
        )
        invitee_status = invitee.status if invitee is not None else None
    if invitee_status is not None:
        if invitee_status == "approved":
            return invitee
        raise SignInError("pending_approval" if invitee_status == "pending" else "approval_rejected")
    if meeting.admission == Admission.UNITS:
        listed = db.session.scalar(
            select(MeetingUnit.unit_id).where(MeetingUnit.meeting_id == meeting.id,
                                              MeetingUnit.unit_id == contact.unit_id)
        )
        if listed is not None:
            return None
    if meeting.admission == Admission.APPROVAL:
        # A walk-in: the writer holds them for an organizer's approval (signin.write.hold_walk_in).
        raise SignInError("pending_approval", walk_in=True)
    raise SignInError("not_invited")


def _when(at: datetime, now: datetime) -> str:
    same_day = local(at).date() == local(now).date()
    return fmt_hm(at) if same_day else local(at).strftime("%m月%d日 %H:%M")


def live_signin(session_id: int, contact_id: int) -> SignIn | None:
    return db.session.scalar(
        select(SignIn).where(SignIn.session_id == session_id, SignIn.contact_id == contact_id,
                             SignIn.revoked_at.is_(None))
    )


