"""What arrives from WeChat, checked before anything else looks at it.

Order matters: size cap, signature, timestamp window, then the XML is parsed by defusedxml (no DTD,
no entities), then the ciphertext's own signature and decryption. Anything that fails raises
``EnvelopeError`` with the HTTP status to answer, and nothing has been written.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

from defusedxml import ElementTree as SafeET
from defusedxml.common import DefusedXmlException

from app.wechat import crypto
from app.wechat.errors import WeChatCryptoError

MAX_BODY_BYTES = 64 * 1024
#: WeChat resends an unanswered callback within seconds with the same timestamp; five minutes
#: either way covers that and modest clock skew, and bounds how long a captured request is useful.
TIMESTAMP_WINDOW_S = 300


class EnvelopeError(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    fields: dict[str, str]
    encrypted: bool
    timestamp: str
    nonce: str
    body_sha256: str

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name) or default


def parse_xml(text: str | bytes) -> dict[str, str]:
    """Top-level children of ``<xml>`` as a dict, refusing DTDs and entities outright."""
    try:
        root = SafeET.fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, SafeET.ParseError, ValueError) as exc:
        raise EnvelopeError(400, f"unsafe or malformed XML: {type(exc).__name__}") from None
    return {child.tag: (child.text or "").strip() for child in root}


def check_query(token: str, args, *, now: float | None = None) -> None:
    if not crypto.check_signature(token, args.get("signature", ""), args.get("timestamp", ""),
                                  args.get("nonce", "")):
        raise EnvelopeError(403, "bad signature")
    try:
        ts = int(args.get("timestamp", ""))
    except ValueError:
        raise EnvelopeError(403, "bad timestamp") from None
    if abs((now or time.time()) - ts) > TIMESTAMP_WINDOW_S:
        raise EnvelopeError(403, "timestamp outside the window")


def open_envelope(body: bytes, args, *, token: str, aes_key: str, app_id: str,
                  allow_plaintext: bool = False) -> Envelope:
    """Check and open one callback POST.

    With an EncodingAESKey configured, WeChat sends every message encrypted (safe mode) or with its
    ciphertext beside the plaintext (compatible mode), and says so with ``encrypt_type=aes`` either
    way. A plaintext POST is then a downgrade, refused unless ``allow_plaintext`` (the explicit
    setting ``WECHAT_ALLOW_PLAINTEXT``, for the minutes of switching modes in the account settings).
    """
    if len(body) > MAX_BODY_BYTES:
        raise EnvelopeError(413, "body too large")
    check_query(token, args)
    outer = parse_xml(body)
    encrypted = args.get("encrypt_type") == "aes"
    if aes_key and not encrypted and not allow_plaintext:
        raise EnvelopeError(403, "plaintext message while safe mode is configured")
    fields = outer
    if encrypted:
        if not aes_key:
            raise EnvelopeError(400, "encrypted message but no EncodingAESKey configured")
        encrypt = outer.get("Encrypt", "")
        if not encrypt:
            raise EnvelopeError(400, "no Encrypt element")
        # Hand wechatpy only the ciphertext, never the untrusted document itself.
        minimal = f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        try:
            plain = crypto.decrypt_message(token, aes_key, app_id, minimal, args.get("msg_signature", ""),
                                           args.get("timestamp", ""), args.get("nonce", ""))
        except WeChatCryptoError as exc:
            status = 403 if exc.errcode in (-40001, -40005) else 400
            raise EnvelopeError(status, f"cannot open Encrypt ({exc.errcode})") from None
        fields = parse_xml(plain.encode())
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise EnvelopeError(400, "not a WeChat message")
    return Envelope(fields=fields, encrypted=encrypted, timestamp=args.get("timestamp", ""),
                    nonce=args.get("nonce", ""), body_sha256=hashlib.sha256(body).hexdigest())


def wechat_keys(config) -> dict[str, str]:
    """The account's callback secrets, as :func:`open_envelope` and :func:`seal_reply` take them."""
    return {"token": config["WECHAT_TOKEN"], "aes_key": config["WECHAT_ENCODING_AES_KEY"],
            "app_id": config["WECHAT_APP_ID"]}


def seal_reply(reply_xml: str, envelope: Envelope, *, token: str, aes_key: str, app_id: str) -> str:
    if not envelope.encrypted or not reply_xml:
        return reply_xml
    return crypto.encrypt_reply(token, aes_key, app_id, reply_xml)
