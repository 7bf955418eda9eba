"""Which meeting is an organizer's current one (the official account's 人数/未到/催签 answer about it):
the meetings service's rule, the same "now, else next, else last" that picks a meeting's session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.meetings.meetings import current_meeting_for, now_next_or_last
from app.services.meetings.organizers import add_organizer

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_now_else_next_else_last():
    windows = [(1, 2), (4, 5), (7, 8)]

    def pick(now):
        return now_next_or_last(windows, now, opens=lambda w: w[0], closes=lambda w: w[1])

    assert pick(1) == pick(2) == (1, 2)  # both ends of a window are inside it
    assert pick(0) == (1, 2) and pick(3) == (4, 5) and pick(6) == (7, 8)  # the next to open
    assert pick(9) == (7, 8)  # all over: the last
    assert now_next_or_last([], 1, opens=lambda w: w[0], closes=lambda w: w[1]) is None


def test_an_organizers_current_meeting(db, factory):
    unit = factory.unit()
    organizer = factory.contact(unit, name="会务李")
    h = timedelta(hours=1)

    def organized(code, starts_at, hours, **kw):
        meeting = factory.meeting(code, starts_at=starts_at, hours=hours, **kw)
        add_organizer(code, organizer.phone, actor="test", right="staff")
        return meeting

    organized("CUR_OLD", T0 - 10 * h, 3)  # ended 7 hours before T0: no longer current
    ended = organized("CUR_ENDED", T0 - 4 * h, 3)  # ended an hour before T0
    running = organized("CUR_NOW", T0 - h, 3)
    upcoming = organized("CUR_NEXT", T0 + 3 * h, 3)
    organized("CUR_DRAFT", T0 - h, 3, publish=False)  # drafts are never anyone's current meeting
    factory.meeting("CUR_OTHERS", starts_at=T0 - h, hours=3)  # happening now, organized by someone else

    assert current_meeting_for(organizer, T0) == running
    assert current_meeting_for(organizer, T0 + 2.5 * h) == upcoming  # running ended half an hour ago
    assert current_meeting_for(organizer, T0 + 10 * h) == upcoming  # the one that ended last (4 h ago)
    assert current_meeting_for(organizer, T0 + 13 * h) is None  # everything ended over 6 hours ago
    assert current_meeting_for(organizer, T0 - 3.5 * h) == ended
    assert current_meeting_for(factory.contact(unit), T0) is None
