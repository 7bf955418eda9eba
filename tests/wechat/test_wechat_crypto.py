"""Signatures and ciphertexts agree with WeChat's official test vectors (research notes §9, §1)."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto

from app.wechat import WeChatCryptoError, crypto
from scripts.wechat_sim import SimConfig, Simulator, WsgiTransport, signing
from scripts.wechat_sim.xmlmsg import parse_xml

from .conftest import AES_KEY
from .receiver import Receiver

# Official WXBizMsgCrypt Python sample.
TOKEN = "spamtest"
APP_ID = "wx2c2769f8efd9abc2"
TIMESTAMP = "1409735669"
NONCE = "1320562132"
MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
SIGNATURE = "16120ec1b8dbb870f510d87ce6bc2463eae6ca1a"
ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PGHQHFVAFmOD2LdJF9"
    "FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+"
    "WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0E"
    "IBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhvQl+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
PLAINTEXT = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName>\n"
    "<FromUserName><![CDATA[oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName>\n"
    "<CreateTime>1409735668</CreateTime>\n"
    "<MsgType><![CDATA[text]]></MsgType>\n"
    "<Content><![CDATA[abcdteT]]></Content>\n"
    "<MsgId>6054768590064713728</MsgId>\n"
    "</xml>"
)


def test_simulator_signs_like_the_official_sample() -> None:
    assert signing.signature(TOKEN, TIMESTAMP, NONCE) == SIGNATURE
    assert signing.signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT) == MSG_SIGNATURE
    assert signing.decrypt(AES_KEY, APP_ID, ENCRYPT) == PLAINTEXT


def test_simulator_encrypts_like_the_official_sample() -> None:
    # Same random prefix in, byte-identical ciphertext out.
    prefix = signing.random_prefix(AES_KEY, ENCRYPT)
    assert signing.encrypt(AES_KEY, APP_ID, PLAINTEXT, random16=prefix) == ENCRYPT


def test_get_verification_example() -> None:
    assert signing.signature("AAAAA", "1714036504", "1514711492") == "f464b24fc39322e44b38aa78f5edd27bd1441696"
    assert crypto.check_signature("AAAAA", "f464b24fc39322e44b38aa78f5edd27bd1441696", "1714036504", "1514711492")
    assert not crypto.check_signature("AAAAB", "f464b24fc39322e44b38aa78f5edd27bd1441696", "1714036504", "1514711492")
    assert not crypto.check_signature("AAAAA", "", "1714036504", "1514711492")


def test_app_crypto_helpers_on_the_vector() -> None:
    body = f"<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>"
    assert crypto.msg_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT) == MSG_SIGNATURE
    assert crypto.decrypt_message(TOKEN, AES_KEY, APP_ID, body, MSG_SIGNATURE, TIMESTAMP, NONCE) == PLAINTEXT
    with pytest.raises(WeChatCryptoError) as exc:
        crypto.decrypt_message(TOKEN, AES_KEY, APP_ID, body, "0" * 40, TIMESTAMP, NONCE)
    assert exc.value.errcode == -40001
    with pytest.raises(WeChatCryptoError) as exc:
        crypto.decrypt_message(TOKEN, AES_KEY, "wxother", body, MSG_SIGNATURE, TIMESTAMP, NONCE)
    assert exc.value.errcode == -40005
    with pytest.raises(WeChatCryptoError):
        crypto.decrypt_message(TOKEN, AES_KEY, APP_ID, "not xml", MSG_SIGNATURE, TIMESTAMP, NONCE)
    with pytest.raises(WeChatCryptoError) as exc:
        crypto.decrypt_message(TOKEN, "short", APP_ID, body, MSG_SIGNATURE, TIMESTAMP, NONCE)
    assert exc.value.errcode == -40004
    wrapped = crypto.encrypt_reply(TOKEN, AES_KEY, APP_ID, "<xml><Content>hi</Content></xml>", nonce="n1", timestamp="1")
    fields = parse_xml(wrapped)
    assert fields["MsgSignature"] == crypto.msg_signature(TOKEN, "1", "n1", fields["Encrypt"])
    assert signing.decrypt(AES_KEY, APP_ID, fields["Encrypt"]) == "<xml><Content>hi</Content></xml>"


@pytest.mark.parametrize("mode", ["safe", "compat"])
def test_phone_post_decrypts_with_wechatpy(mode: str) -> None:
    receiver = Receiver(TOKEN, APP_ID, AES_KEY, answer=lambda msg: f"收到：{msg.content.replace(']]>', '')}")
    config = SimConfig(app_id=APP_ID, token=TOKEN, aes_key=AES_KEY, mode=mode,  # type: ignore[arg-type]
                       callback_url="http://oa.test/wechat/callback")
    sim = Simulator(config, transport=WsgiTransport(receiver.wsgi()))
    user = sim.state.create_user(subscribed=True)
    reply = sim.phone.send_text(user.oa_openid, "你好 <&> ]]>")
    assert reply.error is None and reply.text == "收到：你好 <&> "

    args = receiver.received[0].args
    assert args["encrypt_type"] == "aes" and args["openid"] == user.oa_openid
    assert args["signature"] == signing.signature(TOKEN, args["timestamp"], args["nonce"])
    body = receiver.received[0].body.decode()
    fields = parse_xml(body)
    if mode == "safe":
        assert set(fields) == {"ToUserName", "Encrypt"}
    else:
        assert fields["Content"] == "你好 <&> ]]>" and "Encrypt" in fields
    # wechatpy itself, not our wrapper
    plain = WeChatCrypto(TOKEN, AES_KEY, APP_ID).decrypt_message(body, args["msg_signature"], args["timestamp"],
                                                                  args["nonce"])
    assert parse_xml(plain)["Content"] == "你好 <&> ]]>"
    assert parse_xml(plain)["FromUserName"] == user.oa_openid
    assert user.inbox[-1]["content"] == "收到：你好 <&> "


def test_phone_rejects_plaintext_reply_in_safe_mode() -> None:
    receiver = Receiver(TOKEN, APP_ID, AES_KEY, answer=lambda msg: "plain", reply_encrypted=False)
    config = SimConfig(app_id=APP_ID, token=TOKEN, aes_key=AES_KEY, mode="safe",
                       callback_url="http://oa.test/wechat/callback")
    sim = Simulator(config, transport=WsgiTransport(receiver.wsgi()))
    reply = sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "hi")
    assert reply.error == "安全模式下回复必须加密" and reply.shown == reply.error


def test_phone_rejects_badly_signed_reply() -> None:
    receiver = Receiver("othertoken", APP_ID, AES_KEY, answer=lambda msg: "x")
    config = SimConfig(app_id=APP_ID, token=TOKEN, aes_key=AES_KEY, mode="safe",
                       callback_url="http://oa.test/wechat/callback")
    sim = Simulator(config, transport=WsgiTransport(receiver.wsgi()))
    reply = sim.phone.send_text(sim.state.create_user(subscribed=True).oa_openid, "hi")
    assert reply.status == 403 and reply.error == "HTTP 403"  # receiver refused our signature


def test_verify_server() -> None:
    receiver = Receiver("AAAAA", APP_ID)
    sim = Simulator(SimConfig(token="AAAAA", callback_url="http://oa.test/wechat/callback"),
                    transport=WsgiTransport(receiver.wsgi()))
    assert sim.phone.verify_server("4375120948345356249")
    assert receiver.received[0].args["echostr"] == "4375120948345356249"
