"""Mini-program sessions: trade a ``wx.login`` code for our own bearer token.

WeChat's ``session_key`` never leaves this module: it is neither returned nor stored. The token we
hand out is encrypted and signed (``links.seal``, purpose "mp") and carries only the identity id and
an expiry, so app servers keep no session state and any of them can check it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.extensions import db
from app.services import links
from app.services.errors import DomainError
from app.services.identity.binding import get_or_create_identity
from app.wechat import mp_api
from app.wechat.errors import WeChatCodeError, WeChatError, WeChatQuotaError, WeChatRiskError
from models import WechatIdentity

TOKEN_TTL_S = 24 * 3600
_PURPOSE = "mp"


class MpSessionError(DomainError):
    messages = {
        "code_invalid": "登录凭证无效或已过期，请重新进入小程序",
        "rate_limited": "登录过于频繁，请稍后再试",
        "risky_user": "微信判断当前账号存在风险，暂时无法登录",
        "wechat_unavailable": "微信服务暂时不可用，请稍后再试",
        "unauthorized": "请先登录",
        "token_expired": "登录已过期，请重新进入小程序",
    }
    statuses = {"code_invalid": 401, "rate_limited": 429, "risky_user": 403, "wechat_unavailable": 503,
                "unauthorized": 401, "token_expired": 401}


@dataclass(frozen=True)
class MpSession:
    identity: WechatIdentity
    token: str
    expires_at: int  # unix seconds


def issue_token(secret_key: str, identity_id: int, *, now: float | None = None,
                ttl_s: int = TOKEN_TTL_S) -> tuple[str, int]:
    """A bearer token for ``identity_id`` and its expiry (unix seconds)."""
    expires_at = int((now if now is not None else time.time()) + ttl_s)
    return links.seal(secret_key, _PURPOSE, {"i": identity_id, "e": expires_at}), expires_at


def log_in(secret_key: str, code: str) -> MpSession:
    """Exchange a ``wx.login`` code; the identity is linked by unionid to the same person's OA one.

    :raise MpSessionError: ``code_invalid`` (40029/40163), ``rate_limited`` (45011),
        ``risky_user`` (40226), ``wechat_unavailable`` (anything else).
    """
    try:
        result = mp_api().jscode2session(code)
    except WeChatCodeError:
        raise MpSessionError("code_invalid") from None
    except WeChatQuotaError:
        raise MpSessionError("rate_limited") from None
    except WeChatRiskError:
        raise MpSessionError("risky_user") from None
    except WeChatError:
        raise MpSessionError("wechat_unavailable") from None
    identity = get_or_create_identity(mp_openid=result.openid, unionid=result.unionid)
    token, expires_at = issue_token(secret_key, identity.id)
    return MpSession(identity=identity, token=token, expires_at=expires_at)


def identity_for_token(secret_key: str, token: str, *, now: float | None = None) -> WechatIdentity:
    """The identity a bearer token stands for. :raise MpSessionError: ``unauthorized``, ``token_expired``."""
    if not token:
        raise MpSessionError("unauthorized")
    try:
        # The expiry in the payload is the rule; the Fernet age check is only a backstop.
        data = links.unseal(secret_key, _PURPOSE, token, ttl_s=TOKEN_TTL_S * 2)
    except links.LinkError as exc:
        raise MpSessionError("token_expired" if exc.code == "link_expired" else "unauthorized") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or not isinstance(data.get("e"), int):
        raise MpSessionError("unauthorized")
    if data["e"] <= (now if now is not None else time.time()):
        raise MpSessionError("token_expired")
    identity = db.session.get(WechatIdentity, data["i"])
    if identity is None:  # merged into another row or removed: log in again
        raise MpSessionError("unauthorized")
    return identity
