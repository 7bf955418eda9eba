"""scan_signin.sign_in_scans: one transaction for a batch, each scan answered for itself."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from app.services.signin.scans import Scan, sign_in_scans
from models import MeetingSession, SignIn, SignInDenial


def test_a_batch_spanning_two_sessions_repeats_and_refusals(db, factory):
    meeting = factory.meeting("BATCH2", title="两场会议")
    first = meeting.sessions[0]
    meeting.sessions.append(MeetingSession(position=2, title="下午", starts_at=first.starts_at,
                                           ends_at=first.ends_at, signin_opens_at=first.signin_opens_at,
                                           signin_closes_at=first.signin_closes_at))
    db.session.flush()
    unit = factory.unit("BU", "批次单位")
    zhang, li, wang = (factory.contact(unit, name=n) for n in ("张三", "李四", "王五"))
    for c in (zhang, li):
        factory.invitee(meeting, c)
    for c, openid in ((zhang, "o-z"), (li, "o-l"), (wang, "o-w")):
        factory.identity(c, oa_openid=openid)
    now = datetime.now(UTC)

    results = sign_in_scans([
        Scan("BATCH2", 1, "o-z", now),
        Scan("BATCH2", 2, "o-z", now),       # the same person, the other session: a sign-in of its own
        Scan("BATCH2", 1, "o-z", now),       # a repeat in the same batch: the first scan decides
        Scan("BATCH2", 1, "o-l", now),
        Scan("BATCH2", 1, "o-w", now),       # not invited
        Scan("BATCH2", 1, "o-nobody", now),  # not bound
        Scan("NOSUCH", 1, "o-z", now),
    ])
    states = [r.state for r in results]
    assert states == ["signed_in", "signed_in", "already", "signed_in", "refused", "unbound", "no_meeting"]
    assert {results[0].seq, results[3].seq} == {1, 2} and results[1].seq == 1  # numbered per session
    assert results[2].seq == results[0].seq and results[2].name == "张三"
    assert results[4].code == "not_invited" and "参会名单" in results[4].message
    assert results[5].meeting_title == "两场会议"
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 3
    assert db.session.scalars(select(SignInDenial.reason)).all() == ["not_invited"]

    again = sign_in_scans([Scan("BATCH2", 1, "o-l", now)])[0]
    assert (again.state, again.seq) == ("already", results[3].seq)
