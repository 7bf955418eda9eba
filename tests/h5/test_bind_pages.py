"""The binding page reached from a scan's reply: new user to signed in, and the ways it can go wrong."""

from __future__ import annotations

import json
import re
import time

from sqlalchemy import func, select

from app.services import links, ratelimit
from app.services.identity.binding import FAIL_WINDOW_S, FAILS_PER_OPENID, bind, get_or_create_identity
from app.services.meetings.log import audit_page
from models import AuditLog, SignIn, SignInDenial, WechatIdentity
from tests.h5.conftest import ZHANG, form_value, reply_link, scan


def test_new_user_scans_binds_and_is_signed_in(db, client, sim, meeting):
    reply = scan(sim, "o-newcomer", meeting)
    assert "首次签到需核对身份" in reply.text
    link = reply_link(reply.text)
    assert link.startswith("/m/bind?t=") and "o-newcomer" not in link

    page = client.get(link)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "全区经济工作会议" in body and "确认并签到" in body
    assert 'inputmode="tel"' in body and 'name="viewport"' in body

    res = client.post("/m/bind", data={"t": form_value(body, "t"), **ZHANG})
    assert res.status_code == 302 and res.headers["Location"] == "/m/H5TEST/done?s=1"
    record = db.session.scalar(select(SignIn))
    assert record.method == "h5" and record.seq == 1 and record.contact.name == "张三"
    identity = db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == "o-newcomer"))
    assert identity.contact_id == record.contact_id

    done = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "签到成功" in done and "第 1 位" in done and "区发展和改革局" in done and "张三" in done
    # Later visits (a refresh) no longer claim it just happened.
    assert "您已签到" in client.get("/m/H5TEST/done?s=1").get_data(as_text=True)

    sim.clock.advance(2)  # a real second scan, not WeChat retrying the first
    again = scan(sim, "o-newcomer", meeting)
    assert again.text.startswith("您已签到") and "第 1 位" in again.text
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_second_scan_after_binding_needs_no_typing_and_signs_in(db, client, sim, meeting, factory):
    """Bound on the page for one session, the next session's scan signs in straight away."""
    from models import MeetingSession

    # No agenda: its next item would put a headline first in the reply at some hours of the day.
    meeting.agenda = []
    s2 = MeetingSession(meeting_id=meeting.id, position=2, title="下午分组讨论", starts_at=meeting.starts_at,
                        ends_at=meeting.ends_at, signin_opens_at=meeting.sessions[0].signin_opens_at,
                        signin_closes_at=meeting.ends_at)
    db.session.add(s2)
    db.session.flush()
    link = reply_link(scan(sim, "o-newcomer", meeting).text)
    client.post("/m/bind", data={"t": form_value(client.get(link).get_data(as_text=True), "t"), **ZHANG})
    sim.clock.advance(2)
    reply = scan(sim, "o-newcomer", meeting, position=2)
    assert reply.text.startswith("签到成功！张三（区发展和改革局），您是第 1 位签到")


def test_expired_and_forged_tokens(app, client, meeting):
    key = app.config["SECRET_KEY"]
    payload = json.dumps({"o": "o-x", "m": meeting.code, "s": 1}).encode()
    old = links._fernet(key, "bind").encrypt_at_time(payload, int(time.time()) - links.BIND_TTL_S - 60).decode()
    res = client.get(f"/m/bind?t={old}")
    assert res.status_code == 410 and "链接已过期，请重新扫描会议二维码" in res.get_data(as_text=True)
    assert 'href="/m/my"' in res.get_data(as_text=True)  # a way on, not a dead end
    res = client.post("/m/bind", data={"t": old, **ZHANG})
    assert res.status_code == 410

    for forged in ("", "abc", old[:-4] + "AAAA", links.make_bind_token("other-key", oa_openid="o-x",
                                                                        meeting_code=meeting.code,
                                                                        session_position=1)):
        res = client.get(f"/m/bind?t={forged}")
        assert res.status_code == 400 and "链接无效，请重新扫描会议二维码" in res.get_data(as_text=True)
        assert client.post("/m/bind", data={"t": forged, **ZHANG}).status_code == 400


def _token(app, openid="o-newcomer", code="H5TEST"):
    return links.make_bind_token(app.config["SECRET_KEY"], oa_openid=openid, meeting_code=code,
                                 session_position=1)


def test_mismatch_rerenders_with_message_and_typed_values(app, db, client, meeting):
    token = _token(app)
    res = client.post("/m/bind", data={"t": token, "unit_text": "发改局", "name": "张三", "phone": "13800138009"})
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "单位、姓名或手机号与通讯录不一致" in body
    assert form_value(body, "unit_text") == "发改局" and form_value(body, "phone") == "13800138009"
    assert form_value(body, "t") == token
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
    # The failed attempt is on record (committed despite the error answer).
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "identity.bind_failed"))


def _answer(res) -> tuple[int, str]:
    """A bind page's answer with what the visitor typed (and their link) blanked out."""
    return res.status_code, re.sub(r'value="[^"]*"', 'value=""', res.get_data(as_text=True))


