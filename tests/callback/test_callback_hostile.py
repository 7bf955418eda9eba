"""Hostile callbacks: each is refused without a 500 and without writing anything."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from app.wechat import crypto
from models import AuditLog, SignIn, SignInDenial, WechatIdentity

TOKEN_KEY = "WECHAT_TOKEN"


def signed_query(app, *, timestamp=None, nonce="n1", extra=None):
    ts = str(timestamp or int(time.time()))
    query = {"timestamp": ts, "nonce": nonce,
             "signature": crypto.signature(app.config[TOKEN_KEY], ts, nonce), "openid": "o-x"}
    query.update(extra or {})
    return query


def event_xml(openid="o-x", key="m:NOSUCH:1", created=None):
    return (f"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{created or int(time.time())}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[{key}]]></EventKey></xml>")


def nothing_written(db):
    for model in (SignIn, SignInDenial, WechatIdentity, AuditLog):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_url_verification(app, client):
    query = signed_query(app) | {"echostr": "4375120948345356249"}
    assert client.get("/wechat/callback", query_string=query).data == b"4375120948345356249"
    query["signature"] = "0" * 40
    assert client.get("/wechat/callback", query_string=query).status_code == 403


def test_official_verification_vector(app, client, monkeypatch):
    """WeChat's documented example: Token AAAAA, timestamp 1714036504, nonce 1514711492."""
    monkeypatch.setitem(app.config, TOKEN_KEY, "AAAAA")
    monkeypatch.setattr("wechat_handlers.envelope.time.time", lambda: 1714036504)
    query = {"signature": "f464b24fc39322e44b38aa78f5edd27bd1441696", "timestamp": "1714036504",
             "nonce": "1514711492", "echostr": "4375120948345356249"}
    assert client.get("/wechat/callback", query_string=query).data == b"4375120948345356249"


def test_forged_signature(app, client, db):
    query = signed_query(app)
    query["signature"] = crypto.signature("not-our-token", query["timestamp"], query["nonce"])
    response = client.post("/wechat/callback", query_string=query, data=event_xml())
    assert response.status_code == 403
    nothing_written(db)


def test_stale_timestamp(app, client, db):
    query = signed_query(app, timestamp=int(time.time()) - 3600)
    assert client.post("/wechat/callback", query_string=query, data=event_xml()).status_code == 403


def test_replayed_nonce_with_another_body(app, client, db):
    query = signed_query(app, nonce="same-nonce")
    first = client.post("/wechat/callback", query_string=query, data=event_xml(openid="o-a"))
    assert first.status_code == 200
    replay = client.post("/wechat/callback", query_string=query, data=event_xml(openid="o-b"))
    assert replay.status_code == 403


def test_identical_replay_gets_the_cached_answer(app, client, db):
    query = signed_query(app, nonce="n-identical")
    body = event_xml(openid="o-a")
    first = client.post("/wechat/callback", query_string=query, data=body)
    second = client.post("/wechat/callback", query_string=query, data=body)
    assert first.status_code == second.status_code == 200
    assert first.data == second.data


@pytest.mark.parametrize("body", [
    # billion laughs
    """<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">
    <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;">]><xml><FromUserName>&lol3;</FromUserName><MsgType>text</MsgType></xml>""",
    # external entity
    """<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
    <xml><FromUserName>o</FromUserName><MsgType>text</MsgType><Content>&xxe;</Content></xml>""",
    "not xml at all",
    "<xml><Nothing/></xml>",
])
def test_unsafe_or_malformed_xml(app, client, db, body):
    response = client.post("/wechat/callback", query_string=signed_query(app), data=body)
    assert response.status_code == 400
    assert b"root:" not in response.data
    nothing_written(db)


def test_ten_megabyte_body(app, client, db):
    body = "<xml>" + "A" * (10 * 1024 * 1024) + "</xml>"
    response = client.post("/wechat/callback", query_string=signed_query(app), data=body)
    assert response.status_code == 413
    nothing_written(db)


