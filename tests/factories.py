"""Small builders for test data, going through the services where a rule matters.

The clock rule: no test may depend on the hour it runs. The app reads the real clock (a scan is
checked against its sign-in window at ``datetime.now``), so a default meeting is built around
``clock()``: open for sign-in now, starting soon, and always within one China-time day, even at
23:30 (see ``meeting_times``). A test that cares about a date or a time of day builds its meeting
at explicit times (``ANCHOR`` is a fixed mid-day China time) and passes ``now=`` to the services
that take one. Check by running the suite with ``HUIYI_TEST_CLOCK`` (tests/conftest.py) at 21:00,
23:30 and 00:10 China time.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from app.services.timeutil import LOCAL_TZ
from models import Contact, Invitee, Meeting, Unit, WechatIdentity

_seq = itertools.count(1)

#: A fixed mid-day China time, far from any midnight, for tests about dates and times of day.
ANCHOR = datetime(2026, 11, 23, 12, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
#: A default meeting starts this long after now, and its sign-in opened this long before now.
STARTS_IN = timedelta(minutes=30)
SIGNIN_OPENED = timedelta(minutes=90)


def clock() -> datetime:
    """The one clock test data is built from: the real one, because the app under test reads it."""
    return datetime.now(UTC)


def meeting_times(hours: float = 3, *, now: datetime | None = None) -> tuple[datetime, datetime, datetime]:
    """(starts_at, ends_at, signin_opens_at) of a meeting of ``hours`` that is open for sign-in at
    ``now``, has not started, and starts and ends on the same China-time day.

    It starts ``STARTS_IN`` after now unless that would run past midnight (now between 20:30 and
    23:30 for three hours); then it starts at the coming midnight. Sign-in opened ``SIGNIN_OPENED``
    before now either way (the app's default lead, two hours before a start ``STARTS_IN`` away).
    """
    now = now or clock()
    starts = now + STARTS_IN
    length = timedelta(hours=hours)
    if length < timedelta(hours=23) and _local_date(starts) != _local_date(starts + length):
        starts = datetime.combine(_local_date(starts + length), time(0), LOCAL_TZ).astimezone(UTC)
    return starts, starts + length, now - SIGNIN_OPENED


def _local_date(at: datetime):
    return at.astimezone(LOCAL_TZ).date()


class Factory:
    def __init__(self, db):
        self.db = db

    def unit(self, code: str | None = None, name: str | None = None, **kw) -> Unit:
        from app.services.contacts.units import add_unit

        n = next(_seq)
        return add_unit(code or f"U{n:04d}", name or f"测试单位{n}", actor="test", **kw)

    def contact(self, unit: Unit | None = None, *, name: str | None = None, phone: str | None = None,
                **kw) -> Contact:
        n = next(_seq)
        contact = Contact(unit=unit or self.unit(), name=name or f"测试{n}", phone=phone or f"138{n:08d}", **kw)
        self.db.session.add(contact)
        self.db.session.flush()
        return contact

    def meeting(self, code: str | None = None, *, title: str = "测试会议", starts_at: datetime | None = None,
                hours: float = 3, **kw) -> Meeting:
        from app.services.meetings.meetings import create_meeting

        if starts_at is None:
            starts_at, ends_at, opens_at = meeting_times(hours)
            kw.setdefault("signin_opens_at", opens_at)
        else:
            ends_at = starts_at + timedelta(hours=hours)
        kw.setdefault("publish", True)
        return create_meeting(code or f"M{next(_seq):05d}", title, actor="test", starts_at=starts_at,
                              ends_at=ends_at, **kw)

    def invitee(self, meeting: Meeting, contact: Contact | None = None, **kw) -> Invitee:
        from app.services.meetings.meetings import invite_contact

        return invite_contact(meeting, contact or self.contact(), actor="test", **kw)[0]

    def identity(self, contact: Contact | None = None, *, oa_openid: str | None = None, **kw) -> WechatIdentity:
        identity = WechatIdentity(oa_openid=oa_openid or f"o_test_{next(_seq)}", contact=contact,
                                  bound_at=datetime.now(UTC) if contact else None, **kw)
        self.db.session.add(identity)
        self.db.session.flush()
        return identity
