"""``flask seats assign|export``: JSON out, the file whole or not at all, Chinese refusals."""

from __future__ import annotations

import json

import pytest

from app.services.logistics import seating
from tests.reports.helpers import pdf_text
from tests.seating.helpers import CJK_NAMES, invite_people


@pytest.fixture
def cli(runner):
    def invoke(*args):
        result = runner.invoke(args=[*args, "--json"])
        lines = result.stdout.strip().splitlines()
        return result.exit_code, json.loads(lines[-1]) if lines else None

    return invoke


@pytest.fixture
def meeting(factory):
    meeting = factory.meeting("SEATCLI", title="代表大会")
    invite_people(factory, meeting, 40, units=5, leaders=3, names=CJK_NAMES,
                  groups={i: "第一代表团" for i in range(30, 40)})
    seating.create_plan(meeting, {"name": "主会场", "rows": "5", "seats_per_row": "8", "aisles": "4",
                                  "rostrum_rows": "1", "rostrum_seats": "5", "sections": "第一代表团 5-5 1-8"},
                        actor="test")
    return meeting


def test_assign_then_export_pdf_and_xlsx(cli, meeting, tmp_path):
    code, data = cli("seats", "assign", "--meeting", "SEATCLI")
    assert code == 0 and data["placed"] == 40 - 2 and data["kept"] == 0
    # 32 open seats for 30 people, 8 in the section for 10: two of the delegation are told why.
    assert [u["code"] for u in data["unseated"]] == ["section_full", "section_full"]
    out = tmp_path / "plan.pdf"
    code, data = cli("seats", "export", "--meeting", "SEATCLI", "--out", str(out))
    assert code == 0 and data["format"] == "pdf" and out.stat().st_size == data["bytes"]
    assert "王建国" in pdf_text(out.read_bytes())
    code, data = cli("seats", "export", "--meeting", "SEATCLI", "--out", str(tmp_path / "plan.xlsx"))
    assert code == 0 and data["format"] == "xlsx"


@pytest.mark.parametrize(("args", "code"), [
    (["assign", "--meeting", "NOPE"], "meeting_not_found"),
    (["assign", "--meeting", "SEATCLI", "--plan", "999999"], "plan_not_found"),
    (["export", "--meeting", "SEATCLI", "--out", "x.docx"], "format_invalid"),
    (["export", "--meeting", "SEATCLI", "--out", "/nonexistent/dir/x.pdf"], "output_invalid"),
])
def test_refusals(cli, meeting, args, code, tmp_path):
    exit_code, data = cli("seats", *args)
    assert exit_code == 1 and data["error"]["code"] == code
