"""``flask registrations export|approve`` with --json: one JSON object, codes on failure, nothing written."""

from __future__ import annotations

import json

import openpyxl
from sqlalchemy import select

from app.services.registration.submit import Caller, submit
from models import AuditLog
from models.registrations import Registration
from tests.registration.conftest import id_number, person


def _cli(runner, *args):
    result = runner.invoke(args=["registrations", *args, "--json"])
    return result.exit_code, json.loads(result.output.splitlines()[0]) if result.output.strip() else None


def _three(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    out = submit(meeting, code_form, [person(id_number=id_number()), person(), person()], caller=Caller("h5:cli"),
                 invite_code="HY2026AB", unit_code=unit.code)
    db.session.commit()
    return meeting, out.registrations


def test_approve_by_id_and_all_pending(runner, db, reg_meeting, code_form):
    meeting, regs = _three(db, reg_meeting, code_form)
    code, out = _cli(runner, "approve", "--meeting", meeting.code, "--id", str(regs[0].id))
    assert code == 0 and out["approved"] == 1 and out["ids"] == [regs[0].id]
    code, out = _cli(runner, "approve", "--meeting", meeting.code, "--all-pending")
    assert code == 0 and out == {"ok": True, "meeting": meeting.code, "approved": 2, "skipped": 0,
                                 "ids": [regs[1].id, regs[2].id]}
    assert {r.status for r in db.session.scalars(select(Registration))} == {"approved"}
    assert db.session.scalar(select(AuditLog.actor).where(AuditLog.action == "registration.approve")) == "cli"


def test_approve_refusals(runner, db, reg_meeting, code_form):
    meeting, regs = _three(db, reg_meeting, code_form)
    for args, expected in ((["--meeting", "NOPE", "--all-pending"], "meeting_not_found"),
                           (["--meeting", meeting.code], "nothing_selected"),
                           (["--meeting", meeting.code, "--all-pending", "--id", "1"], "nothing_selected"),
                           (["--meeting", meeting.code, "--id", str(regs[0].id), "--id", "abc"],
                            "registration_not_found")):
        code, out = _cli(runner, "approve", *args)
        assert code == 1 and out["error"]["code"] == expected and out["error"]["message"], args
    assert {r.status for r in db.session.scalars(select(Registration))} == {"pending"}


def test_export(runner, db, tmp_path, reg_meeting, code_form):
    meeting, regs = _three(db, reg_meeting, code_form)
    target = tmp_path / "报名.xlsx"
    code, out = _cli(runner, "export", "--meeting", meeting.code, "--status", "pending", "--out", str(target))
    assert code == 0 and out["rows"] == 3 and out["output"] == str(target)
    sheet = openpyxl.load_workbook(target).active
    values = [c.value for row in sheet.iter_rows() for c in row]
    assert regs[0].id_masked in values and regs[0].name in values
    code, out = _cli(runner, "export", "--meeting", meeting.code, "--status", "bogus", "--out", str(tmp_path / "x.xlsx"))
    assert code == 1 and out["error"]["code"] == "status_invalid" and not (tmp_path / "x.xlsx").exists()
    code, out = _cli(runner, "export", "--meeting", meeting.code, "--out", str(tmp_path / "no" / "dir.xlsx"))
    assert code == 1 and out["error"]["code"] == "output_invalid"
