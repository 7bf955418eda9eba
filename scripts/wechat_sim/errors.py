"""WeChat-style errors: HTTP 200 with {"errcode", "errmsg"}."""

from __future__ import annotations

import secrets

from flask import Response, jsonify

# errmsg texts as WeChat writes them (it appends " rid: ..." to each).
ERRMSG: dict[int, str] = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40014: "invalid access_token",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40029: "invalid code",
    40007: "invalid media_id",
    40032: "invalid openid list size",
    40037: "invalid template_id",
    40052: "invalid action name",
    40053: "invalid action info, please check document",
    40097: "invalid args",
    40125: "invalid appsecret",
    40163: "code been used",
    40169: "invalid length for scene, or the data is not json string",
    40226: "high risk user",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41008: "missing code",
    41030: "invalid page",
    42001: "access_token expired",
    43004: "require subscribe",
    43101: "user refuse to accept the msg",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    45011: "api minute-quota reach limit  mustslower  retry next minute",
    45015: "response out of time limit or subscription is canceled",
    45056: "too many tags now, no need to add new",
    45058: "can't modify sys tag",
    45059: "too many tag now, no need to add new",
    45157: "invalid tag name",
    45158: "tag name too long",
    45159: "invalid tag id",
    46003: "menu no exist",
    47001: "data format error",
    48001: "api unauthorized",
    47003: "argument invalid!",
    65301: "no such conditional menu",
    65302: "no such user",
    65303: "there is no selfmenu, please create selfmenu first",
    65304: "match rule empty",
    65305: "menu count limit",
    65308: "button without response type",
    65316: "too many jump domains",
    65317: "invalid url",
    65320: "sex, country, province, city, language matchrule are no longer supported",
}


class SimError(Exception):
    """Raised anywhere in a simulated API; rendered as WeChat's error JSON."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode, "unknown error")
        super().__init__(f"{errcode}: {self.errmsg}")


def wechat_error(errcode: int, errmsg: str | None = None) -> Response:
    msg = errmsg or ERRMSG.get(errcode, "unknown error")
    # WeChat answers errors with HTTP 200 and a request id in errmsg.
    return jsonify({"errcode": errcode, "errmsg": f"{msg} rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"})


def ok(**extra: object) -> Response:
    return jsonify({"errcode": 0, "errmsg": "ok", **extra})
