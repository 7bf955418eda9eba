"""Desktop login to the console by WeChat scan: the PC's page and poll, the scan through the
simulator's phone into the callback, the phone's confirmation, single use, expiry, the binding to
one browser, and logout ending the session on the server."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import quote, urlsplit

import pytest
from sqlalchemy import select

from app.extensions import get_redis
from app.services.codes.scenes import make_login_scene, parse_login_scene, parse_mp_scene, parse_scene
from app.services.identity import desktop_login
from app.web.console_auth import DESKTOP_SESSION_KEY
from models import AuditLog, SystemAdmin
from tests.console.conftest import login_as

WECHAT_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) MicroMessenger/8.0.50"
EXPIRED = "登录二维码已失效，请在电脑上刷新二维码后重新扫码"
NOT_SCANNER = "只有扫描该登录二维码的微信才能确认此次登录"


# -- helpers: the PC, the phone -------------------------------------------------------------------


def open_login(client, next_path: str | None = None) -> str:
    """The PC opens the login page; returns its tab's attempt id (``a``)."""
    res = client.get("/admin/login" + (f"?next={quote(next_path, safe='')}" if next_path else ""))
    assert res.status_code == 200, res.get_data(as_text=True)
    page = res.get_data(as_text=True)
    assert "请使用微信扫码登录会务后台" in page and "刷新二维码" in page
    return re.search(r"/admin/login/qr\.png\?a=([0-9a-f]{8})", page).group(1)


def token_of(client, aid: str) -> str:
    with client.session_transaction() as s:
        return s["console_login"][aid]


def scan(sim, client, aid: str, who: str):
    """The phone scans the QR the PC shows (the PNG decoded, as a camera would)."""
    png = client.get(f"/admin/login/qr.png?a={aid}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    return sim.phone.scan(who, png=png.data)


def confirm_path(reply) -> str:
    href = html.unescape(re.search(r'href="([^"]+)"', reply.text).group(1))
    assert href.startswith("http://huiyi.test/admin/login/confirm?t=")
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


def poll(client, aid: str) -> dict:
    res = client.get(f"/admin/login/poll?a={aid}")
    assert res.status_code == 200
    return res.get_json()


def phone_browser(app, console, who: str):
    """WeChat's browser on ``who``'s phone, with the session WeChat OAuth leaves."""
    phone = app.test_client()
    login_as(phone, console, who)
    return phone


def post_form(client, path: str, token: str):
    return client.post(path, data={"t": token}, headers={"User-Agent": WECHAT_UA})


def openid(console, who: str) -> str:
    return console.identities[who].oa_openid


def logged_in_pc(app, console, sim, next_path: str | None = None):
    """A PC that went through the whole login as the owner."""
    pc = app.test_client()
    aid = open_login(pc, next_path)
    link = confirm_path(scan(sim, pc, aid, openid(console, "owner")))
    post_form(phone_browser(app, console, "owner"), "/admin/login/confirm", parse_token(link))
    assert poll(pc, aid)["state"] == "confirmed"
    return pc


def parse_token(path: str) -> str:
    return path.split("t=", 1)[1]


def audit(db, action: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action)))


# -- scenes ---------------------------------------------------------------------------------------


def test_login_scene_never_reads_as_a_meeting_code():
    token = "A" * 32
    scene = make_login_scene(token)
    assert len(scene) <= 64 and parse_login_scene(scene) == token
    assert parse_scene(scene) is None and parse_mp_scene(scene) is None
    assert parse_login_scene("m:CON1:1") is None and parse_login_scene("login:short") is None
    with pytest.raises(ValueError):
        make_login_scene("bad token!")


# -- the whole flow -------------------------------------------------------------------------------


