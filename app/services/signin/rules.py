"""Who may sign in to which session, and when: the one statement of the rule every channel obeys.

Nothing here writes. The write of a sign-in or of a refusal is :mod:`app.services.signin.write`.

How an attempt arrives matters to the meeting's presence policy (``Meeting.presence``): a scan of
a code shown in the room, a link (the meeting page, a reminder, the mini program's button), or
staff at the desk (代签, manual entry). :func:`via_of` names it from the channel; staff are never
held to the policy, and hear refusals about the person rather than addressed to them.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.services.errors import DomainError
from app.services.timeutil import fmt_hm, local, now_next_or_last
from models import (
    Admission,
    Contact,
    Invitee,
    Meeting,
    MeetingSession,
    MeetingState,
    MeetingUnit,
    Presence,
    SignIn,
    SignInMethod,
)


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
        "scan_required": "本次会议须在会场扫码签到，请扫描大屏或海报上的二维码",
        "session_not_found": "找不到该场次",
        "not_signed_in": "该人员尚未签到",
    }
    #: The same refusals told to the staff member signing someone else in (代签, manual entry):
    #: "您…" would be addressed to the wrong person.
    staff_messages = {
        "not_invited": "该人员不在本次会议的参会名单中，不能代签",
        "pending_approval": "该人员的签到申请尚待审核，请先在「现场处理」中通过",
        "approval_rejected": "该人员的签到申请已被拒绝，不能代签",
        "contact_inactive": "该人员已不在通讯录中（已停用），不能代签",
    }
    #: Short staff-facing names of the refusal codes, for lists (the meeting's log page).
    labels = {
        "meeting_not_published": "会议未发布",
        "meeting_closed": "会议已结束",
        "not_open_yet": "签到未开始",
        "signin_closed": "签到已截止",
        "not_invited": "不在参会名单",
        "pending_approval": "待会务组审核",
        "approval_rejected": "申请已被拒绝",
        "contact_inactive": "已不在通讯录（停用）",
        "scan_required": "须在会场扫码",
    }
    statuses = {"session_not_found": 404, "not_signed_in": 409}

    def __init__(self, code: str, message: str | None = None, /, *, walk_in: bool = False, **params) -> None:
        super().__init__(code, message, **params)
        #: A person of an "open with approval" meeting who is not on the list yet: their attempt
        #: files a request for approval (:func:`app.services.signin.write.hold_walk_in`).
        self.walk_in = walk_in
    #: Every refusal of an attempt is stored as a SignInDenial (and a walk-in's pending request).
    recorded = frozenset({"meeting_not_published", "meeting_closed", "not_open_yet", "signin_closed",
                          "not_invited", "pending_approval", "approval_rejected", "contact_inactive",
                          "scan_required"})

    @classmethod
    def label(cls, code: str) -> str:
        """The staff-facing name of a refusal code; an unknown code is shown as it is."""
        return cls.labels.get(code, code)


class Via(enum.StrEnum):
    """How an attempt shows the person is in the room (what ``Meeting.presence`` judges)."""

    SCAN = "scan"  # a code shown in the room: the official-account QR, the mini-program code, the screen
    LINK = "link"  # the meeting page, a reminder link, the mini program's button
    STAFF = "staff"  # 代签 or manual entry by staff at the desk: never held to the policy


def via_of(method: str, *, scanned: bool = False) -> Via:
    """The way in of a sign-in by ``method``. ``scanned``: an H5 or mini-program attempt that
    came from scanning a code shown in the room (the channel proved it; see its caller)."""
    if method in (SignInMethod.PROXY, SignInMethod.MANUAL):
        return Via.STAFF
    if method == SignInMethod.SCAN or scanned:
        return Via.SCAN
    return Via.LINK


def is_late(meeting: Meeting, session: MeetingSession, at: datetime) -> bool:
    """Whether a sign-in at ``at`` is late: after the session's start plus the meeting's grace
    (``late_after_minutes``). Every channel's sign-in takes its ``late`` flag from here."""
    return at > session.starts_at + timedelta(minutes=meeting.late_after_minutes or 0)


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
                   check_window: bool = True, via: str = Via.LINK,
                   invitee_status: str | None | object = _LOOK_UP) -> Invitee | None:
    """Whether ``contact`` may sign in to ``session`` now, arriving ``via`` a scan, a link or
    staff; returns their invitee row if any (None when the caller passed ``invitee_status``,
    already read with the contact: None = not invited).

    :raise SignInError: with the reason code (the staff-facing message when ``via`` is staff).
    """
    staff = via == Via.STAFF

    def refuse(code: str, **params) -> SignInError:
        return SignInError(code, SignInError.staff_messages.get(code) if staff else None, **params)

    if meeting.state == MeetingState.DRAFT:
        raise SignInError("meeting_not_published")
    if meeting.state in (MeetingState.CLOSED, MeetingState.ARCHIVED):
        raise SignInError("meeting_closed")
    if not contact.active:
        raise refuse("contact_inactive")
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
            _require_presence(meeting, via)
            return invitee
        raise refuse("pending_approval" if invitee_status == "pending" else "approval_rejected")
    if meeting.admission == Admission.UNITS:
        listed = db.session.scalar(
            select(MeetingUnit.unit_id).where(MeetingUnit.meeting_id == meeting.id,
                                              MeetingUnit.unit_id == contact.unit_id)
        )
        if listed is not None:
            _require_presence(meeting, via)
            return None
    if meeting.admission == Admission.APPROVAL and not staff:
        # A walk-in: the writer holds them for an organizer's approval (signin.write.hold_walk_in).
        # Only from the room when the meeting asks for a scan: a link files no request.
        _require_presence(meeting, via)
        raise SignInError("pending_approval", walk_in=True)
    raise refuse("not_invited")


def _require_presence(meeting: Meeting, via: str) -> None:
    """The presence policy: "scan" admits only a scan of a code shown in the room; "scan_or_link"
    and "link_in_window" admit links too (both within the session's window, which every attempt
    but staff's keeps). Staff are never held to it."""
    if meeting.presence == Presence.SCAN and via == Via.LINK:
        raise SignInError("scan_required")


def _when(at: datetime, now: datetime) -> str:
    same_day = local(at).date() == local(now).date()
    return fmt_hm(at) if same_day else local(at).strftime("%m月%d日 %H:%M")


def live_signin(session_id: int, contact_id: int) -> SignIn | None:
    return db.session.scalar(
        select(SignIn).where(SignIn.session_id == session_id, SignIn.contact_id == contact_id,
                             SignIn.revoked_at.is_(None))
    )


