"""Signed, encrypted, expiring tokens for links we send to attendees.

A link in a WeChat reply must not carry the openid in clear (it can be forwarded), so the payload is
encrypted with Fernet (AES + HMAC, with its own timestamp for expiry), keyed from SECRET_KEY.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken

from app.services.errors import DomainError

BIND_TTL_S = 30 * 60


class LinkError(DomainError):
    messages = {
        "link_expired": "链接已过期，请重新扫描会议二维码",
        "link_invalid": "链接无效，请重新扫描会议二维码",
    }
    statuses = {"link_expired": 410, "link_invalid": 400}


def _fernet(secret_key: str, purpose: str) -> Fernet:
    digest = hashlib.sha256(f"huiyi:{purpose}:{secret_key}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(secret_key: str, purpose: str, payload: dict) -> str:
    return _fernet(secret_key, purpose).encrypt(json.dumps(payload, separators=(",", ":")).encode()).decode()


def unseal(secret_key: str, purpose: str, token: str, *, ttl_s: int) -> dict:
    f = _fernet(secret_key, purpose)
    try:
        raw = f.decrypt(token.encode(), ttl=ttl_s)
    except InvalidToken:
        # Tell an expired link from a forged one: the former deserves "scan again".
        try:
            f.decrypt(token.encode())
        except (InvalidToken, ValueError):
            raise LinkError("link_invalid") from None
        raise LinkError("link_expired") from None
    except ValueError:
        raise LinkError("link_invalid") from None
    return json.loads(raw)


@dataclass(frozen=True)
class BindTicket:
    oa_openid: str
    meeting_code: str
    session_position: int | None


def make_bind_token(secret_key: str, *, oa_openid: str, meeting_code: str, session_position: int | None) -> str:
    return seal(secret_key, "bind", {"o": oa_openid, "m": meeting_code, "s": session_position})


def read_bind_token(secret_key: str, token: str, *, ttl_s: int = BIND_TTL_S) -> BindTicket:
    data = unseal(secret_key, "bind", token or "", ttl_s=ttl_s)
    return BindTicket(oa_openid=data["o"], meeting_code=data["m"], session_position=data.get("s"))
