"""``flask meetings|sessions|agenda …``: JSON out, a Chinese message and exit 1 on bad input, nothing
written then."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.services.meetings.meetings import get_meeting
from app.services.timeutil import local
from models import AuditLog, Invitee, Meeting, MeetingSession


@pytest.fixture
def cli(runner):
    def invoke(*args):
        result = runner.invoke(args=[*args, "--json"])
        lines = result.stdout.strip().splitlines()
        return result.exit_code, json.loads(lines[-1]) if lines else None, result.output

    return invoke


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _hm(at) -> str:
    return local(at).strftime("%Y-%m-%d %H:%M")


def test_create_with_organizing_unit_list_and_show(cli, console, db):
    code, data, _ = cli("meetings", "create", "CLI1", "--title", "党组会", "--starts", "2026-12-01 09:00",
                        "--unit", "ZZB")
    assert code == 0 and data["unit"] == "ZZB" and data["state"] == "draft"
    assert get_meeting("CLI1").unit_id == console.other_unit.id
    code, data, _ = cli("meetings", "list", "--unit", "ZZB")
    assert code == 0 and [m["code"] for m in data["meetings"]] == ["CLI1"]
    assert data["meetings"][0]["sessions"] == 1 and data["meetings"][0]["invitees"] == 0
    code, data, _ = cli("meetings", "list", "--state", "published")
    assert [m["code"] for m in data["meetings"]] == ["CON1"] and data["meetings"][0]["invitees"] == 4
    code, data, _ = cli("meetings", "show", "CON1")
    assert code == 0 and data["unit"] == "BGS" and data["sessions"][0]["position"] == 1
    assert data["presence"] == "scan_or_link" and data["agenda"] == []


def test_update_settings(cli, console, db):
    code, data, _ = cli("meetings", "update", "CON1", "--venue", "礼堂", "--presence", "scan", "--late-minutes",
                        "10", "--mask-names", "--admission", "units", "--list-unit", "BGS", "--unit", "ZZB")
    assert code == 0, data
    assert data["venue"] == "礼堂" and data["presence"] == "scan" and data["rotating_qr"] is True
    assert data["late_after_minutes"] == 10 and data["mask_names"] is True and data["units"] == ["BGS"]
    assert data["unit"] == "ZZB" and data["not_notified"] == ["地点"]
    code, data, _ = cli("meetings", "update", "CON1", "--no-rotating-qr")
    assert data["rotating_qr"] is False and data["changed"] == ["rotating_qr"]


@pytest.mark.parametrize(("args", "code"), [
    (["meetings", "update", "CON1", "--venue", "新", "--late-minutes", "abc"], "late_invalid"),
    (["meetings", "update", "CON1", "--venue", "新", "--presence", "face"], "presence_invalid"),
    (["meetings", "update", "CON1", "--venue", "新", "--starts", "明天"], "time_invalid"),
    (["meetings", "update", "CON1", "--venue", "新", "--unit", "NOPE"], "unit_not_found"),
    (["meetings", "update", "NOPE", "--venue", "新"], "meeting_not_found"),
    (["meetings", "list", "--state", "old"], "state_filter_invalid"),
    (["meetings", "list", "--unit", "NOPE"], "unit_not_found"),
    (["meetings", "publish", "CON1"], "state_invalid"),
    (["meetings", "archive", "CON1"], "state_invalid"),
    (["meetings", "copy", "CON1", "--starts", "下周一"], "time_invalid"),
    (["meetings", "create", "login", "--title", "会", "--starts", "2026-12-01 09:00"], "meeting_code_reserved"),
    (["sessions", "add", "CON1", "--starts", "2026-12-01 09:00"], "session_time_missing"),
    (["sessions", "add", "CON1", "--starts", "2026-12-01 09:00", "--ends", "2026-12-01 08:00"],
     "session_time_order"),
    (["sessions", "update", "CON1", "5", "--title", "x"], "session_not_found"),
    (["sessions", "remove", "CON1", "1"], "last_session"),
])
def test_bad_input_exits_1_and_writes_nothing(cli, console, db, args, code):
    before = (_count(db, AuditLog), _count(db, Meeting), _count(db, MeetingSession))
    exit_code, data, output = cli(*args)
    assert exit_code == 1, output
    assert data["error"]["code"] == code and "错误" in output
    assert (_count(db, AuditLog), _count(db, Meeting), _count(db, MeetingSession)) == before
    assert get_meeting("CON1").venue == ""


def test_state_commands_and_copy(cli, console, db):
    assert cli("meetings", "close-signin", "CON1")[1]["closed_sessions"] == [1]
    code, data, _ = cli("meetings", "close", "CON1")
    assert code == 0 and data["state"] == "closed"
    assert cli("meetings", "reopen", "CON1")[1]["state"] == "published"
    cli("meetings", "close", "CON1")
    assert cli("meetings", "archive", "CON1")[1]["state"] == "archived"
    assert [m["code"] for m in cli("meetings", "list")[1]["meetings"]] == []
    assert [m["code"] for m in cli("meetings", "list", "--state", "all")[1]["meetings"]] == ["CON1"]
    code, data, _ = cli("meetings", "copy", "CON1", "--starts", "2027-02-01 14:30", "--with-invitees",
                        "--new-code", "CON2")
    assert code == 0, data
    assert data["code"] == "CON2" and data["title"] == "区委常委扩大会议（副本）" and data["state"] == "draft"
    assert data["invitees"] == 4 and data["unit"] == "BGS" and data["source"] == "CON1"
    assert _hm(get_meeting("CON2").starts_at) == "2027-02-01 14:30"
    code, data, _ = cli("meetings", "publish", "CON2")
    assert data["state"] == "published"
    assert db.session.scalar(select(func.count()).select_from(Invitee).where(
        Invitee.meeting_id == get_meeting("CON2").id)) == 4


def test_sessions_add_update_remove(cli, console, db):
    code, data, _ = cli("sessions", "add", "CON1", "--title", "下午", "--starts", "2026-12-01 14:00",
                        "--ends", "2026-12-01 17:00")
    assert code == 0 and data["position"] == 2 and data["title"] == "下午"
    assert _hm(get_meeting("CON1").sessions[1].signin_opens_at) == "2026-12-01 12:00"
    code, data, _ = cli("sessions", "update", "CON1", "2", "--opens", "2026-12-01 13:30", "--title", "下午全会")
    assert code == 0 and data["title"] == "下午全会" and data["position"] == 2
    assert _hm(get_meeting("CON1").sessions[1].signin_opens_at) == "2026-12-01 13:30"
    code, data, _ = cli("sessions", "remove", "CON1", "2")
    assert code == 0 and data["sessions"] == [1]
    code, data, _ = cli("sessions", "add", "CON1", "--starts", "2026-12-02 09:00", "--ends", "2026-12-02 11:00")
    assert data["position"] == 3 and data["title"] == "第 3 场"


def test_human_output(runner, console, db):
    out = lambda *args: runner.invoke(args=list(args))  # noqa: E731
    assert "CON1《区委常委扩大会议》（已发布）" in out("meetings", "list").output
    assert "应邀 4 · 已签到 0 · 1 个场次" in out("meetings", "list").output
    assert "第 1 场 区委常委扩大会议" in out("meetings", "show", "CON1").output
    changed = out("meetings", "update", "CON1", "--venue", "礼堂").output
    assert "已修改" in changed and "参会人员不会自动收到通知" in changed
    assert "没有变化" in out("meetings", "update", "CON1", "--venue", "礼堂").output
    assert "已添加 CON1 第 2 场" in out("sessions", "add", "CON1", "--starts", "2026-12-01 14:00",
                                         "--ends", "2026-12-01 16:00").output
    assert "已结束：CON1" in out("meetings", "close", "CON1").output
    refused = out("meetings", "close", "CON1")
    assert refused.exit_code == 1 and "错误（state_invalid）：会议当前为“已结束”" in refused.output


def test_agenda_set_from_files(cli, console, db, tmp_path):
    json_file = tmp_path / "agenda.json"
    json_file.write_text(json.dumps([{"time": "9:00", "title": "开幕", "speaker": "王书记", "place": "礼堂"}],
                                    ensure_ascii=False), encoding="utf-8")
    code, data, _ = cli("agenda", "set", "CON1", str(json_file))
    assert code == 0 and data["agenda"] == [{"time": "09:00", "title": "开幕", "speaker": "王书记", "place": "礼堂"}]
    csv_file = tmp_path / "议程.csv"
    csv_file.write_bytes("时间,议程,发言人,地点\n09:00,开幕,,\n10:00,闭幕,李区长,\n".encode("gb18030"))
    code, data, _ = cli("agenda", "set", "CON1", str(csv_file))
    assert code == 0 and [a["title"] for a in data["agenda"]] == ["开幕", "闭幕"]
    bad = tmp_path / "bad.csv"
    bad.write_text("时间,议程\n09:00,开幕\n9点,闭幕\n", encoding="utf-8")
    code, data, output = cli("agenda", "set", "CON1", str(bad))
    assert code == 1 and data["error"]["code"] == "agenda_invalid" and "议程第 3 行" in output
    assert [a["title"] for a in get_meeting("CON1").agenda] == ["开幕", "闭幕"]
    code, data, _ = cli("agenda", "set", "CON1", str(tmp_path / "missing.json"))
    assert code == 1 and data["error"]["code"] == "agenda_file_invalid"