def test_scan_confirm_poll_logs_the_pc_in(app, db, sim, console):
    pc = app.test_client()
    assert pc.get("/admin/CON1").headers["Location"] == "/admin/login?next=/admin/CON1"
    aid = open_login(pc, "/admin/CON1")
    assert poll(pc, aid) == {"state": "waiting"}

    # The phone scans for the first time: WeChat posts subscribe with EventKey qrscene_login:…
    reply = scan(sim, pc, aid, openid(console, "owner"))
    assert reply.delivered and "qrscene_login:" in reply.plaintext_request
    assert "确认登录到电脑端？" in reply.text and "主办王" in reply.text
    assert "不是会议签到码" not in reply.text
    link = confirm_path(reply)
    assert poll(pc, aid) == {"state": "scanned"}

    # The reply's link opened in WeChat: OAuth through the simulator, then the confirmation page.
    phone = app.test_client()
    page = phone.get(link, headers={"User-Agent": WECHAT_UA})
    assert page.status_code == 302 and page.headers["Location"].startswith("http://wechat.sim/connect/oauth2/authorize")
    authorize = urlsplit(page.headers["Location"])
    back = sim.app.test_client().get(f"{authorize.path}?{authorize.query}&sim_openid={openid(console, 'owner')}")
    back_to = urlsplit(back.headers["Location"])
    assert back_to.path == "/m/oauth"
    landed = phone.get(f"{back_to.path}?{back_to.query}", headers={"User-Agent": WECHAT_UA})
    assert landed.headers["Location"] == link
    page = phone.get(link, headers={"User-Agent": WECHAT_UA})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "会易 · 会务后台" in text and "确认登录" in text and "取消" in text and "主办王" in text

    done = post_form(phone, "/admin/login/confirm", parse_token(link))
    assert done.status_code == 302
    assert "已确认登录" in phone.get(link, headers={"User-Agent": WECHAT_UA}).get_data(as_text=True)

    assert poll(pc, aid) == {"state": "confirmed", "next": "/admin/CON1"}
    assert pc.get("/admin/CON1").status_code == 200  # the owner's console page, on the PC
    assert pc.get("/admin/login").headers["Location"] == "/admin"  # logged in: no new code
    [confirmed] = audit(db, "console.login_confirmed")
    [login] = audit(db, "console.login")
    assert confirmed.actor == login.actor == f"contact:{console.owner.id}"
    assert confirmed.ip == login.ip == "127.0.0.1"


