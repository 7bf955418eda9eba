"""The official-account callback, end to end through the simulator's phone."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from app.services import links
from app.services.codes.scenes import make_scene
from app.services.identity.binding import bind, get_or_create_identity
from models import SignIn, SignInDenial


@pytest.fixture
def meeting(factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    m = factory.meeting("CBTEST", title="全区经济工作会议")
    zhang = factory.contact(unit, name="张三", phone="13800138000")
    li = factory.contact(unit, name="李四", phone="13900139000")
    factory.invitee(m, zhang)
    factory.invitee(m, li)
    return m


def scan(sim, openid, meeting, position=1):
    return sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(meeting.code, position))])


def bind_openid(openid, unit, name, phone):
    identity = get_or_create_identity(oa_openid=openid)
    bind(identity, unit_text=unit, name=name, phone=phone, ip=None)


def test_bound_attendee_is_signed_in_at_once(db, sim, meeting):
    bind_openid("o-zhang", "发改局", "张三", "13800138000")
    reply = scan(sim, "o-zhang", meeting)
    assert reply.delivered and reply.attempts == 1
    assert reply.text.startswith("签到成功！张三（区发展和改革局），您是第 1 位签到")
    assert "http://huiyi.test/m/CBTEST" in reply.text
    sim.clock.advance(2)  # a real second scan, not a retry of the first (same CreateTime)
    again = scan(sim, "o-zhang", meeting)
    assert again.text.startswith("您已签到，无需重复扫码") and "第 1 位" in again.text
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_subscribe_with_qrscene_signs_in(db, sim, meeting):
    bind_openid("o-li", "FGJ", "李四", "13900139000")
    reply = sim.phone.post_event("o-li", [("Event", "subscribe"),
                                          ("EventKey", "qrscene_" + make_scene(meeting.code))])
    assert reply.text.startswith("签到成功！李四")


def test_following_through_a_code_that_is_not_ours_is_welcomed(db, sim, meeting):
    """A channel code or an old poster: the newcomer is welcomed, not told their code is wrong; a SCAN
    of such a code by a follower still says it is not a sign-in code."""
    follow = sim.phone.post_event("o-new", [("Event", "subscribe"), ("EventKey", "qrscene_channel_2026")])
    assert follow.text.startswith("感谢关注")
    sim.clock.advance(2)
    scan_it = sim.phone.post_event("o-new", [("Event", "SCAN"), ("EventKey", "channel_2026")])
    assert "不是会议签到码" in scan_it.text


def test_unbound_user_gets_bind_link_without_openid(app, db, sim, meeting):
    reply = scan(sim, "oUNBOUNDopenid123", meeting)
    assert "首次签到需核对身份" in reply.text
    assert "oUNBOUNDopenid123" not in reply.text
    href = reply.text.split('href="')[1].split('"')[0]
    token = parse_qs(urlsplit(href.replace("&amp;", "&")).query)["t"][0]
    ticket = links.read_bind_token(app.config["SECRET_KEY"], token)
    assert (ticket.oa_openid, ticket.meeting_code, ticket.session_position) == ("oUNBOUNDopenid123", "CBTEST", 1)
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 0


def test_not_invited_gets_clear_message_and_denial_is_kept(db, sim, meeting, factory):
    outsider = factory.contact(factory.unit("CZJ", "区财政局"), name="王五", phone="13700137000")
    bind_openid("o-wang", "CZJ", "王五", outsider.phone)
    reply = scan(sim, "o-wang", meeting)
    assert "不在本次会议的参会名单中" in reply.text and "会务组" in reply.text
    assert db.session.scalar(select(SignInDenial.reason)) == "not_invited"


def test_unknown_scene_and_meeting(db, sim, meeting):
    assert "不是会议签到码" in sim.phone.post_event("o-x", [("Event", "SCAN"), ("EventKey", "123")]).text
    assert "找不到该会议" in sim.phone.post_event(
        "o-x", [("Event", "SCAN"), ("EventKey", make_scene("NOSUCH"))]).text


def test_text_and_click_get_a_polite_default(db, sim, meeting):
    assert "扫描会场" in sim.phone.send_text("o-x", "你好").text
    assert "扫描会场" in sim.phone.click_menu("o-x", "MY_MEETINGS").text


def test_safe_mode_round_trip(db, sim, meeting, safe_mode):
    bind_openid("o-zhang", "发改局", "张三", "13800138000")
    reply = scan(sim, "o-zhang", meeting)
    assert "<Encrypt>" in reply.request_body and "o-zhang" not in reply.request_body
    assert reply.text.startswith("签到成功！张三")


def test_retry_does_no_double_work(db, sim, meeting, monkeypatch):
    """WeChat resends when the first answer is late; the copy gets the same reply, no second run."""
    import time

    import wechat_handlers.scan_lane as scan_lane

    bind_openid("o-zhang", "发改局", "张三", "13800138000")
    calls = []
    original = scan_lane.sign_in_scans

    def slow_sign_in(scans, pipe=None):
        calls.append([s.openid for s in scans])
        if len(calls) == 1:
            time.sleep(2.0)  # past the 1st attempt's timeout; done within the 3rd's, with a second to spare
        return original(scans, pipe)

    monkeypatch.setattr(scan_lane, "sign_in_scans", slow_sign_in)
    sim.config.callback_timeout = 1.0
    reply = scan(sim, "o-zhang", meeting)
    sim.phone.wait_idle()
    assert reply.attempts >= 2
    assert len(calls) == 1
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
    assert reply.text and reply.text.startswith("签到成功")


def test_with_redis_down_a_scan_still_signs_in_and_answers(app, db, sim, meeting, monkeypatch):
    """Redis holds only the retry bookkeeping and the live screens' feed: without it the sign-in is
    still stored and acknowledged at once (the screens rebuild from the database)."""
    import time

    from app.extensions import redis_client

    bind_openid("o-zhang", "发改局", "张三", "13800138000")
    monkeypatch.setitem(app.extensions, "redis", redis_client("redis://127.0.0.1:1/0"))  # nothing listens
    started = time.monotonic()
    reply = scan(sim, "o-zhang", meeting)
    assert reply.attempts == 1 and time.monotonic() - started < 2
    assert reply.text.startswith("签到成功！张三（区发展和改革局），您是第 1 位签到")
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1
