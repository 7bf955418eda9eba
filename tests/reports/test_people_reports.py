"""Per-unit attendance, absent and late lists with contacts, leave with approvers, binding readiness:
each read back from xlsx (openpyxl) and PDF (pdfium's text) and equal to the database, row by row."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from app.services.reports.export import build, export
from app.services.timeutil import local
from models import Leave, SignIn
from tests.reports.helpers import assert_pdf_rows, xlsx_sheets

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _both(scene, kind):
    x = export(scene.meeting, kind, "xlsx", actor="test", now=NOW)
    p = export(scene.meeting, kind, "pdf", actor="test", now=NOW)
    return xlsx_sheets(x.data), p.data


def test_unit_attendance(db, scene):
    sheets, pdf = _both(scene, "unit_attendance")
    sheet = sheets["各单位出席情况"]
    assert sheet["headers"] == ["单位", "应到", "实到", "请假", "缺席", "迟到", "签到率(%)"]
    want = [
        ["区发展和改革局", 2, 2, 1, 0, 0, 100.0],
        ["区财政局", 4, 2, 0, 2, 1, 50.0],
        ["临时人员", 1, 1, 0, 0, 1, 100.0],  # the guest, signed in at the desk (late: after the start)
        ["合计", 7, 5, 1, 2, 2, 71.4],
    ]
    assert sheet["rows"] == want
    assert_pdf_rows(pdf, want)
    # The chart carries the same numbers as the table.
    chart = build(scene.meeting, "unit_attendance").sections[0].chart
    assert chart.labels == ["区发展和改革局", "区财政局", "临时人员"] and chart.series[0][1] == [100.0, 50.0, 100.0]


def test_absent_list_with_contacts(db, scene):
    sheets, pdf = _both(scene, "absent")
    p = scene.people
    want = [[1, "区财政局", "孙财三", "科员", "代表", p["b3"].phone],
            [2, "区财政局", "周财四", "+办公室主任", "工作人员", p["b4"].phone]]
    assert sheets["缺席人员名单"]["rows"] == want
    assert sheets["缺席人员名单"]["facts"] == "缺席：2"
    assert_pdf_rows(pdf, want)


def test_late_list_with_minutes_and_contacts(db, scene):
    sheets, pdf = _both(scene, "late")
    session = scene.meeting.sessions[0]
    got = sheets["迟到人员名单"]["rows"]
    want = []
    for contact, unit, method in ((scene.people["b1"], "区财政局", "H5网页"),
                                  (scene.guest, "临时人员", "现场添加（会务李）")):
        at = db.session.scalar(select(SignIn.signed_at).where(SignIn.contact_id == contact.id))
        want.append([len(want) + 1, unit, contact.name, contact.title, contact.phone, 1,
                     local(at).replace(tzinfo=None, microsecond=0),
                     int((at - session.starts_at).total_seconds() // 60), method])
    assert got == want
    assert got[0][7] == 8  # 赵财一 signed in 8 minutes after the start (5 minutes' grace)
    assert_pdf_rows(pdf, want)


def test_leave_list_with_reason_approver_and_recorder(db, scene):
    sheets, pdf = _both(scene, "leave")
    a3 = scene.people["a3"]
    leave = db.session.scalar(select(Leave).where(Leave.contact_id == a3.id))
    want = [[1, "区发展和改革局", "王发三", "=SUM(A1:A9)", a3.phone, "赴市里参加培训", "王主任", "会务李",
             local(leave.created_at).replace(tzinfo=None, microsecond=0)]]
    assert sheets["请假人员名单"]["rows"] == want
    assert_pdf_rows(pdf, want)


def test_binding_readiness_per_unit_and_who_is_missing(db, scene):
    sheets, pdf = _both(scene, "binding")
    units = sheets["各单位微信绑定情况"]
    # Bound: 张发一 and 赵财一 (and nobody else of the list).
    assert units["rows"] == [["区发展和改革局", 3, 1, 2, 33.3], ["区财政局", 4, 1, 3, 25.0],
                             ["临时人员", 1, 0, 1, 0.0]]
    p = scene.people
    missing = sheets["未绑定微信人员"]["rows"]
    assert [r[2] for r in missing] == ["李发二", "王发三", "钱财二", "孙财三", "周财四", "刘来宾"]
    assert missing[1] == [2, "区发展和改革局", "王发三", "=SUM(A1:A9)", p["a3"].phone, "请假"]
    assert_pdf_rows(pdf, units["rows"])
    assert_pdf_rows(pdf, missing)
