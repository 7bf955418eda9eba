"""Check-in for someone not yet bound: bind the WeChat identity, then sign in, in one step.

The H5 binding page and the mini-program API both call this. The rules stay where they are:
matching and take-over refusal in ``identity``, eligibility and order numbers in ``signin``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.services.identity import binding as identity_service
from app.services.signin import rules as signin_rules
from app.services.signin import write as signin
from app.services.signin.rules import SignInError
from app.services.signin.write import SignInOutcome
from models import Contact, Meeting, MeetingSession, SignIn, WechatIdentity


def bind_and_sign_in(identity: WechatIdentity, meeting: Meeting, session: MeetingSession, *, unit_text: str,
                     name: str, phone: str, ip: str | None, method: str, now: datetime | None = None,
                     scanned: bool = False) -> SignInOutcome:
    """Bind ``identity`` to the matching contact and sign them in to ``session``. ``scanned``: the
    attempt came from scanning a code in the room (:func:`signin.sign_in`).

    :raise IdentityError: from :func:`identity.bind`; :raise SignInError: from :func:`signin.sign_in`.
    A recorded refusal of the sign-in keeps the (valid) binding: the boundary commits both.
    """
    contact = identity_service.bind(identity, unit_text=unit_text, name=name, phone=phone, ip=ip, now=now,
                                    meeting_id=meeting.id)
    return signin.sign_in(meeting, session, contact, method=method, now=now, scanned=scanned)


@dataclass(frozen=True)
class SignInStatus:
    """What the meeting page says about one person and one session."""

    #: ``signed_in``, ``can_sign_in``, or a SignInError code (``not_invited``, ``not_open_yet``,
    #: ``scan_required``…).
    state: str
    record: SignIn | None = None
    message: str = ""


def status_for(meeting: Meeting, session: MeetingSession, contact: Contact, *, now: datetime,
               scanned: bool = False) -> SignInStatus:
    """Whether ``contact`` has signed in, could sign in now, or why not, without writing anything.
    ``scanned``: the page was reached by scanning a code in the room; else it is a link, which a
    meeting that asks for a scan refuses (``scan_required``)."""
    record = signin_rules.live_signin(session.id, contact.id)
    if record is not None:
        return SignInStatus("signed_in", record=record)
    try:
        signin_rules.check_eligible(meeting, session, contact, now=now,
                                    via=signin_rules.Via.SCAN if scanned else signin_rules.Via.LINK)
    except SignInError as exc:
        if exc.walk_in:
            return SignInStatus("can_sign_in")  # a walk-in may ask; signing in files the request
        return SignInStatus(exc.code, message=exc.message)
    return SignInStatus("can_sign_in")
