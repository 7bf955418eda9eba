"""``flask rooms import|allocate|export`` with ``--json``: one JSON object, a stable code on bad
input (exit 1, nothing written)."""

from __future__ import annotations

import json

import openpyxl
from sqlalchemy import func, select

from app.services.logistics import lodging
from models import Room, RoomAssignment
from tests.console.test_invitees_http import xlsx


def invoke(runner, *args) -> tuple[int, dict]:
    result = runner.invoke(args=[*args, "--json"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def room_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Room))


def test_import_dry_run_then_for_real(runner, db, scene, tmp_path):
    path = tmp_path / "rooms.xlsx"
    path.write_bytes(xlsx([["酒店", "房型", "床位数", "房号", "无障碍"],
                           ["新华饭店", "标准间", 2, "501-503", "否"],
                           ["新华饭店", "标准间", 2, "504", "也许"]]))
    before = room_count(db)
    code, out = invoke(runner, "rooms", "import", str(path), "--meeting", scene.meeting.code, "--dry-run")
    assert code == 0 and out["ok"] == 3 and out["dry_run"] is True
    assert out["rejected"] == [{"row": 3, "code": "accessible_invalid", "message": "“无障碍”只能填“是”或“否”"}]
    assert room_count(db) == before
    code, out = invoke(runner, "rooms", "import", str(path), "--meeting", scene.meeting.code)
    assert code == 0 and out["written"] == {"rooms": 3, "hotels": 1, "types": 1, "rejected": 1}
    assert room_count(db) == before + 3


def test_import_refuses_a_bad_file(runner, db, scene, tmp_path):
    path = tmp_path / "rooms.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    code, out = invoke(runner, "rooms", "import", str(path), "--meeting", scene.meeting.code)
    assert code == 1 and out["error"]["code"] == "not_a_spreadsheet"
    code, out = invoke(runner, "rooms", "import", str(path), "--meeting", "NOPE")
    assert code == 1 and out["error"]["code"] == "meeting_not_found"


def test_allocate_and_export(runner, db, scene, tmp_path):
    code, out = invoke(runner, "rooms", "allocate", "--meeting", scene.meeting.code)
    assert code == 0 and out["placed"] == 8 and out["unplaced"] == []
    path = tmp_path / "入住名单.xlsx"
    code, out = invoke(runner, "rooms", "export", "--meeting", scene.meeting.code, "--out", str(path))
    assert code == 0 and out["bytes"] == path.stat().st_size > 0
    assert openpyxl.load_workbook(path).sheetnames == ["会议中心酒店", "迎宾馆"]
    code, out = invoke(runner, "rooms", "export", "--meeting", scene.meeting.code, "--out", str(tmp_path / "no" / "x"))
    assert code == 1 and out["error"]["code"] == "output_invalid"


def test_allocate_after_publication_is_the_consoles(runner, db, scene):
    lodging.run_allocation(scene.meeting, actor="t", acting=None)
    lodging.publish(scene.meeting, actor="t", acting=scene.console.owner)
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(RoomAssignment))
    code, out = invoke(runner, "rooms", "allocate", "--meeting", scene.meeting.code)
    assert code == 1 and out["error"]["code"] == "published_no_actor"
    assert db.session.scalar(select(func.count()).select_from(RoomAssignment)) == before
