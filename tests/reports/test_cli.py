"""``flask reports list|export``: the registry's kinds, a whole file or none, Chinese refusals."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.services.reports.registry import all_kinds
from models import AuditLog
from tests.reports.helpers import pdf_text, xlsx_sheets


@pytest.fixture
def cli(runner):
    def invoke(*args, as_json=True):
        result = runner.invoke(args=[*args, *(["--json"] if as_json else [])])
        lines = result.stdout.strip().splitlines()
        data = None
        if as_json and lines:
            data = json.loads(lines[-1])
        return result.exit_code, data, result.output

    return invoke


def _exports(db) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.action == "report.export"))


def test_list_names_every_kind_of_the_registry(cli):
    code, data, _ = cli("reports", "list")
    assert code == 0
    assert [k["key"] for k in data["kinds"]] == [k.key for k in all_kinds()]
    assert data["kinds"][0] == {"key": "signin_sheet", "title": "签到表", "numbers_only": False,
                                "description": all_kinds()[0].description}


def test_export_writes_the_file_and_audits(cli, db, scene, tmp_path):
    out = tmp_path / "sheet.xlsx"
    code, data, _ = cli("reports", "export", scene.meeting.code, "signin_sheet", "--format", "xlsx",
                        "--output", str(out))
    assert code == 0 and data["ok"] and data["bytes"] == out.stat().st_size
    assert data["filename"].startswith("2026年第四季度全区经济工作会议-签到表-")
    rows = xlsx_sheets(out.read_bytes())["签到表"]["rows"]
    assert [r[2] for r in rows] == ["张发一", "李发二", "王发三", "赵财一", "钱财二", "孙财三", "周财四", "刘来宾"]
    pdf = tmp_path / "sheet.pdf"
    code, data, _ = cli("reports", "export", scene.meeting.code, "signin_sheet", "--format", "pdf", "--output",
                        str(pdf), "--session", "1")
    assert code == 0 and "张发一" in pdf_text(pdf.read_bytes())
    assert _exports(db) == 2
    assert db.session.scalar(select(AuditLog.actor).where(AuditLog.action == "report.export").limit(1)) == "cli"


@pytest.mark.parametrize(("args", "error", "words"), [
    (["NOPE", "signin_sheet", "--format", "xlsx"], "meeting_not_found", "会议"),
    (["RPT1", "nonsense", "--format", "xlsx"], "report_unknown", "没有这种报表"),
    (["RPT1", "signin_sheet", "--format", "docx"], "format_invalid", "xlsx 或 pdf"),
    (["RPT1", "signin_sheet", "--format", "pdf", "--session", "9"], "session_invalid", "第 9 场"),
])
def test_bad_input_is_refused_in_chinese_with_nothing_written(cli, db, scene, tmp_path, args, error, words):
    out = tmp_path / "out.file"
    code, data, output = cli("reports", "export", *args, "--output", str(out))
    assert code == 1 and data["error"]["code"] == error
    assert words in data["error"]["message"] and words in output
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert _exports(db) == 0


def test_an_output_that_cannot_be_written_is_refused(cli, db, scene, tmp_path):
    code, data, _ = cli("reports", "export", "RPT1", "signin_sheet", "--format", "xlsx", "--output",
                        str(tmp_path / "missing-dir" / "x.xlsx"))
    assert code == 1 and data["error"]["code"] == "output_invalid" and "无法写入" in data["error"]["message"]
    assert _exports(db) == 0


def test_human_output_is_chinese(cli, scene, tmp_path):
    code, _data, output = cli("reports", "export", "RPT1", "absent", "--format", "xlsx", "--output",
                              str(tmp_path / "a.xlsx"), as_json=False)
    assert code == 0 and output.startswith("已导出 ")
