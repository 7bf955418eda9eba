"""``flask invitees …`` and ``flask organizers …``: JSON output, and bad input refused with a
Chinese message, exit 1 and nothing written."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import func, select

from app.cli.people import invitees_cli, organizers_cli
from models import AuditLog, Invitee, Organizer


@pytest.fixture(autouse=True)
def commands(app):
    """The groups as app/cli/__init__.py registers them (again here, so these tests stand alone)."""
    app.cli.add_command(invitees_cli)
    app.cli.add_command(organizers_cli)


def call(runner, *args):
    result = runner.invoke(args=[*args, "--json"])
    lines = result.stdout.strip().splitlines()
    return result, (json.loads(lines[-1]) if lines else None)


def invitees(db, meeting) -> set[int]:
    return set(db.session.scalars(select(Invitee.contact_id).where(Invitee.meeting_id == meeting.id)))


def audit_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog))


def test_add_by_phone_and_unit(runner, db, console):
    result, out = call(runner, "invitees", "add", "CON1", "--phone", console.stranger.phone, "--role", "列席",
                       "--seat", "A-9")
    assert result.exit_code == 0, result.output
    assert out == {"meeting": "CON1", "added": 1, "already": 0, "total_invitees": 5}
    row = db.session.scalar(select(Invitee).where(Invitee.contact_id == console.stranger.id))
    assert (row.role, row.seat) == ("列席", "A-9")
    result, out = call(runner, "invitees", "add", "CON1", "--unit", "ZZB", "--group", "组织部")
    assert out["added"] == 1 and out["already"] == 2 and out["total_invitees"] == 6


@pytest.mark.parametrize("args,code", [
    (["invitees", "add", "CON1", "--phone", "13800000000", "--phone", "13999999999"], "contact_not_found"),
    (["invitees", "add", "CON1", "--phone", "123"], "phone_invalid"),
    (["invitees", "add", "CON1", "--unit", "NOPE"], "unit_not_found"),
    (["invitees", "add", "CON1", "--unit", "BGS", "--role", "嘉宾"], "role_invalid"),
    (["invitees", "add", "CON1"], "invalid_input"),
    (["invitees", "add", "NOPE", "--unit", "BGS"], "meeting_not_found"),
    (["invitees", "remove", "CON1", "--phone", "13999999999"], "not_invited"),
    (["invitees", "list", "CON1", "--unit", "NOPE"], "unit_not_found"),
    (["organizers", "add", "--meeting", "CON1", "--phone", "13999999999"], "contact_not_found"),
    (["organizers", "add", "--meeting", "CON1", "--phone", "13800000000", "--right", "boss"], "right_invalid"),
    (["organizers", "remove", "--meeting", "CON1", "--phone", "13800000000"], "organizer_not_found"),
])
def test_bad_input_exits_1_with_a_chinese_message_and_writes_nothing(runner, db, factory, console, args, code):
    factory.contact(console.unit, name="甲", phone="13800000000")  # in the directory, on no list
    db.session.commit()
    before = (invitees(db, console.meeting), audit_count(db),
              db.session.scalar(select(func.count()).select_from(Organizer)))
    result, out = call(runner, *args)
    assert result.exit_code == 1
    assert out["error"]["code"] == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in out["error"]["message"])
    assert f"错误（{code}）" in result.stderr
    after = (invitees(db, console.meeting), audit_count(db),
             db.session.scalar(select(func.count()).select_from(Organizer)))
    assert after == before


def test_remove_keeps_everyone_else(runner, db, console):
    result, out = call(runner, "invitees", "remove", "CON1", "--phone", console.people[0].phone,
                       "--phone", console.people[1].phone)
    assert result.exit_code == 0 and out["removed"] == 2 and out["total_invitees"] == 2
    assert invitees(db, console.meeting) == {console.people[2].id, console.people[3].id}


def test_import_dry_run_then_for_real(runner, db, factory, console, tmp_path):
    new = factory.contact(console.unit, name="命令行", phone="13966660001")
    db.session.commit()
    wb = openpyxl.Workbook()
    for row in (["单位", "姓名", "手机", "身份", "分组"], ["区委办公室", "命令行", "13966660001", "领导", "一组"],
                ["区委办公室", "无此人", "13966669999", "", ""]):
        wb.active.append(row)
    path = tmp_path / "名单.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    result, out = call(runner, "invitees", "import", "CON1", str(path), "--dry-run")
    assert result.exit_code == 0, result.output
    assert (out["ok"], out["added"], out["dry_run"]) == (1, 1, True)
    assert out["rejected"] == [{"row": 3, "code": "contact_not_found",
                                "message": "通讯录中找不到手机号 13966669999，请先由所在单位更新通讯录"}]
    assert new.id not in invitees(db, console.meeting)
    result, out = call(runner, "invitees", "import", "CON1", str(path))
    assert result.exit_code == 0 and out["added"] == 1 and out["dry_run"] is False
    assert new.id in invitees(db, console.meeting)
    human = runner.invoke(args=["invitees", "import", "CON1", str(path), "--dry-run"])
    assert "试运行（未写入）" in human.output and "第 3 行［contact_not_found］" in human.output


def test_import_of_a_bad_file_exits_1(runner, db, console, tmp_path):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"%PDF-1.4")
    before = audit_count(db)
    result, out = call(runner, "invitees", "import", "CON1", str(path))
    assert result.exit_code == 1 and out["error"]["code"] == "not_a_spreadsheet"
    assert audit_count(db) == before


def test_list_pages_and_filters(runner, db, console):
    result, out = call(runner, "invitees", "list", "CON1", "--status", "unbound", "--unit", "BGS")
    assert result.exit_code == 0, result.output
    assert out["total"] == 2 and out["counts"]["all"] == 2 and out["page"] == 1
    assert {p["name"] for p in out["invitees"]} == {"参会0", "参会2"}
    assert all(not p["bound"] and p["phone"] for p in out["invitees"])
    result, out = call(runner, "invitees", "list", "CON1", "--q", "参会1")
    assert [p["name"] for p in out["invitees"]] == ["参会1"]
    bad = runner.invoke(args=["invitees", "list", "CON1", "--status", "everyone"])
    assert bad.exit_code != 0
    human = runner.invoke(args=["invitees", "list", "CON1"])
    assert "第 1/1 页，共 4 人" in human.output and "未绑定微信" in human.output


def test_organizers_list_add_remove(runner, db, console):
    result, out = call(runner, "organizers", "list", "--meeting", "CON1")
    assert result.exit_code == 0
    assert [(o["name"], o["right"]) for o in out["organizers"]] == [("会务李", "staff"), ("只读赵", "viewer")]
    assert [o["name"] for o in out["unit_organizers"]] == ["主办王"]
    result, out = call(runner, "organizers", "add", "--meeting", "CON1", "--phone", console.stranger.phone,
                       "--right", "owner")
    assert result.exit_code == 0
    assert out == {"meeting": "CON1", "contact_id": console.stranger.id, "name": "路人钱", "right": "owner"}
    result, out = call(runner, "organizers", "remove", "--meeting", "CON1", "--phone", console.staff.phone)
    assert result.exit_code == 0 and out["removed"] is True
    names = {o["name"] for o in call(runner, "organizers", "list", "--meeting", "CON1")[1]["organizers"]}
    assert names == {"只读赵", "路人钱"}
