"""Callback-side signing and encryption, thin wrappers over wechatpy's crypto.

WeChat signs every callback (sha1 over the sorted token/timestamp/nonce) and,
in compatible and safe mode, AES-encrypts the message and signs the
ciphertext too. These helpers raise ``WeChatCryptoError`` (with the errcodes of
WeChat's official WXBizMsgCrypt samples) instead of wechatpy's exceptions.
"""

from __future__ import annotations

import hmac
import time
import uuid

from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import WeChatSigner

from app.wechat.errors import (
    DECRYPT_AES_ERROR,
    ILLEGAL_AES_KEY,
    PARSE_XML_ERROR,
    VALIDATE_APPID_ERROR,
    VALIDATE_SIGNATURE_ERROR,
    WeChatCryptoError,
)


def _sha1_sorted(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return str(signer.signature)


def signature(token: str, timestamp: str, nonce: str) -> str:
    """The plain ``signature`` query parameter of every callback."""
    return _sha1_sorted(token, str(timestamp), str(nonce))


def check_signature(token: str, signature_: str, timestamp: str, nonce: str) -> bool:
    """True when ``signature_`` is what WeChat would send for this token/timestamp/nonce."""
    if not (signature_ and timestamp and nonce):
        return False
    # As bytes: compare_digest raises TypeError on a non-ASCII str, and such a signature is just wrong.
    return hmac.compare_digest(signature(token, timestamp, nonce).encode(), str(signature_).encode())


def msg_signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    """The ``msg_signature`` over an encrypted message (compatible and safe mode)."""
    return _sha1_sorted(token, str(timestamp), str(nonce), encrypt)


def _crypto(token: str, aes_key: str, app_id: str) -> WeChatCrypto:
    try:
        return WeChatCrypto(token, aes_key, app_id)
    except (AssertionError, ValueError) as exc:
        raise WeChatCryptoError(ILLEGAL_AES_KEY, "EncodingAESKey must be 43 base64 characters") from exc


def decrypt_message(
    token: str, aes_key: str, app_id: str, body: str | bytes, msg_signature_: str, timestamp: str, nonce: str
) -> str:
    """Verify ``msg_signature`` and decrypt the ``<Encrypt>`` of a callback body; returns plaintext XML."""
    crypto = _crypto(token, aes_key, app_id)
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        return str(crypto.decrypt_message(text, msg_signature_, timestamp, nonce))
    except InvalidSignatureException as exc:
        raise WeChatCryptoError(VALIDATE_SIGNATURE_ERROR, "msg_signature does not match") from exc
    except InvalidAppIdException as exc:
        raise WeChatCryptoError(VALIDATE_APPID_ERROR, "message was encrypted for another app id") from exc
    except (KeyError, TypeError) as exc:
        raise WeChatCryptoError(PARSE_XML_ERROR, "no Encrypt element in the body") from exc
    except Exception as exc:  # xml parser errors, bad base64, bad padding...
        if type(exc).__name__ in {"ExpatError", "ParseError"}:
            raise WeChatCryptoError(PARSE_XML_ERROR, "body is not XML") from exc
        raise WeChatCryptoError(DECRYPT_AES_ERROR, "cannot decrypt Encrypt") from exc


def encrypt_reply(
    token: str, aes_key: str, app_id: str, reply_xml: str, nonce: str | None = None, timestamp: str | None = None
) -> str:
    """Wrap a plaintext reply as ``<xml><Encrypt/><MsgSignature/><TimeStamp/><Nonce/></xml>``."""
    crypto = _crypto(token, aes_key, app_id)
    return str(crypto.encrypt_message(
        reply_xml, nonce or uuid.uuid4().hex[:10], timestamp or str(int(time.time()))
    ))
