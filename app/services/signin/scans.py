"""Sign-in by scanning the meeting's QR code: the official account's hot path, many scans per commit.

A burst at the door is hundreds of scans a second, each a bound attendee. This service signs in the
scans that arrived together (gathered by ``wechat_handlers.scan_lane``) as one unit of work: one query
reads every scanner (contact, unit, invitee status, live sign-in), the same :func:`signin.check_eligible`
as every channel decides each one, one statement inserts the sign-ins and commits them, taking their
order numbers (trigger ``signins_take_seq``), one query reads those, and one Redis round trip tells
the screens. Each scanner's answer is only returned after that commit.

The round's statements run in autocommit: the sign-ins are one INSERT, atomic by itself, so a
transaction around the round would only add its BEGIN and COMMIT round trips. Records of refused
attempts are written before that INSERT, so the sign-ins are the round's last write.

The other channels (H5, mini program, 代签) sign one person in inside their own request's
transaction through :func:`signin.sign_in`; the rules, the insert and the live event are shared.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import cache

import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.services.live import events as live_events
from app.services.meetings.meetings import MeetingError, get_meeting
from app.services.signin import rules as signin_rules
from app.services.signin import write as signin
from app.services.signin.rules import SignInError
from models import Contact, Invitee, SignIn, Unit, WechatIdentity
from models.signins import SignInDenial, SignInMethod


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


@dataclass(frozen=True)
class _Person:
    """The columns of a contact that :func:`signin.check_eligible` reads."""

    id: int
    unit_id: int
    active: bool


def _one_of(column, name: str, dialect: str):
    """``column`` in the list bound as ``name``. On PostgreSQL one array parameter (``= ANY``), so the
    statement's text is the same whatever the batch's size and the server plans it once."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


@cache
def _scanners(dialect: str) -> sa.Select:
    """Every scanner of a batch: contact, unit, invitee status for the meeting, live sign-in to the session."""
    return (
        select(WechatIdentity.oa_openid, Contact.id, Contact.unit_id, Contact.name, Contact.active,
               Unit.name.label("unit_name"), Invitee.status.label("invitee_status"),
               SignIn.seq, SignIn.signed_at, SignIn.late, SignIn.id.label("live_id"))
        .join(Contact, Contact.id == WechatIdentity.contact_id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, sa.and_(Invitee.meeting_id == sa.bindparam("meeting_id"),
                                    Invitee.contact_id == Contact.id))
        .outerjoin(SignIn, sa.and_(SignIn.session_id == sa.bindparam("session_id"), SignIn.contact_id == Contact.id,
                                   SignIn.revoked_at.is_(None)))
        .where(_one_of(WechatIdentity.oa_openid, "openids", dialect))
    )


@cache
def _seqs(dialect: str) -> sa.Select:
    return select(SignIn.id, SignIn.seq).where(_one_of(SignIn.id, "ids", dialect))


def sign_in_scans(scans: list[Scan]) -> list[ScanResult | Exception]:
    """Sign in every eligible scanner of ``scans`` with one INSERT; one result per scan, in order."""
    autocommit = _statements_commit_themselves()
    results: list[ScanResult | None] = [None] * len(scans)
    pending: list[_Pending] = []
    groups: dict[tuple[str, int | None], list[int]] = {}
    for i, scan in enumerate(scans):
        groups.setdefault((scan.meeting_code, scan.session_position), []).append(i)
    for (code, position), indexes in groups.items():
        _decide(code, position, scans, indexes, results, pending)

    db.session.flush()  # refusals (and walk-ins held for approval) first: the sign-ins are the last write
    inserted = {(row.session_id, row.contact_id): row.id for row in signin.insert_many([p.values for p in pending])}
    seqs = _commit_and_read_seqs(list(inserted.values()), autocommit)

    events = []
    for p in pending:
        values = p.values
        record_id = inserted.get((values["session_id"], p.row.id))
        if record_id is None:  # another channel signed them in a moment ago: theirs stands
            results[p.index] = _already(values["session_id"], p.row.id, p.who)
            continue
        seq = seqs.get(record_id)
        results[p.index] = ScanResult("signed_in", seq=seq, signed_at=values["signed_at"], late=values["late"],
                                      **p.who)
        events.append(live_events.signin_event(
            values["meeting_id"], values["session_id"], seq=seq, contact_id=p.row.id, name=p.row.name,
            unit_id=p.row.unit_id, unit=p.row.unit_name, at=values["signed_at"], late=values["late"],
            method=SignInMethod.SCAN))
    live_events.publish_signins(events)

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
    values: dict
    row: sa.Row
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
    for i in indexes:
        row = rows.get(scans[i].openid)
        if row is None:
            results[i] = ScanResult("unbound", **known)
            continue
        if row.id in seen:
            continue
        seen.add(row.id)
        who = {**known, "name": row.name, "unit": row.unit_name}
        if row.live_id is not None:
            results[i] = ScanResult("already", seq=row.seq, signed_at=row.signed_at, late=row.late, **who)
            continue
        at = scans[i].at
        try:
            signin_rules.check_eligible(meeting, session, _Person(row.id, row.unit_id, row.active), now=at,
                                  invitee_status=row.invitee_status)
        except SignInError as exc:
            db.session.add(SignInDenial(meeting_id=meeting.id, session_id=session.id, contact_id=row.id,
                                        method=SignInMethod.SCAN, reason=exc.code, at=at))
            results[i] = ScanResult("refused", code=exc.code, message=exc.message, **who)
            continue
        values = signin.insert_values(meeting, session, row.id, method=SignInMethod.SCAN, now=at)
        pending.append(_Pending(i, values, row, who))


def _statements_commit_themselves() -> bool:
    """Put this round's database session in autocommit (see the module's docstring); False when it
    is already in a transaction, which then commits the sign-ins as before."""
    if isinstance(db.session.get_bind(), sa.Connection) or db.session().in_transaction():
        return False  # joined a caller's transaction (as in tests) or one already begun: theirs to end
    db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return True


def _commit_and_read_seqs(ids: list[int], autocommit: bool) -> dict[int, int]:
    """Commit, and read the order numbers the commit gave these sign-ins."""
    if autocommit:  # the INSERT committed itself: read on the same connection before letting it go
        seqs = _read_seqs(ids, db.session.execute)
        db.session.commit()
        return seqs
    db.session.commit()
    return _read_seqs(ids, signin.read_committed)


def _read_seqs(ids: list[int], execute) -> dict[int, int]:
    return {row.id: row.seq for row in execute(_seqs(_dialect()), {"ids": ids})} if ids else {}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _already(session_id: int, contact_id: int, who: dict) -> ScanResult:
    record = signin_rules.live_signin(session_id, contact_id)
    if record is None:  # signed in and revoked within this instant: say nothing false
        return ScanResult("refused", code="retry", message="签到状态刚刚发生变化，请重新扫码", **who)
    return ScanResult("already", seq=record.seq, signed_at=record.signed_at, late=record.late, **who)
