"""我的会议 (/m/my) and 会议资料 (/m/materials): the official-account menu's two attendee pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.services.documents import materials as documents
from tests.documents.conftest import confirm_terms, make_pdf


def login(client, identity) -> None:
    with client.session_transaction() as session:
        session.clear()
        session["identity_id"] = identity.id


@pytest.fixture(autouse=True)
def _no_queue(app, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", False)  # conversions run inline


@pytest.fixture
def mine(db, factory):
    """张三 invited to two meetings (signed in to the older one); 李四 invited only to a third."""
    from app.services.meetings.organizers import add_organizer
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in

    unit = factory.unit("MINE", "区财政局")
    now = datetime.now(UTC)
    older = factory.meeting("MYOLD", title="上半年工作会议", starts_at=now - timedelta(days=30), venue="一号会议室")
    newer = factory.meeting("MYNEW", title="全区<script>alert(1)</script>经济工作会议", starts_at=now + timedelta(days=1))
    secret = factory.meeting("MYSECRET", title="李四的专题会议", starts_at=now + timedelta(days=2))
    zhang = factory.contact(unit, name="张三", phone="13800138011")
    li = factory.contact(unit, name="李四", phone="13800138022")
    wang = factory.contact(unit, name="王会务", phone="13800138033")
    for m in (older, newer):
        factory.invitee(m, zhang)
        add_organizer(m.code, wang.phone, actor="test")
    factory.invitee(secret, li)
    add_organizer(secret.code, wang.phone, actor="test")
    sign_in(older, get_session(older), zhang, method="scan", check_window=False)
    db.session.commit()
    return {"older": older, "newer": newer, "secret": secret, "zhang": zhang, "li": li, "wang": wang,
            "zhang_id": factory.identity(zhang), "li_id": factory.identity(li)}


def _upload(db, meeting, actor, title, **kw):
    from app.services.documents.convert import process_version

    version = documents.upload(meeting, actor, data=make_pdf(1), file_name="f.pdf", title=title, **kw)
    process_version(version.id)
    db.session.commit()
    return version


def test_my_meetings_newest_first_with_status_and_escaped(client, db, mine):
    _upload(db, mine["older"], mine["wang"], "上半年总结")
    login(client, mine["zhang_id"])
    res = client.get("/m/my")
    page = res.get_data(as_text=True)
    assert res.status_code == 200 and "我的会议" in page and "no-store" in res.headers["Cache-Control"]
    assert page.index("经济工作会议") < page.index("上半年工作会议")  # newest first
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "已签到" in page and "未签到" in page
    assert " 签到</span>" not in page  # the status says 已签到; its time follows without repeating it
    assert 'href="/m/MYOLD"' in page and 'href="/m/MYOLD/documents"' in page and "会议资料（1）" in page
    assert 'href="/m/MYNEW/documents"' not in page  # no materials there yet
    assert "李四的专题会议" not in page and "MYSECRET" not in page


def test_materials_grouped_by_meeting_without_recalled_or_restricted(client, db, mine):
    agenda = _upload(db, mine["older"], mine["wang"], "会议议程<b>")
    recalled = _upload(db, mine["newer"], mine["wang"], "讲话稿（已清退）")
    _upload(db, mine["newer"], mine["wang"], "仅限领导", access="restricted", allowed_roles=["领导"])
    _upload(db, mine["newer"], mine["wang"], "经济形势分析")
    _upload(db, mine["secret"], mine["wang"], "李四的机密材料")
    documents.recall(mine["newer"], mine["wang"], recalled.document_id)
    db.session.commit()

    login(client, mine["zhang_id"])
    page = client.get("/m/materials").get_data(as_text=True)
    assert "会议议程&lt;b&gt;" in page and "经济形势分析" in page
    assert "已清退" not in page.replace("已清退的资料不再显示", "") and "仅限领导" not in page
    assert "李四的机密材料" not in page and "李四的专题会议" not in page
    assert page.index("经济形势分析") < page.index("会议议程")  # grouped, newest meeting first
    # Each link opens the existing viewer with this person's own token.
    link = page.split('href="/m/MYOLD/documents/', 1)[1].split('"', 1)[0]
    # The 保密提醒 comes first (the gate's own tests: tests/documents/test_confidentiality.py).
    assert "/m/MYOLD/confidentiality" in client.get(f"/m/MYOLD/documents/{link}").headers["Location"]
    confirm_terms(mine["older"], mine["zhang"])
    assert client.get(f"/m/MYOLD/documents/{link}").status_code == 200
    assert client.get(f"/m/MYOLD/documents/{link}/pages/1.png").mimetype == "image/png"
    login(client, mine["li_id"])
    assert client.get(f"/m/MYOLD/documents/{link}/pages/1.png").status_code == 403  # not transferable
    assert agenda.document_id


def test_a_non_invitee_sees_nothing_of_another_meeting(client, db, mine):
    _upload(db, mine["older"], mine["wang"], "上半年总结")
    login(client, mine["li_id"])
    for path in ("/m/my", "/m/materials"):
        page = client.get(path).get_data(as_text=True)
        assert "上半年" not in page and "经济工作会议" not in page and "张三" not in page
    assert "李四的专题会议" in client.get("/m/my").get_data(as_text=True)
    assert "暂无可查看的会议资料" in client.get("/m/materials").get_data(as_text=True)


def test_unbound_visitor_is_told_to_scan_and_bind(client, factory, db):
    stranger = factory.identity(None)
    db.session.commit()
    login(client, stranger)
    for path in ("/m/my", "/m/materials"):
        res = client.get(path)
        assert res.status_code == 200 and "请先绑定身份" in res.get_data(as_text=True)
        assert "扫描" in res.get_data(as_text=True)


def test_anonymous_visitor_goes_through_wechat_oauth(client):
    res = client.get("/m/my")
    assert res.status_code == 302 and "oauth2/authorize" in res.headers["Location"]