def test_bound_contact_cannot_be_taken_over_nor_confirmed(app, db, client, meeting, redis_client):
    """A stranger typing a real person already bound to another WeChat gets a wrong identity's
    answer, page for page; the organizers' log shows the attempt, naming the person."""
    bind(get_or_create_identity(oa_openid="o-owner"), unit_text="FGJ", name="张三", phone="13800138000", ip=None)
    wrong = client.post("/m/bind", data={"t": _token(app, "o-wrong"), **ZHANG, "name": "张四"})
    taken = client.post("/m/bind", data={"t": _token(app, "o-thief"), **ZHANG})
    assert _answer(taken) == _answer(wrong)
    assert taken.status_code == 400 and "单位、姓名或手机号与通讯录不一致" in taken.get_data(as_text=True)
    assert "已绑定" not in taken.get_data(as_text=True)
    owner = db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == "o-owner"))
    thief = db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == "o-thief"))
    assert owner.contact_id is not None and thief.contact_id is None
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
    # Counted as a wrong identity is, and on record (committed despite the error answer).
    assert [ratelimit.count(f"bind:openid:{o}", FAIL_WINDOW_S) for o in ("o-wrong", "o-thief")] == [1, 1]
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "identity.bind_taken"))
    assert row.meeting_id == meeting.id and row.target == f"contact:{owner.contact_id}" and row.ip == "127.0.0.1"
    logged = [r for r in audit_page(meeting).rows if r["action"] == "identity.bind_taken"]
    assert len(logged) == 1 and logged[0]["label"] == "绑定被拒：该人员已绑定其他微信"
    assert logged[0]["target"] == "张三（区发展和改革局）" and logged[0]["actor"] == "参会人员（微信）"


def test_the_attempt_before_the_last_warns(app, db, client, meeting, redis_client):
    token = _token(app, "o-typo")
    warned = []
    for i in range(FAILS_PER_OPENID):
        res = client.post("/m/bind", data={"t": token, **ZHANG, "phone": f"1380013801{i}"})
        assert res.status_code == 400
        warned.append("还可尝试 1 次，再次失败将暂时锁定（最长 30 分钟）" in res.get_data(as_text=True))
    assert warned == [False, False, False, True, False]
    res = client.post("/m/bind", data={"t": token, **ZHANG})
    assert res.status_code == 429


def test_not_on_the_list_is_told_and_the_denial_kept(app, db, client, meeting, factory):
    factory.contact(factory.unit("CZJ", "区财政局"), name="王五", phone="13700137000")
    res = client.post("/m/bind", data={"t": _token(app, "o-wang"), "unit_text": "区财政局", "name": "王五",
                                       "phone": "13700137000"})
    assert res.status_code == 400 and "不在本次会议的参会名单中" in res.get_data(as_text=True)
    assert db.session.scalar(select(SignInDenial.reason)) == "not_invited"


def test_rate_limited_after_repeated_failures(app, db, client, meeting):
    token = _token(app, "o-guesser")
    for i in range(5):
        client.post("/m/bind", data={"t": token, "unit_text": "发改局", "name": "张三", "phone": f"1380013801{i}"})
    res = client.post("/m/bind", data={"t": token, **ZHANG})
    assert res.status_code == 429 and "尝试次数过多" in res.get_data(as_text=True)


def test_client_ip_respects_forwarded_for_only_when_trusted(app, db, client, meeting, monkeypatch):
    headers = {"X-Forwarded-For": "1.2.3.4, 5.6.7.8"}
    client.post("/m/bind", data={"t": _token(app, "o-a"), "unit_text": "x", "name": "张三", "phone": "13800138009"},
                headers=headers)
    monkeypatch.setitem(app.config, "TRUST_PROXY", True)
    client.post("/m/bind", data={"t": _token(app, "o-b"), "unit_text": "x", "name": "张三", "phone": "13800138009"},
                headers=headers)
    ips = db.session.scalars(select(AuditLog.ip).where(AuditLog.action == "identity.bind_failed")
                             .order_by(AuditLog.id)).all()
    assert ips == ["127.0.0.1", "5.6.7.8"]


def test_post_without_csrf_token_is_refused(app, db, client, meeting, monkeypatch):
    db.session.commit()  # an error answer rolls the request's work back; keep the test's data
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    res = client.post("/m/bind", data={"t": _token(app), **ZHANG})
    assert res.status_code == 400 and "页面已过期" in res.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0
    # With the token the page renders, the same form goes through.
    page = client.get(f"/m/bind?t={_token(app)}").get_data(as_text=True)
    res = client.post("/m/bind", data={"t": _token(app), "csrf_token": form_value(page, "csrf_token"), **ZHANG})
    assert res.status_code == 302


def test_names_are_escaped_on_the_result_page(app, db, client, factory):
    unit = factory.unit("XSS", "<i>单位</i>")
    m = factory.meeting("XSSMTG", title="<img src=x onerror=alert(2)>")
    evil = factory.contact(unit, name="<script>alert(1)</script>", phone="13600136000")
    factory.invitee(m, evil)
    identity = factory.identity(evil)
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in

    sign_in(m, get_session(m), evil, method="h5")
    with client.session_transaction() as s:
        s["identity_id"] = identity.id
    body = client.get("/m/XSSMTG/done").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>" not in body
    assert "&lt;i&gt;单位&lt;/i&gt;" in body and "<img" not in body
