"""``flask badges print``: the whole file or none, one JSON object with --json, Chinese refusals."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from models import AuditLog
from tests.reports.helpers import pdf_pages


@pytest.fixture
def cli(runner):
    def invoke(*args):
        result = runner.invoke(args=["badges", "print", *args, "--json"])
        lines = result.stdout.strip().splitlines()
        return result.exit_code, json.loads(lines[-1]) if lines else None

    return invoke


def _prints(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "badges.print"))


def test_print_writes_the_pdf_and_answers_in_json(cli, db, scene, tmp_path):
    out = tmp_path / "badges.pdf"
    code, data = cli("--meeting", "BDG1", "--out", str(out))
    assert code == 0, data
    assert data["ok"] and data["count"] == 12 and data["pages"] == 2 and data["bytes"] == out.stat().st_size
    assert data["filename"].startswith("2026年全市经济工作会议-胸卡-") and data["size"] == "small"
    assert [n["code"] for n in data["photos_skipped"]] == ["photo_unreadable", "photo_missing"]
    assert "市长张" in pdf_pages(out.read_bytes())[0]
    code, data = cli("--meeting", "BDG1", "--out", str(out), "--size", "large", "--group", "第一代表团")
    assert code == 0 and data["count"] == 3 and data["pages"] == 2 and data["filename"].split("-")[1] == "代表证"
    code, data = cli("--meeting", "BDG1", "--out", str(out), "--role", "媒体")
    assert code == 0 and data["count"] == 1 and "记者刘" in pdf_pages(out.read_bytes())[0]
    assert _prints(db) == 3
    assert db.session.scalar(select(AuditLog.actor).where(AuditLog.action == "badges.print").limit(1)) == "cli"


@pytest.mark.parametrize(("args", "error"), [
    (["--meeting", "NOPE"], "meeting_not_found"),
    (["--meeting", "BDG1", "--size", "A0"], "size_invalid"),
    (["--meeting", "BDG1", "--role", "皇帝"], "role_invalid"),
    (["--meeting", "BDG1", "--group", "团" * 80], "group_invalid"),
    (["--meeting", "BDG1", "--group", "没有这个团"], "badges_empty"),
])
def test_bad_input_writes_nothing(cli, db, scene, tmp_path, args, error):
    out = tmp_path / "badges.pdf"
    code, data = cli(*args, "--out", str(out))
    assert code == 1 and data["error"]["code"] == error and data["error"]["message"]
    assert not out.exists() and _prints(db) == 0


def test_an_output_that_cannot_be_written_is_refused(cli, db, scene, tmp_path):
    for out in (str(tmp_path), str(tmp_path / "no" / "such" / "dir.pdf"), " "):
        code, data = cli("--meeting", "BDG1", "--out", out)
        assert code == 1 and data["error"]["code"] == "output_invalid", out
    assert _prints(db) == 0
