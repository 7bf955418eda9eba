"""Sign-in by scanning the meeting's QR code: the official account's hot path, many scans per commit.

A burst at the door is hundreds of scans a second, each a bound attendee. This service signs in the
scans that arrived together (gathered by ``wechat_handlers.scan_lane``) as one round: one query
reads every scanner (contact, unit, invitee status, live sign-in), the same
:func:`~app.services.signin.rules.check_eligible` as every channel decides each one, and the one
write core (:func:`~app.services.signin.write.commit_signins`) inserts, commits and numbers the
round's sign-ins and tells the screens. Each scanner's answer is only returned after that commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select

from app.extensions import db
from app.services.cards.resolve import door_cards
from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.signin import rules as signin_rules
from app.services.signin import write as signin
from app.services.signin.rules import SignInError
from models import Contact, Invitee, SignIn, Unit, WechatIdentity
from models.signins import SignInMethod


@dataclass(frozen=True)
class Scan:
    meeting_code: str
    session_position: int | None
    openid: str
    at: datetime


@dataclass(frozen=True)
class ScanResult:
    """What the reply to one scan needs to say."""

    #: ``signed_in``, ``already``, ``refused`` (see ``message``), ``unbound`` or ``no_meeting``.
    state: str
    meeting_code: str = ""
    meeting_title: str = ""
    name: str = ""
    unit: str = ""
    seq: int | None = None
    signed_at: datetime | None = None
    late: bool = False
    #: The refusal's SignInError code and its Chinese message.
    code: str = ""
    message: str = ""
    #: The service card's headline parts ("座位 3 排 12 号", "午餐 2 楼宴会厅", "下一项 14:30 …").
    card: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Person:
    """The columns of a contact that :func:`signin.check_eligible` reads."""

    id: int
    unit_id: int
    active: bool


@cache
def _scanners(dialect: str) -> sa.Select:
    """Every scanner of a batch: contact, unit, invitee status for the meeting, live sign-in to the session."""
    return (
        select(WechatIdentity.oa_openid, Contact.id, Contact.unit_id, Contact.name, Contact.active,
               Unit.name.label("unit_name"), Invitee.status.label("invitee_status"),
               Invitee.role.label("invitee_role"), Invitee.group_name.label("invitee_group"),
               Invitee.seat.label("invitee_seat"),
               SignIn.seq, SignIn.signed_at, SignIn.late, SignIn.id.label("live_id"))
        .join(Contact, Contact.id == WechatIdentity.contact_id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, sa.and_(Invitee.meeting_id == sa.bindparam("meeting_id"),
                                    Invitee.contact_id == Contact.id))
        .outerjoin(SignIn, sa.and_(SignIn.session_id == sa.bindparam("session_id"), SignIn.contact_id == Contact.id,
                                   SignIn.revoked_at.is_(None)))
        .where(signin.in_list(WechatIdentity.oa_openid, "openids", dialect))
    )


def sign_in_scans(scans: list[Scan], pipe: Any = None) -> list[ScanResult | Exception]:
    """Sign in every eligible scanner of ``scans`` in one round; one result per scan, in order.
    The live events are queued on ``pipe`` when given (sent by its owner)."""
    signin.begin_round()
    results: list[ScanResult | None] = [None] * len(scans)
    pending: list[_Pending] = []
    groups: dict[tuple[str, int | None], list[int]] = {}
    for i, scan in enumerate(scans):
        groups.setdefault((scan.meeting_code, scan.session_position), []).append(i)
    for (code, position), indexes in groups.items():
        _decide(code, position, scans, indexes, results, pending)

    written = signin.commit_signins([p.row for p in pending], pipe=pipe)
    for p in pending:
        done = written.get(p.row.key)
        if done is None:  # another channel signed them in a moment ago: theirs stands
            results[p.index] = _already(p.row.session_id, p.row.contact_id, p.who)
        else:
            results[p.index] = ScanResult("signed_in", seq=done.seq, signed_at=p.row.signed_at, late=p.row.late,
                                          **p.who)

    for i, scan in enumerate(scans):  # repeats of a person in this batch share the first one's answer
        if results[i] is None:
            first = next(r for j, r in enumerate(results) if r is not None and scans[j].openid == scan.openid
                         and (scans[j].meeting_code, scans[j].session_position)
                         == (scan.meeting_code, scan.session_position))
            results[i] = replace(first, state="already") if first.state == "signed_in" else first
    return results  # type: ignore[return-value]


@dataclass(frozen=True)
class _Pending:
    """An eligible scanner, waiting for the batch's INSERT. ``who`` is what the reply says about them,
    taken before the commit: the commit expires every ORM object, and reading one again costs a query."""

    index: int
    row: signin.NewSignIn
    who: dict


def _decide(code: str, position: int | None, scans: list[Scan], indexes: list[int],
            results: list[ScanResult | None], pending: list[_Pending]) -> None:
    """For the scans of one session: answer those that need no INSERT, queue the eligible."""
    try:
        meeting = get_meeting(code, cached=True)
        session = signin_rules.get_session(meeting, position)
    except (MeetingError, SignInError):
        for i in indexes:
            results[i] = ScanResult("no_meeting", meeting_code=code)
        return
    known = {"meeting_code": meeting.code, "meeting_title": meeting.title}
    rows = {row.oa_openid: row for row in db.session.execute(_scanners(_dialect()), {
        "meeting_id": meeting.id, "session_id": session.id, "openids": sorted({scans[i].openid for i in indexes})})}
    seen: set[int] = set()  # contacts already decided in this batch: their first scan decides
    cards = door_cards(meeting) if rows else None  # this process's copy: no query per scanner
    for i in indexes:
        row = rows.get(scans[i].openid)
        if row is None:
            results[i] = ScanResult("unbound", **known)
            continue
        if row.id in seen:
            continue
        seen.add(row.id)
        at = scans[i].at
        card = cards.headline(contact_id=row.id, role=row.invitee_role, group=row.invitee_group,
                              seat=row.invitee_seat, now=at) if row.invitee_status in (None, "approved") else ()
        who = {**known, "name": row.name, "unit": row.unit_name, "card": card}
        if row.live_id is not None:
            results[i] = ScanResult("already", seq=row.seq, signed_at=row.signed_at, late=row.late, **who)
            continue
        try:
            signin_rules.check_eligible(meeting, session, _Person(row.id, row.unit_id, row.active), now=at,
                                        via=signin_rules.Via.SCAN, invitee_status=row.invitee_status)
        except SignInError as exc:
            signin.record_refusal(meeting.id, session.id, row.id, method=SignInMethod.SCAN, error=exc, at=at)
            results[i] = ScanResult("refused", code=exc.code, message=exc.message, **who)
            continue
        pending.append(_Pending(i, signin.NewSignIn.of(meeting, session, row.id, name=row.name, unit_id=row.unit_id,
                                                       unit=row.unit_name, method=SignInMethod.SCAN, now=at,
                                                       role=row.invitee_role), who))


def scan_status(scan: Scan) -> ScanResult:
    """What is stored for ``scan``, writing nothing: ``already`` (their live sign-in), ``unbound``,
    ``no_meeting``, or ``refused`` with code ``not_signed_in`` (no live sign-in). The door answers
    from it when a round could not (``wechat_handlers.scan_lane.settle``)."""
    try:
        meeting = get_meeting(scan.meeting_code, cached=True)
        session = signin_rules.get_session(meeting, scan.session_position)
    except (MeetingError, SignInError):
        return ScanResult("no_meeting", meeting_code=scan.meeting_code)
    known = {"meeting_code": meeting.code, "meeting_title": meeting.title}
    row = db.session.execute(_scanners(_dialect()), {"meeting_id": meeting.id, "session_id": session.id,
                                                     "openids": [scan.openid]}).first()
    if row is None:
        return ScanResult("unbound", **known)
    who = {**known, "name": row.name, "unit": row.unit_name}
    if row.live_id is None:
        return ScanResult("refused", code="not_signed_in", message="尚未签到", **who)
    return ScanResult("already", seq=row.seq, signed_at=row.signed_at, late=row.late, **who)


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _already(session_id: int, contact_id: int, who: dict) -> ScanResult:
    record = signin_rules.live_signin(session_id, contact_id)
    if record is None:  # signed in and revoked within this instant: say nothing false
        return ScanResult("refused", code="retry", message="签到状态刚刚发生变化，请重新扫码", **who)
    return ScanResult("already", seq=record.seq, signed_at=record.signed_at, late=record.late, **who)
