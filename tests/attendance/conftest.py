"""A hand-built set of meetings with known sign-ins, late arrivals, leaves and absences, and the
attendance it must give (worked out by hand below, not by the code under test).

Units: 区发展和改革局 (FGJ: a1, a2, a3, and a4 who has left the directory) and 区财政局 (CZJ: b1, b2).
Meetings of the organizing unit 区委办公室 (BGS), in the past (days before ``ANCHOR``):
- M1 (-10 d): a1 on time, a2 late, a3 on leave, b1 on time, b2 absent; a4 invited but since
  deactivated (not counted).
- M2 (-5 d, two sessions): a1 late to session 2 only, a2 on time to session 1, b1 on leave yet came.
- M3 (-3 d, admission "units" listing CZJ, plus a1 invited): b2 on time, b1 absent, a1's sign-in
  revoked (absent).
Not counted: M4 a draft, M5 not over yet (both invite everyone); M6 (-1 d) of another organizing
unit (ZZB): a1 on time; only a system administrator or the CLI counts it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from models import Contact, Meeting, MeetingSession, MeetingState, Unit, UnitOrganizer
from tests.factories import ANCHOR

#: The clock the set is read at: after every past meeting, before M5 ends.
NOW = ANCHOR


@dataclass
class Fixture:
    org: Unit
    other_org: Unit
    fgj: Unit
    czj: Unit
    people: dict[str, Contact]
    meetings: dict[str, Meeting]
    organizer: Contact  # organizes for BGS
    other_organizer: Contact  # organizes for ZZB
    admin: Contact
    extra: dict = field(default_factory=dict)


def _sign(meeting, session, contact, *, late: bool, staff):
    from app.services.signin.write import sign_in

    at = session.starts_at + (timedelta(minutes=20) if late else timedelta(minutes=-10))
    return sign_in(meeting, session, contact, method="proxy", actor=staff, now=at, check_window=False)


def build(factory, db) -> Fixture:
    from app.services.meetings.leaves import record_leave
    from app.services.signin.write import revoke
    from models import SystemAdmin

    org = factory.unit("BGS", "区委办公室")
    other_org = factory.unit("ZZB", "区委组织部")
    fgj = factory.unit("FGJ", "区发展和改革局")
    czj = factory.unit("CZJ", "区财政局")
    p = {
        "a1": factory.contact(fgj, name="张一", title="局长"),
        "a2": factory.contact(fgj, name="张二", title="副局长"),
        "a3": factory.contact(fgj, name="张三", title="科长"),
        "a4": factory.contact(fgj, name="张四"),
        "b1": factory.contact(czj, name="李一", title="局长"),
        "b2": factory.contact(czj, name="李二"),
    }
    organizer = factory.contact(org, name="主办王")
    other_organizer = factory.contact(other_org, name="组织陈")
    admin = factory.contact(org, name="管理员")
    staff = organizer
    db.session.add_all([UnitOrganizer(unit_id=org.id, contact_id=organizer.id),
                        UnitOrganizer(unit_id=other_org.id, contact_id=other_organizer.id),
                        SystemAdmin(contact_id=admin.id)])
    db.session.flush()

    def meeting(code, days, *, unit=org, **kw):
        m = factory.meeting(code, title=f"会议{code}", starts_at=ANCHOR - timedelta(days=days), hours=2, **kw)
        m.unit_id = unit.id
        db.session.flush()
        return m

    m1 = meeting("MT1", 10)
    for k in ("a1", "a2", "a3", "a4", "b1", "b2"):
        factory.invitee(m1, p[k])
    s1 = m1.sessions[0]
    _sign(m1, s1, p["a1"], late=False, staff=staff)
    _sign(m1, s1, p["a2"], late=True, staff=staff)
    _sign(m1, s1, p["b1"], late=False, staff=staff)
    record_leave(m1, p["a3"], reason="出差", approver="王主任", actor="test")
    p["a4"].active = False

    m2 = meeting("MT2", 5)
    second = MeetingSession(meeting_id=m2.id, position=2, title="下午", starts_at=m2.starts_at + timedelta(hours=1),
                            ends_at=m2.ends_at, signin_opens_at=m2.starts_at, signin_closes_at=m2.ends_at)
    db.session.add(second)
    db.session.flush()
    for k in ("a1", "a2", "b1"):
        factory.invitee(m2, p[k])
    record_leave(m2, p["b1"], reason="病假", approver="李局", actor="test")
    _sign(m2, second, p["a1"], late=True, staff=staff)
    _sign(m2, m2.sessions[0], p["a2"], late=False, staff=staff)
    _sign(m2, m2.sessions[0], p["b1"], late=False, staff=staff)

    m3 = meeting("MT3", 3, admission="units", unit_codes=["CZJ"])
    factory.invitee(m3, p["a1"])
    _sign(m3, m3.sessions[0], p["b2"], late=False, staff=staff)
    _sign(m3, m3.sessions[0], p["a1"], late=False, staff=staff)
    revoke(m3, m3.sessions[0], p["a1"], actor=staff, reason="误签")

    m4 = meeting("MT4", 2, publish=False)
    m5 = factory.meeting("MT5", title="会议M5", starts_at=ANCHOR - timedelta(hours=1), hours=3)
    m5.unit_id = org.id
    for m in (m4, m5):
        for k in ("a1", "a2", "b1", "b2"):
            factory.invitee(m, p[k])
    m6 = meeting("MT6", 1, unit=other_org)
    factory.invitee(m6, p["a1"])
    _sign(m6, m6.sessions[0], p["a1"], late=False, staff=staff)
    db.session.commit()  # a refused request rolls back its own writes; the set must outlive it
    assert m4.state == MeetingState.DRAFT
    return Fixture(org, other_org, fgj, czj, p, {"MT1": m1, "MT2": m2, "MT3": m3, "MT4": m4, "MT5": m5, "MT6": m6},
                   organizer, other_organizer, admin)


@pytest.fixture
def att(factory, db) -> Fixture:
    return build(factory, db)
