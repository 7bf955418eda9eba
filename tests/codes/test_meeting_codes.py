"""Meeting codes through the simulator: the official-account QR (made, reused, renewed, scanned end to
end), the mini-program code, the H5 fallback, the rotating screen code."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app.services.codes import meeting_codes
from app.services.codes.scenes import MP_SCENE_MAX, make_mp_scene, make_scene, parse_mp_scene
from app.services.identity.binding import bind, get_or_create_identity
from models import MeetingCode, SignIn
from scripts.wechat_sim import parse_wxacode_payload


def decode(png: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)).convert("L"))
    assert results, "no QR code found in the image"
    return results[0].text


@pytest.fixture
def meeting(factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    m = factory.meeting("QRTEST", title="全区经济工作会议", venue="第一会议室")
    factory.invitee(m, factory.contact(unit, name="张三", phone="13800138000"))
    return m


def codes_count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(MeetingCode))


def test_oa_qr_is_made_then_reused_then_renewed(db, sim, meeting):
    session = meeting.sessions[0]
    now = datetime.now(UTC)
    first = meeting_codes.oa_qr(meeting, session, now=now)
    assert first.kind == "oa_qr" and first.scene == make_scene("QRTEST", 1) == "m:QRTEST:1"
    created = sim.state.calls["/cgi-bin/qrcode/create"]
    assert created == 1
    # The meeting ends within hours (3.5, or up to 6.5 in the evening: tests/factories.py): the code
    # lives until a day after that, not 30 days.
    lifetime = first.expires_at - now
    assert abs(lifetime - (meeting.ends_at + timedelta(days=1) - now)) < timedelta(seconds=1)
    assert timedelta(hours=27) < lifetime < timedelta(hours=31)

    again = meeting_codes.oa_qr(meeting, session, now=now + timedelta(hours=1))
    assert again.ticket == first.ticket and sim.state.calls["/cgi-bin/qrcode/create"] == 1

    # Less than 10% of its lifetime (a day and some hours) left: renewed (same row, new ticket).
    old_ticket = first.ticket
    later = lifetime - lifetime / 12
    sim.clock.advance(later.total_seconds())
    renewed = meeting_codes.oa_qr(meeting, session, now=now + later)
    assert renewed.id == first.id and renewed.ticket != old_ticket
    # (the access token expired on the moved clock too: one refused call, then the code)
    assert len(sim.state.qrcodes) == 2
    assert codes_count(db) == 1


def test_oa_qr_lifetime_is_capped_at_30_days(db, sim, factory):
    m = factory.meeting("FAR", starts_at=datetime.now(UTC) + timedelta(days=60))
    code = meeting_codes.oa_qr(m, m.sessions[0])
    assert code.extra["lifetime"] == 30 * 86400
    assert sim.state.qrcodes[code.ticket].expire_at - sim.state.qrcodes[code.ticket].created_at == 30 * 86400


def test_oa_qr_made_for_another_account_is_replaced(db, sim, meeting):
    session = meeting.sessions[0]
    code = meeting_codes.oa_qr(meeting, session)
    old_ticket = code.ticket
    code.extra = {**code.extra, "app_id": "wx_some_other_account"}
    db.session.flush()
    assert meeting_codes.oa_qr(meeting, session).ticket != old_ticket
    assert sim.state.calls["/cgi-bin/qrcode/create"] == 2


def test_showqrcode_image_decodes_and_scanning_it_signs_a_bound_invitee_in(db, sim, meeting):
    from app.wechat import oa_api

    code = meeting_codes.oa_qr(meeting, meeting.sessions[0])
    image = oa_api().qrcode_image(code.ticket)
    assert decode(image) == code.url
    # Our own rendering of the same code (posters, qr.png) carries exactly the same URL.
    assert decode(meeting_codes.qr_png(meeting, meeting.sessions[0])) == code.url

    identity = get_or_create_identity(oa_openid="o-zhang")
    bind(identity, unit_text="发改局", name="张三", phone="13800138000", ip=None)
    reply = sim.phone.scan("o-zhang", png=image)  # the phone reads the image, as a camera would
    assert "EventKey><![CDATA[qrscene_m:QRTEST:1]]>" in reply.plaintext_request
    assert reply.text.startswith("签到成功！张三（区发展和改革局）")
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 1

    sim.clock.advance(2)
    by_ticket = sim.phone.scan("o-zhang", ticket=code.ticket)  # already following: a SCAN event
    assert "<Event><![CDATA[SCAN]]>" in by_ticket.plaintext_request
    assert by_ticket.text.startswith("您已签到")


def test_newcomer_scanning_gets_the_binding_link(db, sim, meeting):
    code = meeting_codes.oa_qr(meeting, meeting.sessions[0])
    reply = sim.phone.scan("o-new-person", ticket=code.ticket)
    assert "首次签到需核对身份" in reply.text and "http://huiyi.test/m/bind?t=" in reply.text


def test_fallback_to_h5_qr_when_wechat_refuses(db, sim, meeting, caplog, monkeypatch, redis_client):
    sim.state.inject_error("/cgi-bin/qrcode/create", 45009)  # quota reached: no retry
    session = meeting.sessions[0]
    static = meeting_codes.static_code(meeting, session)
    assert static == meeting_codes.StaticCode("http://huiyi.test/m/QRTEST/signin", "h5")
    assert "falling back to the H5 QR" in caplog.text
    assert codes_count(db) == 0
    # For a minute WeChat is not asked again (a screen refreshing must not wait on it each time)...
    assert meeting_codes.static_code(meeting, session).kind == "h5"
    assert sim.state.calls["/cgi-bin/qrcode/create"] == 1
    # ...then it is, and the official-account code is back.
    redis_client.delete(*redis_client.keys("huiyi:oaqr:down:*"))
    assert meeting_codes.static_code(meeting, session).kind == "oa_qr"


def test_fallback_when_wechat_codes_are_switched_off(app, db, sim, meeting, monkeypatch):
    monkeypatch.setitem(app.config, "WECHAT_CODES_ENABLED", False)
    assert decode(meeting_codes.qr_png(meeting, meeting.sessions[0])) == "http://huiyi.test/m/QRTEST/signin"
    assert sim.state.calls["/cgi-bin/qrcode/create"] == 0


def test_mp_code_decodes_to_the_scene_and_page_and_is_cached(app, db, sim, meeting):
    png = meeting_codes.mp_code(meeting, meeting.sessions[0])
    payload = parse_wxacode_payload(decode(png))
    assert payload == {"appid": app.config["MINIPROGRAM_APP_ID"], "scene": "QRTEST.1",
                       "page": "pages/meeting/index", "env_version": "release"}
    assert parse_mp_scene(payload["scene"]).meeting_code == "QRTEST"
    assert meeting_codes.mp_code(meeting, meeting.sessions[0]) == png
    assert sim.state.calls["/wxa/getwxacodeunlimit"] == 1


def test_mp_scene_fits_32_characters(db, sim, factory):
    long_code = "A" * 32
    m = factory.meeting(long_code)
    scene = meeting_codes.mp_scene(m, m.sessions[0])
    assert scene == f"id:{m.id}.1" and len(scene) <= MP_SCENE_MAX
    parsed = parse_mp_scene(scene)
    assert (parsed.meeting_code, parsed.meeting_id, parsed.session_position) == (None, m.id, 1)
    assert make_mp_scene("A" * 30, 7, 1) == "A" * 30 + ".1"  # exactly 32: still the readable form
    assert make_mp_scene("A" * 31, 7, 1) == "id:7.1"
    assert parse_mp_scene("x" * 40) is None and parse_mp_scene("") is None
    # WeChat (the simulator) accepts the long meeting's code.
    assert parse_wxacode_payload(decode(meeting_codes.mp_code(m, m.sessions[0])))["scene"] == scene


def test_rotating_screen_code(app, db, sim, meeting):
    meeting.rotating_qr = True
    now = datetime(2026, 11, 23, 1, 0, 5, tzinfo=UTC)
    payload = meeting_codes.screen_qr_payload(meeting, meeting.sessions[0], now)
    parts = urlsplit(payload)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "http://huiyi.test/m/QRTEST/signin"
    token = parse_qs(parts.query)["r"][0]
    assert meeting_codes.verify_rotating(meeting, token, now + timedelta(seconds=40))  # previous step: ok
    assert not meeting_codes.verify_rotating(meeting, token, now + timedelta(seconds=90))  # a stale photo
    assert not meeting_codes.verify_rotating(meeting, "", now)
    assert sim.state.calls["/cgi-bin/qrcode/create"] == 0


def test_screen_shows_the_oa_qr_without_rotation(db, sim, meeting):
    now = datetime.now(UTC)
    assert meeting_codes.screen_qr_payload(meeting, meeting.sessions[0], now).startswith("http://weixin.qq.com/q/")


def test_poster_carries_the_code(db, sim, meeting):
    png = meeting_codes.poster(meeting, meeting.sessions[0], "png")
    code = meeting_codes.oa_qr(meeting, meeting.sessions[0])
    assert decode(png) == code.url
    pdf = meeting_codes.poster(meeting, meeting.sessions[0], "pdf")
    assert pdf.startswith(b"%PDF")
