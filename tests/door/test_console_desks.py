"""The console's 签到台 page: issue a desk (its link shown once), stop it, see conflicts and flagged
scans, revoke a personal code; the paper 签到表's ticks keyed back in."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.services.signin import desk_sync, desks, personal_codes
from models import CodeRevocation, Desk, SignIn, SignInMethod
from tests.console.conftest import build_console, login_as


def test_issue_and_stop_a_desk_and_see_what_it_synced(client, db, factory):
    data = build_console(factory)
    login_as(client, data, "staff")
    res = client.post(f"/admin/{data.meeting.code}/desks", data={"name": "东门1号台"}, follow_redirects=True)
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "东门1号台" in html
    link = re.search(r'value="(http://huiyi\.test/desk/#t=(dk_[A-Za-z0-9_-]+))"', html)
    assert link, html
    token = link.group(2)
    desk = desks.desk_for_token(token)
    assert desk.name == "东门1号台" and desk.meeting_id == data.meeting.id
    # Shown once: the next visit has no link.
    assert "dk_" not in client.get(f"/admin/{data.meeting.code}/desks").get_data(as_text=True)

    code = personal_codes.personal_code(data.meeting, data.people[0])
    at = datetime.now(UTC) - timedelta(minutes=5)
    other = desks.issue_desk(data.meeting, name="西门", actor=data.staff)
    desk_sync.sync(desk, [desk_sync.ScanIn("a", code, at, 1), desk_sync.ScanIn("bad", "HYNOPE", at, 1)])
    desk_sync.sync(other.desk, [desk_sync.ScanIn("b", code, at + timedelta(minutes=1), 1)])
    html = client.get(f"/admin/{data.meeting.code}/desks").get_data(as_text=True)
    assert "多台重复扫码" in html and "参会0" in html and "西门" in html and "无效代码" in html

    res = client.post(f"/admin/{data.meeting.code}/desks/{desk.id}/revoke", follow_redirects=True)
    assert "已停用签到台" in res.get_data(as_text=True)
    assert db.session.get(Desk, desk.id).revoked_at is not None

    res = client.post(f"/admin/{data.meeting.code}/codes/revoke",
                      data={"contact_id": data.people[1].id, "reason": "胸卡遗失"}, follow_redirects=True)
    assert "已撤销 参会1 的个人签到码" in res.get_data(as_text=True)
    assert db.session.scalar(select(CodeRevocation.generation)) == 0


def test_viewers_and_strangers_cannot_issue_desks(client, db, factory):
    data = build_console(factory)
    for who in ("viewer", "outsider", "stranger"):
        login_as(client, data, who)
        assert client.post(f"/admin/{data.meeting.code}/desks", data={"name": "x"}).status_code == 403
    assert db.session.scalar(select(Desk.id)) is None


def test_paper_ticks_are_keyed_back_in(client, db, factory):
    data = build_console(factory)
    login_as(client, data, "staff")
    page = client.get(f"/admin/{data.meeting.code}/paper").get_data(as_text=True)
    assert "补录纸质签到表" in page and "参会3" in page
    session = data.meeting.sessions[0]
    at = (session.starts_at - timedelta(minutes=10)).astimezone(UTC)
    local = at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%dT%H:%M")
    res = client.post(f"/admin/{data.meeting.code}/paper",
                      data={"s": 1, "at": local, "contact_id": [data.people[0].id, data.people[2].id, "x"]},
                      follow_redirects=True)
    assert "已补录 2 人签到" in res.get_data(as_text=True)
    rows = db.session.scalars(select(SignIn).where(SignIn.revoked_at.is_(None))).all()
    assert {r.contact_id for r in rows} == {data.people[0].id, data.people[2].id}
    assert all(r.method == SignInMethod.MANUAL and r.actor_contact_id == data.staff.id for r in rows)
    assert all(abs((r.signed_at - at).total_seconds()) < 60 for r in rows)
    res = client.post(f"/admin/{data.meeting.code}/paper", data={"s": 1, "at": local,
                                                                 "contact_id": [data.people[0].id]},
                      follow_redirects=True)
    assert "1 人此前已签到" in res.get_data(as_text=True)
    res = client.post(f"/admin/{data.meeting.code}/paper", data={"s": 1, "at": "昨天"}, follow_redirects=True)
    assert "请勾选" in res.get_data(as_text=True) or "签到时间" in res.get_data(as_text=True)
