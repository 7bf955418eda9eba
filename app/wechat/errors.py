"""Our own exceptions for everything that talks to WeChat.

Callers never see wechatpy or requests exceptions: each failure becomes a
``WeChatError`` carrying WeChat's errcode, so services can branch on the
subclass (quota, bad code, unreachable...) without parsing messages.
"""

from __future__ import annotations


class WeChatError(Exception):
    """A WeChat API call failed; ``errcode`` is WeChat's code (None if it never answered)."""

    def __init__(self, errcode: int | None, errmsg: str = "") -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeChatUnavailable(WeChatError):
    """Network failure, timeout, HTTP error or WeChat's "system busy" (-1): try again later."""


class WeChatQuotaError(WeChatError):
    """A daily (45009) or per-minute (45011) quota is used up. Never retried automatically."""


class WeChatTokenError(WeChatError):
    """The access token was refused (40001/40014/42001) even after one refresh and retry."""


class WeChatCredentialError(WeChatError):
    """Wrong app id or secret (40013/40125) or a non-whitelisted IP (40164): a config problem."""


class WeChatCodeError(WeChatError):
    """An OAuth or wx.login code is invalid/expired (40029) or was already used (40163)."""


class WeChatRecipientError(WeChatError):
    """The user cannot receive this message: bad openid (40003), not subscribed (43004),
    outside the 48 h window (45015) or refused a subscribe message (43101)."""


class WeChatRiskError(WeChatError):
    """WeChat blocked a high-risk user (40226)."""


class WeChatCryptoError(WeChatError):
    """A callback failed signature, decryption or app id checks.

    The errcodes are those of WeChat's official WXBizMsgCrypt samples (-40001...).
    """


VALIDATE_SIGNATURE_ERROR = -40001
PARSE_XML_ERROR = -40002
VALIDATE_APPID_ERROR = -40005
DECRYPT_AES_ERROR = -40007
ILLEGAL_AES_KEY = -40004

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})

_BY_CODE: dict[int, type[WeChatError]] = {
    -1: WeChatUnavailable,
    45009: WeChatQuotaError,
    45011: WeChatQuotaError,
    40001: WeChatTokenError,
    40014: WeChatTokenError,
    42001: WeChatTokenError,
    40013: WeChatCredentialError,
    40125: WeChatCredentialError,
    40164: WeChatCredentialError,
    40029: WeChatCodeError,
    40163: WeChatCodeError,
    40003: WeChatRecipientError,
    43004: WeChatRecipientError,
    45015: WeChatRecipientError,
    43101: WeChatRecipientError,
    40226: WeChatRiskError,
}


def error_for(errcode: int | None, errmsg: str = "") -> WeChatError:
    """Build the most specific exception for a WeChat errcode."""
    if errcode is None:
        return WeChatUnavailable(None, errmsg or "no answer from WeChat")
    return _BY_CODE.get(errcode, WeChatError)(errcode, errmsg)
