"""``flask contacts import``: JSON shape, dry run, exit codes, hostile files."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from models import Contact, ContactImport
from tests.contacts.test_hostile_files import directory_rows, stream_xlsx

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"
FULL = str(FIXTURES / "directory_full.xlsx")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def invoke(runner, *args):
    result = runner.invoke(args=["contacts", "import", *args])
    return result, (json.loads(result.stdout.strip().splitlines()[-1]) if "--json" in args and result.stdout else None)


def test_json_shape_and_import(runner, db, factory):
    factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    result, out = invoke(runner, FULL, "--unit", "FGJ", "--json")
    assert result.exit_code == 0, result.output
    assert result.stdout.count("\n") == 1  # one object, nothing else on stdout
    assert {"ok", "rejected", "added", "updated", "deactivated", "unchanged", "dry_run", "import_id"} <= out.keys()
    assert (out["ok"], out["added"], out["updated"], out["deactivated"], out["dry_run"]) == (7, 7, 0, 0, False)
    assert out["rejected"][0] == {"row": 10, "code": "name_missing", "message": "缺少姓名"}
    assert all(r.keys() == {"row", "code", "message"} for r in out["rejected"])
    assert count(db, Contact) == 7

    result, again = invoke(runner, FULL, "--unit", "FGJ", "--json")
    assert result.exit_code == 0
    assert (again["added"], again["updated"], again["deactivated"], again["unchanged"]) == (0, 0, 0, 7)
    assert again["message"] == "与现有通讯录一致，无需更改"


def test_dry_run_writes_no_contact(runner, db, factory):
    factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    result, out = invoke(runner, FULL, "--unit", "FGJ", "--dry-run", "--json")
    assert result.exit_code == 0
    assert out["dry_run"] is True and out["added"] == 7
    assert count(db, Contact) == 0
    assert db.session.get(ContactImport, out["import_id"]).status == "previewed"


def test_human_output(runner, factory):
    factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    result = runner.invoke(args=["contacts", "import", FULL, "--unit", "FGJ", "--dry-run"])
    assert result.exit_code == 0
    assert "试运行" in result.output and "第 10 行：缺少姓名" in result.output
    assert "name_missing" not in result.output  # codes only in --json


def test_upsert_mode_deactivates_no_one(runner, db, factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    kept = factory.contact(unit, phone="13100131000")
    result, out = invoke(runner, FULL, "--unit", "FGJ", "--mode", "upsert", "--json")
    assert result.exit_code == 0 and out["mode"] == "upsert" and out["deactivated"] == 0
    db.session.refresh(kept)
    assert kept.active
    result, out = invoke(runner, FULL, "--unit", "FGJ", "--json")  # the CLI's default stays replace
    assert out["mode"] == "replace" and out["deactivated"] == 1


def test_no_valid_row_exits_non_zero_and_writes_nothing(runner, db, factory, tmp_path):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    factory.contact(unit, phone="13100131000")
    bad = tmp_path / "bad.csv"
    bad.write_text("姓名,手机号码\n张三,123\n李四,\n", encoding="utf-8")
    result, out = invoke(runner, str(bad), "--unit", "FGJ", "--json")
    assert result.exit_code == 2
    assert out["ok"] == 0 and len(out["rejected"]) == 2
    assert db.session.scalars(select(Contact.active)).all() == [True]


@pytest.mark.parametrize("name,data,code", [
    ("通讯录.csv", random.Random(0).randbytes(4096), "not_a_spreadsheet"),
    ("通讯录.xlsx", stream_xlsx(directory_rows(3), extra={"xl/sharedStrings.xml": b"\x00" * (64 << 20)}),
     "zip_bomb"),
], ids=["binary-csv", "zip-bomb"])
def test_hostile_file_exits_1_and_writes_nothing(runner, db, factory, tmp_path, name, data, code):
    factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    path = tmp_path / name
    path.write_bytes(data)
    result, out = invoke(runner, str(path), "--unit", "FGJ", "--json")
    assert result.exit_code == 1
    assert out["error"]["code"] == code and out["error"]["message"]
    assert count(db, Contact) == 0 and count(db, ContactImport) == 0


def test_unknown_unit_exits_1(runner, db):
    result, out = invoke(runner, FULL, "--unit", "NOPE", "--json")
    assert result.exit_code == 1 and out["error"]["code"] == "unit_not_found"