def test_the_code_is_single_use(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    link = confirm_path(scan(sim, pc, aid, openid(console, "owner")))
    token = parse_token(link)
    phone = phone_browser(app, console, "owner")
    assert post_form(phone, "/admin/login/confirm", token).status_code == 302
    second = post_form(phone, "/admin/login/confirm", token)
    assert second.status_code == 409 and "无需重复操作" in second.get_data(as_text=True)

    # A copy of the PC's cookie taken before the login: of the two polls, one wins.
    copy = app.test_client()
    with pc.session_transaction() as original, copy.session_transaction() as s:
        s.update(original)
    assert poll(copy, aid)["state"] == "confirmed"
    assert poll(pc, aid) == {"state": "expired"}
    assert poll(copy, aid) == {"state": "expired"}  # and not twice either
    assert len(audit(db, "console.login")) == 1

    third = post_form(phone, "/admin/login/confirm", token)
    assert third.status_code == 410 and EXPIRED in third.get_data(as_text=True)
    sim.clock.advance(2)  # a new scan of the same code, not WeChat's retry of the first
    assert sim.phone.scan(openid(console, "owner"), url=desktop_login.get_attempt(token).qr_url).text == EXPIRED
    assert pc.get(f"/admin/login/qr.png?a={aid}").status_code == 410  # the new session holds no attempt


def test_an_expired_code_is_refused_everywhere(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    token = token_of(pc, aid)
    owner = console.identities["owner"]
    later = time.time() + desktop_login.ATTEMPT_TTL_S + 1

    # By the clock: the service is asked as if five minutes had passed.
    with pytest.raises(desktop_login.DesktopLoginError) as err:
        desktop_login.scan(token, owner, now=later)
    assert err.value.code == "attempt_expired"
    desktop_login.scan(token, owner)
    with pytest.raises(desktop_login.DesktopLoginError):
        desktop_login.confirm(token, owner, ip=None, now=later)
    desktop_login.confirm(token, owner, ip=None)
    assert desktop_login.poll(token, ip=None, now=later).state == "expired"
    assert desktop_login.get_attempt(token).state == "confirmed"  # the late poll did not use it up

    # By Redis: the attempt's time is over.
    get_redis().hset(f"huiyi:login:{token}", "expires", repr(time.time() - 1))
    assert poll(pc, aid) == {"state": "expired"}
    assert "已失效" in pc.get(f"/admin/login/qr.png?a={aid}").get_data(as_text=True)
    # And gone: Redis dropped the key.
    aid = open_login(pc)
    get_redis().delete(f"huiyi:login:{token_of(pc, aid)}")
    assert poll(pc, aid) == {"state": "expired"}
    confirm_page = phone_browser(app, console, "owner").get(f"/admin/login/confirm?t={token_of(pc, aid)}")
    assert confirm_page.status_code == 410 and EXPIRED in confirm_page.get_data(as_text=True)


def test_a_scan_after_expiry_is_told_to_refresh(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    png = pc.get(f"/admin/login/qr.png?a={aid}").data
    get_redis().delete(f"huiyi:login:{token_of(pc, aid)}")
    assert sim.phone.scan(openid(console, "owner"), png=png).text == EXPIRED


def test_another_browser_cannot_finish_the_login(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    other = app.test_client()
    open_login(other)  # a browser with attempts of its own
    assert poll(other, aid) == {"state": "expired"}
    assert other.get(f"/admin/login/qr.png?a={aid}").status_code == 410
    link = confirm_path(scan(sim, pc, aid, openid(console, "owner")))
    post_form(phone_browser(app, console, "owner"), "/admin/login/confirm", parse_token(link))
    assert poll(other, aid) == {"state": "expired"}
    assert other.get("/admin/CON1").status_code == 302
    # A desktop browser that opens the confirm link is sent to log in itself, not let in.
    assert other.get(link).headers["Location"].startswith("/admin/login?next=")
    assert poll(pc, aid)["state"] == "confirmed"


def test_only_the_scanner_may_confirm(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    link = confirm_path(scan(sim, pc, aid, openid(console, "owner")))
    token = parse_token(link)
    staff = phone_browser(app, console, "staff")
    page = staff.get(link)
    assert page.status_code == 403 and NOT_SCANNER in page.get_data(as_text=True)
    assert "确认登录</button>" not in page.get_data(as_text=True)
    for path in ("/admin/login/confirm", "/admin/login/cancel"):
        refused = post_form(staff, path, token)
        assert refused.status_code == 403 and NOT_SCANNER in refused.get_data(as_text=True)
    assert poll(pc, aid) == {"state": "scanned"}
    # A second WeChat scanning the same code is refused too; the first scanner keeps it.
    assert "已被其他微信扫描" in scan(sim, pc, aid, openid(console, "staff")).text
    post_form(phone_browser(app, console, "owner"), "/admin/login/confirm", token)
    assert poll(pc, aid)["state"] == "confirmed"
    with pc.session_transaction() as s:
        assert s["identity_id"] == console.identities["owner"].id


def test_people_without_console_access_are_refused_at_the_scan(app, db, sim, console, factory):
    pc = app.test_client()
    aid = open_login(pc)
    reply = scan(sim, pc, aid, openid(console, "stranger"))
    assert "不是任何会议的会务人员" in reply.text and "href" not in reply.text
    unbound = scan(sim, pc, aid, "o-not-bound-anyone")
    assert "尚未绑定通讯录" in unbound.text and "href" not in unbound.text
    assert poll(pc, aid) == {"state": "waiting"}  # the code still works for the right person
    assert [a.actor for a in audit(db, "console.login_refused")] == [f"contact:{console.stranger.id}"]

    # A viewer of one meeting, a unit's organizer and a system administrator all get in.
    admin = factory.contact(console.unit, name="管理员孙")
    db.session.add(SystemAdmin(contact_id=admin.id))
    factory.identity(admin, oa_openid="o_admin_only")
    db.session.commit()
    for who in (openid(console, "viewer"), openid(console, "outsider"), "o_admin_only"):
        pc = app.test_client()
        reply = scan(sim, pc, open_login(pc), who)
        assert "确认登录到电脑端？" in reply.text, who


def test_cancel_on_the_phone(app, db, sim, console):
    pc = app.test_client()
    aid = open_login(pc)
    token = parse_token(confirm_path(scan(sim, pc, aid, openid(console, "owner"))))
    phone = phone_browser(app, console, "owner")
    assert post_form(phone, "/admin/login/cancel", token).status_code == 302
    assert "已取消本次登录" in phone.get(f"/admin/login/confirm?t={token}").get_data(as_text=True)
    assert poll(pc, aid) == {"state": "cancelled"}
    late = post_form(phone, "/admin/login/confirm", token)
    assert late.status_code == 409
    assert poll(pc, aid) == {"state": "cancelled"}
    [cancelled] = audit(db, "console.login_cancelled")
    assert cancelled.actor == f"contact:{console.owner.id}" and cancelled.ip == "127.0.0.1"
    assert audit(db, "console.login") == []


def test_logout_ends_the_session_on_the_server(app, db, sim, console):
    pc = logged_in_pc(app, console, sim)
    assert pc.get("/admin/CON1").status_code == 200
    copied = app.test_client()
    with pc.session_transaction() as original, copied.session_transaction() as s:
        s.update(original)
        assert original[DESKTOP_SESSION_KEY]
    assert copied.get("/admin/CON1").status_code == 200

    out = pc.post("/admin/logout")
    assert out.status_code == 302 and out.headers["Location"] == "/admin/login"
    assert len(audit(db, "console.logout")) == 1
    res = copied.get("/admin/CON1")
    assert res.status_code == 302 and res.headers["Location"].startswith("/admin/login?next=")
    assert pc.get("/admin/CON1").status_code == 302
    # The copied cookie does not count as logged in on the login page either: it gets a new code.
    assert copied.get("/admin/login").status_code == 200

    # A WeChat OAuth session (the phone's browser) has no server-side part and keeps working.
    phone = phone_browser(app, console, "owner")
    assert phone.get("/admin/CON1").status_code == 200


def test_desktop_session_is_renewed_at_most_once_a_minute(app, db, console):
    owner = console.identities["owner"]
    now = 1_900_000_000.0
    sid = desktop_login.open_session(owner, now=now)
    key = f"huiyi:console:session:{sid}"
    r = get_redis()
    r.expire(key, 100)
    assert desktop_login.session_alive(sid, owner.id, now=now + 30)
    assert r.ttl(key) <= 100  # within the minute: read only
    assert desktop_login.session_alive(sid, owner.id, now=now + 61)
    assert r.ttl(key) > desktop_login.SESSION_TTL_S - 10  # renewed
    assert not desktop_login.session_alive(sid, console.identities["staff"].id, now=now + 62)
    desktop_login.end_session(sid, None, ip=None)
    assert not desktop_login.session_alive(sid, owner.id, now=now + 200)
    assert r.get(key) is None  # the check after logout did not bring it back


def test_login_page_next_and_logged_in_visitors(app, db, sim, console):
    pc = app.test_client()
    for bad in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "/admin/login?next=/admin"):
        res = pc.get("/admin/login?next=" + quote(bad, safe=""))
        assert res.status_code == 200
        assert 'href="/admin/login?next=/admin"' in res.get_data(as_text=True)  # the refresh link goes home
    login_as(pc, console, "owner")
    assert pc.get("/admin/login?next=/admin/CON1").headers["Location"] == "/admin/CON1"
    assert pc.get("/admin/login?next=//evil.example/").headers["Location"] == "/admin"
    # WeChat's own browser logs in by OAuth, not by scanning itself.
    res = app.test_client().get("/admin/login?next=/admin/CON1", headers={"User-Agent": WECHAT_UA})
    assert res.status_code == 302 and "/connect/oauth2/authorize" in res.headers["Location"]


def test_two_tabs_of_one_browser_each_keep_their_code(app, db, sim, console):
    pc = app.test_client()
    first, second = open_login(pc), open_login(pc)
    assert token_of(pc, first) != token_of(pc, second)
    link = confirm_path(scan(sim, pc, first, openid(console, "owner")))
    assert poll(pc, second) == {"state": "waiting"} and poll(pc, first) == {"state": "scanned"}
    post_form(phone_browser(app, console, "owner"), "/admin/login/confirm", parse_token(link))
    assert poll(pc, first)["state"] == "confirmed"


def test_bad_input_gets_a_clear_answer(app, db, sim, console):
    pc = app.test_client()
    assert poll(pc, "nope") == {"state": "expired"}
    assert app.test_client().get("/admin/login/poll").get_json() == {"state": "expired"}
    assert pc.get("/admin/login/qr.png").status_code == 410
    phone = phone_browser(app, console, "owner")
    for token in ("", "x", "<script>", "A" * 32):
        res = phone.get(f"/admin/login/confirm?t={quote(token)}")
        assert res.status_code == 410 and EXPIRED in res.get_data(as_text=True)
        res = post_form(phone, "/admin/login/confirm", token)
        assert res.status_code == 410 and EXPIRED in res.get_data(as_text=True)
    assert phone.post("/admin/login/confirm").status_code == 410
    # The scan handler answers a well-formed but unknown login code, never "not a meeting code".
    reply = sim.phone.post_event(openid(console, "owner"), [("Event", "SCAN"), ("EventKey", make_login_scene("B" * 32))])
    assert reply.text == EXPIRED


def test_rate_limit_and_wechat_down_answer_in_chinese(app, db, sim, console, monkeypatch):
    from app.wechat import WeChatUnavailable

    monkeypatch.setattr(desktop_login, "ATTEMPTS_PER_IP", 2)
    pc = app.test_client()
    open_login(pc)
    open_login(pc)
    res = pc.get("/admin/login")
    assert res.status_code == 429 and "刷新二维码过于频繁" in res.get_data(as_text=True)

    get_redis().flushdb()

    def down(*_a, **_k):
        raise WeChatUnavailable(None, "timeout")

    monkeypatch.setattr(type(app.extensions["wechat_oa"]), "create_qrcode_str_scene", down)
    res = pc.get("/admin/login")
    assert res.status_code == 503 and "暂时无法生成登录二维码" in res.get_data(as_text=True)
