"""Domain objects to response models: what the mini program is shown, and nothing more."""

from __future__ import annotations

from datetime import UTC, datetime

from app.services.cards.resolve import card_headline
from app.services.live.headcount import Headcount
from app.services.meetings import history
from app.services.signin.checkin import status_for
from miniprogram_api import present_attendee, schemas
from models import Contact, Meeting, MeetingSession, SignIn


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def me(contact: Contact | None) -> schemas.Me:
    if contact is None:
        return schemas.Me(bound=False)
    return schemas.Me(bound=True, contact=schemas.ContactOut(name=contact.name, unit=contact.unit.name,
                                                             phone_masked=mask_phone(contact.phone or "")))


def summary(meeting: Meeting) -> schemas.MeetingSummary:
    return schemas.MeetingSummary(code=meeting.code, title=meeting.title, venue=meeting.venue,
                                  starts_at=meeting.starts_at, ends_at=meeting.ends_at, state=meeting.state)


def my_signin(record: SignIn | None) -> schemas.MySignIn | None:
    if record is None:
        return None
    return schemas.MySignIn(seq=record.seq, signed_at=record.signed_at, late=record.late, method=record.method)


def session_out(meeting: Meeting, session: MeetingSession, contact: Contact | None,
                now: datetime, *, scanned: bool = False) -> schemas.SessionOut:
    state, message, record = "not_bound", "请先绑定身份后签到", None
    if contact is not None:
        status = status_for(meeting, session, contact, now=now, scanned=scanned)
        state, message, record = status.state, status.message, status.record
    return schemas.SessionOut(position=session.position, title=session.title, starts_at=session.starts_at,
                              ends_at=session.ends_at, signin_opens_at=session.signin_opens_at,
                              signin_closes_at=session.signin_closes_at, my_state=state, my_message=message,
                              my_signin=my_signin(record))


def detail(meeting: Meeting, contact: Contact | None, *, scanned: bool = False) -> schemas.MeetingDetail:
    """``scanned``: shown after a scan of the meeting's code (the sign-in it offers is a scan's)."""
    now = datetime.now(UTC)
    agenda = [schemas.AgendaItem.model_validate(item) for item in meeting.agenda or [] if isinstance(item, dict)]
    return schemas.MeetingDetail(
        **summary(meeting).model_dump(), intro=meeting.intro or "", agenda=agenda,
        sessions=[session_out(meeting, s, contact, now, scanned=scanned) for s in meeting.sessions],
        my_status=history.my_status(meeting, contact) if contact is not None else "not_bound",
    )


def signin_result(meeting: Meeting, session: MeetingSession, contact: Contact, record: SignIn, *,
                  first: bool) -> schemas.SignInResult:
    if first:
        late = "（迟到）" if record.late else ""
        message = f"签到成功！您是第 {record.seq} 位签到{late}"
    else:
        message = f"您已签到，无需重复签到（第 {record.seq} 位）"
    return schemas.SignInResult(
        status="signed_in" if first else "already_signed_in", meeting_code=meeting.code,
        session_position=session.position, seq=record.seq, signed_at=record.signed_at, late=record.late,
        name=contact.name, unit=contact.unit.name, message=message,
        card_headline=list(card_headline(meeting, contact.id, now=datetime.now(UTC))))


def live(meeting: Meeting, session: MeetingSession, numbers: Headcount) -> schemas.LiveNumbers:
    data = numbers.to_dict(with_missing=True)
    return schemas.LiveNumbers(
        meeting_code=meeting.code, session_position=session.position, expected=data["expected"],
        arrived=data["arrived"], rate=data["rate"], late=data["late"], missing=data["missing"],
        units=[schemas.UnitNumbers(name=u["name"], expected=u["expected"], arrived=u["arrived"],
                                   missing=[_name(m) for m in u["missing"]]) for u in data["units"]],
        groups=[schemas.GroupNumbers(**g) for g in data["groups"]])


def _name(person) -> str:
    # headcount lists the missing as {"id", "name"}; the mini program shows names only.
    return person["name"] if isinstance(person, dict) else str(person)


def history_page(page: history.HistoryPage) -> schemas.HistoryPage:
    return schemas.HistoryPage(
        items=[schemas.HistoryEntry(meeting=summary(i.meeting), my_status=i.status, signed_at=i.signed_at,
                                    sessions_signed=i.sessions_signed,
                                    materials=[present_attendee.document(i.meeting, d) for d in i.materials])
               for i in page.items],
        page=page.page, per_page=page.per_page, total=page.total)
