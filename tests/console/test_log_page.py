"""The meeting's log page: audit rows newest first, paged and filtered; refused sign-ins with their
reason in Chinese; everything escaped; open to every right, to nobody else."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services import audit
from app.services.signin.rules import get_session
from models import AuditLog, SignInDenial
from tests.console.conftest import login_as


@pytest.fixture
def logged(db, console, factory):
    meeting = console.meeting
    base = datetime.now(UTC) - timedelta(hours=1)
    for i in range(55):
        entry = audit.record(f"contact:{console.staff.id}", "signin.proxy", meeting_id=meeting.id,
                             target=f"contact:{console.people[0].id}")
        entry.at = base + timedelta(seconds=i)
    newest = audit.record(f"contact:{console.owner.id}", "leave.record", meeting_id=meeting.id,
                          target=f"contact:{console.people[1].id}", reason="<script>alert(1)</script>",
                          approver="王主任")
    newest.at = base + timedelta(minutes=5)
    audit.record("cli", "meeting.create", meeting_id=None)  # another meeting's (none): never shown
    shady = factory.contact(console.other_unit, name="<img src=x>钱")
    session = get_session(meeting)
    db.session.add_all([
        SignInDenial(meeting_id=meeting.id, session_id=session.id, contact_id=shady.id, method="h5",
                     reason="scan_required", at=base),
        SignInDenial(meeting_id=meeting.id, session_id=session.id, contact_id=console.people[2].id, method="scan",
                     reason="not_invited", at=base + timedelta(minutes=1)),
    ])
    db.session.commit()
    return console


def test_audit_rows_newest_first_paged_and_escaped(db, client, logged):
    total = db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.meeting_id == logged.meeting.id))
    assert 56 < total <= 100  # the fixture's own rows (the meeting, its invitations) and these
    login_as(client, logged, "viewer")
    html = client.get(f"/admin/{logged.meeting.code}/log").get_data(as_text=True)
    assert f"共 {total} 条" in html and "第 1 / 2 页" in html
    assert html.index("登记请假") < html.index("代签")  # newest first
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert "批准人：王主任" in html and "主办王（区委办公室）" in html
    second = client.get(f"/admin/{logged.meeting.code}/log?page=2").get_data(as_text=True)
    # the rest of the audit rows and the two refusals, each table with its header row
    assert "第 2 / 2 页" in second and second.count("<tr>") == (total - 50) + 2 + 2


def test_audit_filters_by_kind_and_by_actor(client, logged):
    login_as(client, logged, "staff")
    code = logged.meeting.code
    leave_only = client.get(f"/admin/{code}/log?action=leave").get_data(as_text=True)
    assert '<option value="leave" selected>请假</option>' in leave_only
    assert "共 1 条" in leave_only and "代签</span>" not in leave_only
    by_owner = client.get(f"/admin/{code}/log?actor=contact:{logged.owner.id}").get_data(as_text=True)
    assert "共 1 条" in by_owner and "登记请假" in by_owner
    nothing = client.get(f"/admin/{code}/log?action=vote").get_data(as_text=True)
    assert "没有符合条件的记录" in nothing
    assert client.get(f"/admin/{code}/log?action=%27%3B--&actor=%3Cx%3E&page=abc&dpage=-3").status_code == 200


def test_refused_signins_in_chinese_filtered_by_reason(client, logged):
    login_as(client, logged, "viewer")
    code = logged.meeting.code
    html = client.get(f"/admin/{code}/log").get_data(as_text=True)
    assert "须在会场扫码" in html and "不在参会名单" in html and "公众号扫码" in html
    assert "&lt;img src=x&gt;钱" in html and "<img src=x>" not in html
    only = client.get(f"/admin/{code}/log?reason=not_invited#denials").get_data(as_text=True)
    denials = only[only.index('id="denials"'):]
    assert "不在参会名单" in denials and "须在会场扫码</span>" not in denials and "共 1 条" in denials


def test_outsiders_may_not_read_the_log(client, logged):
    for who in ("outsider", "stranger"):
        login_as(client, logged, who)
        assert client.get(f"/admin/{logged.meeting.code}/log").status_code == 403
