"""The management CLI: JSON out, clear failures, nothing written on bad input."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from models import AuditLog, Invitee, Meeting, Organizer, Unit


def _json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_units_add_prints_json(runner, db):
    result = runner.invoke(args=["units", "add", "FGJ", "区发展和改革局", "--alias", "发改局", "--json"])
    assert result.exit_code == 0, result.output
    assert _json(result) == {"id": 1, "code": "FGJ", "name": "区发展和改革局", "aliases": ["发改局"]} | {
        "id": _json(result)["id"]}
    assert count(db, Unit) == 1


def test_units_add_duplicate_fails_and_writes_nothing(runner, db):
    assert runner.invoke(args=["units", "add", "FGJ", "区发展和改革局"]).exit_code == 0
    audit_before = count(db, AuditLog)
    result = runner.invoke(args=["units", "add", "FGJ", "另一个", "--json"])
    assert result.exit_code == 1
    assert _json(result)["error"]["code"] == "unit_exists"
    assert "单位代码已存在" in result.output
    assert count(db, Unit) == 1 and count(db, AuditLog) == audit_before


def test_meetings_create_json_and_sessions(runner, db):
    runner.invoke(args=["units", "add", "FGJ", "区发展和改革局"])
    result = runner.invoke(args=["meetings", "create", "Q4ECON", "--title", "全区经济工作会议",
                                 "--starts", "2026-11-23 09:00", "--ends", "2026-11-23 11:30",
                                 "--invite-unit", "FGJ", "--open", "--json"])
    assert result.exit_code == 0, result.output
    data = _json(result)
    assert data["code"] == "Q4ECON" and data["state"] == "published" and data["units"] == ["FGJ"]
    # Typed in China time, stored in UTC.
    assert data["starts_at"].startswith("2026-11-23T01:00:00")
    assert data["sessions"][0]["signin_opens_at"].startswith("2026-11-22T23:00:00")


def test_meetings_create_bad_input_exits_nonzero_and_writes_nothing(runner, db):
    runner.invoke(args=["units", "add", "FGJ", "区发展和改革局"])
    base = ["meetings", "create"]
    cases = [
        (["MT1", "--title", "会", "--starts", "2026-11-23 09:00", "--invite-unit", "NOPE"], "unit_not_found"),
        (["MT2", "--title", "会", "--starts", "明天上午"], "time_invalid"),
        (["MT3", "--title", "会", "--starts", "2026-11-23 09:00", "--ends", "2026-11-23 08:00"], "time_order"),
        (["bad code!", "--title", "会", "--starts", "2026-11-23 09:00"], "meeting_code_invalid"),
        (["MT4", "--title", "  ", "--starts", "2026-11-23 09:00"], "title_missing"),
        (["MT5", "--title", "会", "--starts", "2026-11-23 09:00", "--admission", "everyone"], "admission_invalid"),
    ]
    for args, code in cases:
        result = runner.invoke(args=[*base, *args, "--json"])
        assert result.exit_code == 1, (args, result.output)
        assert _json(result)["error"]["code"] == code
    assert count(db, Meeting) == 0


def test_meetings_create_duplicate_code(runner, db):
    args = ["meetings", "create", "DUP", "--title", "会", "--starts", "2026-11-23 09:00", "--json"]
    assert runner.invoke(args=args).exit_code == 0
    result = runner.invoke(args=args)
    assert result.exit_code == 1 and _json(result)["error"]["code"] == "meeting_exists"
    assert count(db, Meeting) == 1


def test_invite_and_organizers(runner, db, factory):
    unit = factory.unit("FGJ", "区发展和改革局")
    factory.contact(unit, name="张伟", phone="13800138000")
    factory.contact(unit, name="王芳", phone="13900139000")
    runner.invoke(args=["meetings", "create", "INV", "--title", "会", "--starts", "2026-11-23 09:00"])

    result = runner.invoke(args=["meetings", "invite", "INV", "--phone", "+86 138-0013-8000", "--role", "领导",
                                 "--json"])
    assert result.exit_code == 0, result.output
    assert _json(result) == {"invited": 1, "total_invitees": 1}
    result = runner.invoke(args=["meetings", "invite", "INV", "--unit", "FGJ", "--json"])
    assert _json(result) == {"invited": 1, "total_invitees": 2}

    # One unknown phone invites nobody.
    result = runner.invoke(args=["meetings", "invite", "INV", "--phone", "13900139000", "--phone", "13700000000",
                                 "--json"])
    assert result.exit_code == 1 and _json(result)["error"]["code"] == "contact_not_found"
    assert count(db, Invitee) == 2

    result = runner.invoke(args=["organizers", "add", "--meeting", "INV", "--phone", "13900139000", "--json"])
    assert result.exit_code == 0 and _json(result)["name"] == "王芳"
    result = runner.invoke(args=["organizers", "add", "--meeting", "NOPE", "--phone", "13900139000", "--json"])
    assert result.exit_code == 1 and _json(result)["error"]["code"] == "meeting_not_found"
    assert count(db, Organizer) == 1


def test_demo_seed_is_idempotent(runner, db):
    first = runner.invoke(args=["demo", "seed", "--json"])
    assert first.exit_code == 0, first.output
    data = _json(first)
    assert data["created"] is True and data["contacts"] >= 30 and data["units"] >= 5
    second = runner.invoke(args=["demo", "seed", "--json"])
    assert second.exit_code == 0 and _json(second)["created"] is False
    assert count(db, Meeting) == 1
