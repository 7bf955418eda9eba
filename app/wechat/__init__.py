"""The WeChat seam: server API client, shared access tokens and callback crypto.

``init_app(app, redis)`` builds one ``WeChatApi`` for the official account and one
for the mini program; views and services get them with ``oa_api()`` / ``mp_api()``.
Point ``WECHAT_API_BASE_URL`` at the simulator (scripts/wechat_sim) to run offline.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

from app.wechat.client import (
    DEFAULT_API_BASE_URL,
    MiniProgramSession,
    OAuthIdentity,
    QrCodeTicket,
    WeChatApi,
)
from app.wechat.errors import (
    WeChatCodeError,
    WeChatCredentialError,
    WeChatCryptoError,
    WeChatError,
    WeChatQuotaError,
    WeChatRecipientError,
    WeChatRiskError,
    WeChatTokenError,
    WeChatUnavailable,
)

__all__ = [
    "MiniProgramSession",
    "OAuthIdentity",
    "QrCodeTicket",
    "WeChatApi",
    "WeChatCodeError",
    "WeChatCredentialError",
    "WeChatCryptoError",
    "WeChatError",
    "WeChatQuotaError",
    "WeChatRecipientError",
    "WeChatRiskError",
    "WeChatTokenError",
    "WeChatUnavailable",
    "init_app",
    "mp_api",
    "oa_api",
]


def init_app(app: Flask, redis: Any) -> None:
    """Register ``app.extensions["wechat_oa"]`` and ``["wechat_mp"]`` from the app config.

    Optional keys: WECHAT_QRCODE_BASE_URL, WECHAT_OAUTH_BASE_URL (default: the real
    hosts for the real API, else the API base), WECHAT_HTTP_TIMEOUT (seconds, 5).
    """
    cfg = app.config
    base_url = cfg.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL
    common: dict[str, Any] = {
        "redis": redis,
        "base_url": base_url,
        "qrcode_base_url": cfg.get("WECHAT_QRCODE_BASE_URL") or None,
        "oauth_base_url": cfg.get("WECHAT_OAUTH_BASE_URL") or None,
        "timeout": float(cfg.get("WECHAT_HTTP_TIMEOUT", 5.0)),
    }
    app.extensions["wechat_oa"] = WeChatApi(
        cfg.get("WECHAT_APP_ID") or "", cfg.get("WECHAT_APP_SECRET") or "", kind="oa", **common
    )
    app.extensions["wechat_mp"] = WeChatApi(
        cfg.get("MINIPROGRAM_APP_ID") or "", cfg.get("MINIPROGRAM_APP_SECRET") or "", kind="mp", **common
    )


def oa_api() -> WeChatApi:
    """The official account's API client of the current app."""
    return current_app.extensions["wechat_oa"]  # type: ignore[no-any-return]


def mp_api() -> WeChatApi:
    """The mini program's API client of the current app."""
    return current_app.extensions["wechat_mp"]  # type: ignore[no-any-return]
