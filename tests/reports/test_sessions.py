"""Per session and for the whole meeting: a session's report counts that session's sign-ins only;
the whole meeting's counts a person once (their first sign-in), and file names say which session."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.services.meetings.sessions import add_session
from app.services.reports.export import export
from app.services.signin.write import sign_in
from models import SignInMethod
from tests.reports.helpers import xlsx_sheets

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_each_session_and_the_whole_meeting(db, scene):
    m = scene.meeting
    first = m.sessions[0]
    second = add_session(m, actor="test", title="下午分组讨论", starts_at=first.ends_at + timedelta(hours=1),
                         ends_at=first.ends_at + timedelta(hours=3))
    db.session.commit()
    p = scene.people
    # 孙财三 missed the morning and came in the afternoon; 张发一 came to both.
    sign_in(m, second, p["b3"], method=SignInMethod.SCAN, now=second.starts_at - timedelta(minutes=3))
    sign_in(m, second, p["a1"], method=SignInMethod.SCAN, now=second.starts_at + timedelta(minutes=20))
    db.session.commit()

    afternoon = export(m, "signin_sheet", "xlsx", position=2, actor="test", now=NOW)
    assert afternoon.filename.endswith("-签到表-第2场-2026-11-23.xlsx")
    rows = {r[2]: r for r in xlsx_sheets(afternoon.data)["签到表"]["rows"]}
    assert rows["孙财三"][7] == "扫码" and rows["张发一"][8] == "迟到" and rows["李发二"][6] is None
    assert "第 2 场 · 下午分组讨论" in xlsx_sheets(afternoon.data)["签到表"]["scope"]

    morning = {r[2]: r for r in xlsx_sheets(export(m, "signin_sheet", "xlsx", position=1, actor="test",
                                                     now=NOW).data)["签到表"]["rows"]}
    assert morning["孙财三"][6] is None and morning["张发一"][8] is None

    whole = xlsx_sheets(export(m, "unit_attendance", "xlsx", actor="test", now=NOW).data)["各单位出席情况"]
    # 区财政局: 赵财一, 钱财二 in the morning and 孙财三 in the afternoon attended; 周财四 never.
    assert whole["rows"][1] == ["区财政局", 4, 3, 0, 1, 1, 75.0]
    assert "全部场次" in whole["scope"]
    per_session = xlsx_sheets(export(m, "unit_attendance", "xlsx", position=2, actor="test",
                                     now=NOW).data)["各单位出席情况"]
    assert per_session["rows"][1] == ["区财政局", 4, 1, 0, 3, 0, 25.0]


def test_a_units_meeting_lists_the_listed_units_people(db, factory):
    from app.services.meetings.meetings import invite_contact
    from models import Admission

    a = factory.unit("DWA", "区审计局")
    b = factory.unit("DWB", "区统计局")
    people = [factory.contact(a, name="审一"), factory.contact(b, name="统一"), factory.contact(b, name="统二")]
    gone = factory.contact(b, name="已调离", active=False)
    m = factory.meeting("UNITM", title="全区统计工作会", admission=Admission.UNITS, unit_codes=["DWA", "DWB"])
    invite_contact(m, people[2], actor="test", role="领导", seat="1-1")  # also invited: the invitation's role counts
    db.session.commit()
    sign_in(m, m.sessions[0], people[1], method=SignInMethod.SCAN)
    db.session.commit()
    rows = xlsx_sheets(export(m, "signin_sheet", "xlsx", actor="test", now=NOW).data)["签到表"]["rows"]
    assert [(r[1], r[2], r[4], r[5]) for r in rows] == [("区审计局", "审一", "代表", None),
                                                        ("区统计局", "统二", "领导", "1-1"),
                                                        ("区统计局", "统一", "代表", None)]
    assert rows[2][7] == "扫码" and gone.name not in [r[2] for r in rows]
