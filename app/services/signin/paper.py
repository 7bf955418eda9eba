"""The paper fallback: the ticks of a printed 签到表 keyed back in after the meeting's door had no network.

The sheet is the 签到表 report (app/services/reports/people.py: 序号, unit, name, and a 签名 column
on paper to tick or sign); this lists the same people in the same order with the same 序号, so staff
key the ticks in row by row. Each tick is a sign-in by staff (``manual``, the staff member as actor)
at the time staff give (the sheet's time, say the session's start), through the one write core: a
person already signed in keeps their sign-in (a real scan's time beats a paper estimate).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.reports.people import listed_people
from app.services.signin import write
from app.services.signin.rules import SignInError, Via, check_eligible, is_late
from app.services.timeutil import parse_local
from models import Contact, Meeting, MeetingSession, SignInMethod


class PaperError(DomainError):
    messages = {"nothing_ticked": "请勾选签到表上已签到的人员", "time_invalid": "请填写正确的签到时间"}


@dataclass(frozen=True)
class SheetRow:
    number: int
    id: int
    name: str
    unit: str
    title: str
    on_leave: bool
    #: Their sign-in to the session, if any (then there is nothing to key in).
    signed_at: datetime | None
    method: str


def sheet_rows(meeting: Meeting, session: MeetingSession) -> list[SheetRow]:
    """The 签到表's people in its order and numbering, with their sign-in to ``session``."""
    data = listed_people(meeting, [s.id for s in meeting.sessions])
    rows = []
    for i, p in enumerate(data.people, start=1):
        mark = data.marks.get(p.id, {}).get(session.id)
        rows.append(SheetRow(i, p.id, p.name, p.unit_label or p.unit, p.title or "", p.on_leave,
                             mark.at if mark else None, data.method_label(p, mark) if mark else ""))
    return rows


@dataclass
class PaperResult:
    signed: int = 0
    already: int = 0
    #: (name, why) of the ticks the rules refused.
    refused: list[tuple[str, str]] = field(default_factory=list)


def parse_time(text: str) -> datetime:
    """The time staff typed (China time). :raise PaperError: ``time_invalid``."""
    at = parse_local((text or "").strip().replace("T", " "))
    if at is None:
        raise PaperError("time_invalid")
    return at


def key_in(meeting: Meeting, session: MeetingSession, contact_ids: list[int], *, at: datetime,
           actor: Contact) -> PaperResult:
    """Sign in the ticked people at ``at`` (commits). :raise PaperError: ``nothing_ticked``."""
    wanted = {int(c) for c in contact_ids}
    if not wanted:
        raise PaperError("nothing_ticked")
    rows = {r.id: r for r in sheet_rows(meeting, session)}
    result, new = PaperResult(), []
    for contact_id in sorted(wanted):
        row = rows.get(contact_id)
        contact = db.session.get(Contact, contact_id) if row is not None else None
        if contact is None:
            continue  # not on this sheet: a stale or tampered form names no one to sign in
        if row.signed_at is not None:
            result.already += 1
            continue
        try:
            invitee = check_eligible(meeting, session, contact, now=at, check_window=False, via=Via.STAFF)
        except SignInError as exc:
            result.refused.append((contact.name, exc.message))
            continue
        new.append(write.NewSignIn(meeting.id, session.id, contact.id, str(SignInMethod.MANUAL), at,
                                   is_late(meeting, session, at), contact.name, contact.unit_id, contact.unit.name,
                                   actor_id=actor.id, role=invitee.role if invitee is not None else None))
    audit.record(f"contact:{actor.id}", "door.paper_entry", meeting_id=meeting.id, session_id=session.id,
                 ticked=len(wanted), at=at.isoformat())
    result.signed = len(write.commit_signins(new))
    result.already += len(new) - result.signed
    return result