def test_garbage_encrypt(app, client, db, safe_mode):
    query = signed_query(app, extra={"encrypt_type": "aes"})
    for garbage in ["bm90IGNpcGhlcnRleHQ=", "!!!not base64!!!", "A" * 64]:
        query["nonce"] = query["nonce"] + "x"  # a fresh nonce each time, so only the ciphertext is wrong
        query["signature"] = crypto.signature(app.config[TOKEN_KEY], query["timestamp"], query["nonce"])
        query["msg_signature"] = crypto.msg_signature(app.config[TOKEN_KEY], query["timestamp"], query["nonce"],
                                                      garbage)
        body = f"<xml><ToUserName>gh_1</ToUserName><Encrypt><![CDATA[{garbage}]]></Encrypt></xml>"
        response = client.post("/wechat/callback", query_string=query, data=body)
        assert response.status_code == 400, garbage
    nothing_written(db)


def test_encrypt_with_wrong_msg_signature(app, client, db, safe_mode):
    query = signed_query(app, extra={"encrypt_type": "aes", "msg_signature": "0" * 40})
    body = "<xml><ToUserName>gh_1</ToUserName><Encrypt><![CDATA[abc]]></Encrypt></xml>"
    assert client.post("/wechat/callback", query_string=query, data=body).status_code == 403


def test_internal_failure_still_answers_in_chinese(app, client, db, monkeypatch):
    def boom(*_):
        raise RuntimeError("database went away")

    monkeypatch.setattr("wechat_handlers.scan_lane.sign_in_scans", boom)  # a scan: the truth is read instead
    response = client.post("/wechat/callback", query_string=signed_query(app), data=event_xml())
    assert response.status_code == 200
    assert "找不到该会议" in response.data.decode()
    monkeypatch.setattr("wechat_handlers.scan_lane.scan_status", boom)  # nor can the truth be read
    response = client.post("/wechat/callback", query_string=signed_query(app, nonce="n-truth"),
                           data=event_xml(openid="o-b"))
    assert response.status_code == 200
    assert "暂时未能确认签到结果" in response.data.decode() and "系统繁忙" not in response.data.decode()

    monkeypatch.setattr("wechat_handlers.callback.dispatch", boom)  # anything else
    text = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o-x]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[人数]]></Content><MsgId>1234567</MsgId></xml>")
    response = client.post("/wechat/callback", query_string=signed_query(app, nonce="n2"), data=text)
    assert response.status_code == 200
    assert "系统繁忙" in response.data.decode()


def test_plaintext_is_refused_once_safe_mode_is_configured(app, client, db, safe_mode, monkeypatch):
    """A correctly signed plaintext POST while an AES key is set is a downgrade: refused, nothing run.
    (The token signs only timestamp and nonce, so whoever holds one signed query could otherwise
    post any plaintext body with it.)"""
    response = client.post("/wechat/callback", query_string=signed_query(app),
                           data=event_xml(key="m:NOSUCH:1"))
    assert response.status_code == 403 and b"plaintext" in response.data
    nothing_written(db)
    # The explicit switch, for the minutes of changing the account's message mode, lets it in.
    monkeypatch.setitem(app.config, "WECHAT_ALLOW_PLAINTEXT", True)
    response = client.post("/wechat/callback", query_string=signed_query(app, nonce="n2"),
                           data=event_xml(key="m:NOSUCH:1"))
    assert response.status_code == 200


def test_a_message_id_is_one_senders(app, client, db, redis_client):
    """Two users' messages that happen to share a MsgId are two messages: the second is answered for
    itself, never with the first one's reply (which could be an organizer's absentee list)."""
    from wechat_handlers.dedupe import message_key
    from wechat_handlers.envelope import Envelope

    def text(openid):
        return Envelope(fields={"FromUserName": openid, "MsgType": "text", "MsgId": "6900000000000000001",
                                "Content": "人数"}, encrypted=False, timestamp="1", nonce="n", body_sha256="x")

    assert message_key(text("o-organizer")) != message_key(text("o-stranger"))
    assert message_key(text("o-organizer")) == message_key(text("o-organizer"))
