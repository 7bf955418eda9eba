"""Sessions (positions are printed in QR scenes: never renumbered, never reused) and the agenda
(validation, and reading it from JSON, CSV or xlsx)."""

from __future__ import annotations

import io
import json
from datetime import time, timedelta

import pytest
from sqlalchemy import select

from app.services.errors import DomainError
from app.services.meetings import lifecycle
from app.services.meetings import sessions as svc
from app.services.signin.write import sign_in
from models import AuditLog, Meeting, MeetingState, Vote
from tests.factories import ANCHOR


def _refused(code: str, fn, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


@pytest.fixture
def meeting(factory, console) -> Meeting:
    m = factory.meeting("SESS1", title="区人代会", starts_at=ANCHOR, hours=3, publish=False)
    m.unit_id = console.unit.id
    factory.db.session.flush()
    return m


def test_add_session_defaults_and_widens_the_meeting(meeting, db):
    s = svc.add_session(meeting, actor="t", starts_at=ANCHOR + timedelta(hours=4),
                        ends_at=ANCHOR + timedelta(hours=6))
    assert (s.position, s.title) == (2, "第 2 场")
    assert s.signin_opens_at == s.starts_at - svc.DEFAULT_SIGNIN_LEAD and s.signin_closes_at == s.ends_at
    assert meeting.ends_at == ANCHOR + timedelta(hours=6) and meeting.starts_at == ANCHOR
    assert [a.action for a in db.session.scalars(select(AuditLog).where(AuditLog.meeting_id == meeting.id)
                                                 .order_by(AuditLog.id))][-2:] == ["session.add", "meeting.update"]
    early = svc.add_session(meeting, actor="t", title="预备会", starts_at=ANCHOR - timedelta(days=1),
                            ends_at=ANCHOR - timedelta(days=1) + timedelta(hours=1),
                            signin_opens_at=ANCHOR - timedelta(days=1, minutes=30),
                            signin_closes_at=ANCHOR - timedelta(days=1) + timedelta(hours=1))
    assert early.position == 3 and meeting.starts_at == early.starts_at
    assert [s.position for s in meeting.sessions] == [1, 2, 3]


def test_widening_a_published_meeting_is_a_recorded_change(meeting, db):
    lifecycle.publish(meeting, actor="t")
    svc.add_session(meeting, actor="t", starts_at=ANCHOR + timedelta(hours=4), ends_at=ANCHOR + timedelta(hours=6))
    changed = db.session.scalars(select(AuditLog).where(AuditLog.action == "meeting.changed",
                                                        AuditLog.meeting_id == meeting.id)).all()
    assert len(changed) == 1 and set(changed[0].data["after"]) == {"ends_at"}


@pytest.mark.parametrize(("kw", "code"), [
    ({"starts_at": None}, "session_time_missing"),
    ({"ends_at": None}, "session_time_missing"),
    ({"ends_at": ANCHOR}, "session_time_order"),
    ({"signin_opens_at": ANCHOR, "signin_closes_at": ANCHOR - timedelta(minutes=1)}, "signin_window_invalid"),
    ({"signin_opens_at": ANCHOR + timedelta(hours=2), "signin_closes_at": ANCHOR + timedelta(hours=3)},
     "signin_opens_too_late"),
    ({"title": "场" * 201}, "session_title_too_long"),
])
def test_add_session_refusals(meeting, db, kw, code):
    args = {"starts_at": ANCHOR, "ends_at": ANCHOR + timedelta(hours=1)} | kw
    _refused(code, svc.add_session, meeting, actor="t", **args)
    assert len(meeting.sessions) == 1


def test_update_session_carries_its_window_and_keeps_its_position(meeting, db):
    s = svc.add_session(meeting, actor="t", title="下午", starts_at=ANCHOR + timedelta(hours=4),
                        ends_at=ANCHOR + timedelta(hours=6), signin_closes_at=ANCHOR + timedelta(hours=5))
    svc.update_session(meeting, 2, actor="t", starts_at=ANCHOR + timedelta(hours=5),
                       ends_at=ANCHOR + timedelta(hours=7))
    assert s.position == 2
    assert s.signin_opens_at == ANCHOR + timedelta(hours=3)  # still two hours ahead
    assert s.signin_closes_at == ANCHOR + timedelta(hours=6)  # still an hour before the end
    svc.update_session(meeting, 2, actor="t", title="  ", signin_closes_at=ANCHOR + timedelta(hours=7))
    assert s.title == "下午" and s.signin_closes_at == ANCHOR + timedelta(hours=7)
    _refused("session_time_order", svc.update_session, meeting, 2, actor="t", ends_at=ANCHOR)
    _refused("session_not_found", svc.update_session, meeting, 7, actor="t", title="x")
    audit = db.session.scalars(select(AuditLog).where(AuditLog.action == "session.update")).all()
    assert audit[0].data["position"] == 2 and "starts_at" in audit[0].data["changes"]


def test_remove_session_rules_and_positions_never_reused(meeting, console, factory, db):
    _refused("last_session", svc.remove_session, meeting, 1, actor="t")
    second = svc.add_session(meeting, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    third = svc.add_session(meeting, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    assert (second.position, third.position) == (2, 3)
    meeting.state = MeetingState.PUBLISHED
    invitee = console.people[0]
    factory.invitee(meeting, invitee)
    sign_in(meeting, second, invitee, method="scan", check_window=False)
    error = _refused("session_has_signins", svc.remove_session, meeting, 2, actor="t")
    assert "已有 1 条签到记录" in error.message and error.status == 409
    db.session.add(Vote(meeting_id=meeting.id, session_id=third.id, title="表决", kind="motion"))
    db.session.flush()
    assert "投票" in _refused("session_has_records", svc.remove_session, meeting, 3, actor="t").message
    fourth = svc.add_session(meeting, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    svc.remove_session(meeting, 4, actor="t")
    assert [s.position for s in meeting.sessions] == [1, 2, 3]
    assert fourth not in meeting.sessions
    # The highest position was removed: the next session still does not take it again.
    fifth = svc.add_session(meeting, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    assert fifth.position == 5
    assert svc.next_position(meeting) == 6
    _refused("session_not_found", svc.remove_session, meeting, 4, actor="t")


def test_archived_meeting_sessions_and_agenda_are_read_only(meeting, db):
    meeting.state = MeetingState.ARCHIVED
    _refused("state_invalid", svc.add_session, meeting, actor="t", starts_at=ANCHOR, ends_at=ANCHOR + timedelta(hours=1))
    _refused("state_invalid", svc.update_session, meeting, 1, actor="t", title="x")
    _refused("state_invalid", svc.set_agenda, meeting, [], actor="t")


# -- agenda -----------------------------------------------------------------------------------------
def test_agenda_is_cleaned_and_stored(meeting, db):
    stored = svc.set_agenda(meeting, [
        {"time": "9:00", "title": " 开幕 ", "speaker": "王书记"},
        {"time": "", "title": "", "speaker": "", "place": ""},
        {"time": "10：30", "title": "讨论", "place": "分会场"},
        {"time": "1400", "title": "闭幕", "speaker": None},
        {"time": "15.05", "title": "合影"},
    ], actor="t")
    assert stored == [
        {"time": "09:00", "title": "开幕", "speaker": "王书记", "place": ""},
        {"time": "10:30", "title": "讨论", "speaker": "", "place": "分会场"},
        {"time": "14:00", "title": "闭幕", "speaker": "", "place": ""},
        {"time": "15:05", "title": "合影", "speaker": "", "place": ""},
    ]
    assert meeting.agenda == stored
    assert db.session.scalars(select(AuditLog).where(AuditLog.action == "meeting.agenda")).one().data == {"items": 4}
    svc.set_agenda(meeting, stored, actor="t")  # the same again: not recorded twice
    assert len(db.session.scalars(select(AuditLog).where(AuditLog.action == "meeting.agenda")).all()) == 1


@pytest.mark.parametrize(("rows", "message"), [
    ([{"time": "09:00", "speaker": "王"}], "议程第 1 行：请填写议程内容"),
    ([{"title": "a"}, {"time": "25:00", "title": "b"}], "议程第 2 行：时间“25:00”格式不正确"),
    ([{"time": "上午", "title": "b"}], "格式不正确"),
    ([{"title": "长" * 201}], "议程不能超过 200 个字"),
    ([{"title": "a", "speaker": "人" * 101}], "发言人不能超过 100 个字"),
    ([{"title": "a", "place": "地" * 101}], "地点不能超过 100 个字"),
    (["开幕"], "议程第 1 行：格式不正确"),
    ({"title": "a"}, "议程应为列表"),
    ([{"title": f"项{i}"} for i in range(101)], "议程最多 100 项"),
])
def test_agenda_refusals(meeting, db, rows, message):
    meeting.agenda = [{"time": "", "title": "原议程", "speaker": "", "place": ""}]
    with pytest.raises(DomainError) as info:
        svc.set_agenda(meeting, rows, actor="t")
    assert message in info.value.message
    assert meeting.agenda[0]["title"] == "原议程"


def test_agenda_from_json_csv_and_xlsx():
    rows, numbers = svc.read_agenda_file(json.dumps([{"time": "09:00", "title": "开幕"}]).encode(), "a.json")
    assert svc.clean_agenda(rows, row_numbers=numbers) == [{"time": "09:00", "title": "开幕", "speaker": "",
                                                            "place": ""}]
    csv_text = "会议议程\n时间,议程,发言人,地点\n9:00,开幕,王书记,大礼堂\n,,,\n10:00,讨论,,\n"
    for encoding in ("utf-8-sig", "gb18030"):
        rows, numbers = svc.read_agenda_file(csv_text.encode(encoding), "议程.csv")
        assert svc.clean_agenda(rows, row_numbers=numbers) == [
            {"time": "09:00", "title": "开幕", "speaker": "王书记", "place": "大礼堂"},
            {"time": "10:00", "title": "讨论", "speaker": "", "place": ""}]
    bad = "时间,议程\n9:00,开幕\n晚上,闭幕\n".encode()
    rows, numbers = svc.read_agenda_file(bad, "a.csv")
    with pytest.raises(DomainError) as info:
        svc.clean_agenda(rows, row_numbers=numbers)
    assert "议程第 3 行" in info.value.message  # the file's own row number

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["时间", "议题", "主讲人", "会场"])
    ws.append([time(9, 30), "开幕", "王书记", "主会场"])
    ws.append(["14:00", "分组讨论", None, None])
    buf = io.BytesIO()
    wb.save(buf)
    rows, numbers = svc.read_agenda_file(buf.getvalue(), "agenda.xlsx")
    assert svc.clean_agenda(rows, row_numbers=numbers) == [
        {"time": "09:30", "title": "开幕", "speaker": "王书记", "place": "主会场"},
        {"time": "14:00", "title": "分组讨论", "speaker": "", "place": ""}]


@pytest.mark.parametrize(("data", "name", "detail"), [
    (b"", "a.csv", "文件是空的"),
    (b"[not json", "a.json", "不是有效的 JSON"),
    (b'{"title": "x"}', "a.json", "JSON 应为列表"),
    ("姓名,手机\n张三,138\n".encode(), "a.csv", "未找到表头"),
    (b"%PDF-1.4 xxx", "a.pdf", "不支持该文件格式"),
])
def test_agenda_file_refusals(data, name, detail):
    error = _refused("agenda_file_invalid", svc.read_agenda_file, data, name)
    assert detail in error.message
