"""Who organizes for a unit and who administers the deployment: the service and its CLI."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.services.meetings import grants
from app.services.meetings.organizers import organizer_right, organizing_units
from models import AuditLog, SystemAdmin, UnitOrganizer


def _json(result):
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_granting_a_unit_makes_its_meetings_owned(db, factory):
    unit = factory.unit("JGW", "区机关事务管理局")
    person = factory.contact(unit, name="组织者甲", phone="13911110001")
    meeting = factory.meeting("GR1")
    meeting.unit_id = unit.id
    db.session.flush()
    assert organizer_right(meeting, person) is None
    _, _, created = grants.add_unit_organizer("JGW", "13911110001", actor="test")
    assert created and organizing_units(person) == [unit]
    assert organizer_right(meeting, person) == "owner"
    assert grants.add_unit_organizer("JGW", "13911110001", actor="test")[2] is False  # idempotent
    grants.remove_unit_organizer("JGW", "13911110001", actor="test")
    assert organizer_right(meeting, person) is None
    with pytest.raises(grants.GrantError) as err:
        grants.remove_unit_organizer("JGW", "13911110001", actor="test")
    assert err.value.code == "not_granted"


def test_console_cannot_remove_the_last_admin_but_the_cli_can(db, factory):
    person = factory.contact(name="管理员", phone="13911110002")
    grants.add_system_admin("13911110002", actor="test")
    with pytest.raises(grants.GrantError) as err:
        grants.remove_system_admin("13911110002", actor="contact:1")
    assert err.value.code == "last_admin"
    grants.remove_system_admin("13911110002", actor="cli")
    assert grants.system_admins() == [] and person.id


def test_require_admin(db, factory):
    person = factory.contact(phone="13911110003")
    with pytest.raises(grants.GrantError) as err:
        grants.require_admin(person)
    assert err.value.status == 403
    grants.add_system_admin("13911110003", actor="test")
    grants.require_admin(person)


def test_cli_grants_and_refuses_with_nothing_written(runner, db, factory):
    unit = factory.unit("JGW", "区机关事务管理局")
    factory.contact(unit, name="组织者乙", phone="13911110004")
    db.session.commit()
    ok = runner.invoke(args=["units", "add-organizer", "JGW", "--phone", "13911110004", "--json"])
    assert ok.exit_code == 0, ok.output
    assert _json(ok)["name"] == "组织者乙" and _json(ok)["created"] is True
    listed = runner.invoke(args=["units", "organizers", "JGW", "--json"])
    assert [o["name"] for o in _json(listed)["organizers"]] == ["组织者乙"]
    audits = db.session.scalar(select(func.count()).select_from(AuditLog))
    bad = runner.invoke(args=["units", "add-organizer", "NOPE", "--phone", "13911110004", "--json"])
    assert bad.exit_code == 1 and _json(bad)["error"]["code"] == "unit_not_found"
    bad = runner.invoke(args=["units", "add-organizer", "JGW", "--phone", "12345", "--json"])
    assert bad.exit_code == 1 and _json(bad)["error"]["code"] == "phone_invalid"
    assert "手机号格式不正确" in bad.output
    assert db.session.scalar(select(func.count()).select_from(UnitOrganizer)) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audits
    added = runner.invoke(args=["admins", "add", "--phone", "13911110004", "--json"])
    assert added.exit_code == 0 and db.session.scalar(select(func.count()).select_from(SystemAdmin)) == 1
    assert "组织者乙" in runner.invoke(args=["admins", "list"]).output
