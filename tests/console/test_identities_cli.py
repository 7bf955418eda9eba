"""``flask identities unbind``: by phone, with --json, clean failures."""

from __future__ import annotations

import json

from sqlalchemy import select

from app.services.identity.binding import bind, get_or_create_identity
from models import AuditLog, WechatIdentity


def test_unbind_by_phone(db, runner, console):
    person = console.people[0]
    identity = get_or_create_identity(oa_openid="o-cli-person")
    bind(identity, unit_text=person.unit.name, name=person.name, phone=person.phone, ip=None)
    db.session.commit()
    result = runner.invoke(args=["identities", "unbind", "--phone", person.phone, "--reason", "换手机", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == {"contact_id": person.id, "name": person.name, "unit": person.unit.name,
                    "identity_id": identity.id, "reason": "换手机"}
    assert db.session.get(WechatIdentity, identity.id).contact_id is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "identity.unbind"))
    assert entry.actor == "cli" and entry.data["reason"] == "换手机"

    again = runner.invoke(args=["identities", "unbind", "--phone", person.phone, "--json"])
    assert again.exit_code == 1
    assert json.loads(again.stdout.splitlines()[0])["error"]["code"] == "not_bound"


def test_unbind_human_output_and_bad_phones(db, runner, console):
    staff = console.staff  # bound by the fixture
    result = runner.invoke(args=["identities", "unbind", "--phone", staff.phone])
    assert result.exit_code == 0 and f"已解除 {staff.name}" in result.output
    for phone, code in [("12345", "phone_invalid"), ("13999999999", "contact_not_found")]:
        failed = runner.invoke(args=["identities", "unbind", "--phone", phone, "--json"])
        assert failed.exit_code == 1 and json.loads(failed.stdout.splitlines()[0])["error"]["code"] == code
