"""Passive replies in WeChat's XML."""

from __future__ import annotations

import time
from xml.sax.saxutils import escape

#: The answer when something inside failed: useful, unlike WeChat's "该公众号暂时无法提供服务".
BUSY = "系统繁忙，请稍后重新扫码。如急需签到，请联系现场会务人员。"
#: The answer when the outcome cannot be known in time (the database unreachable, or the sign-in
#: still on its way): never "busy" to someone who may be signed in, never silence. Scanning again is
#: safe: a second scan answers with the sign-in if there is one.
UNSURE = "网络繁忙，暂时未能确认签到结果。请稍后重新扫码查看；如急需签到，请联系现场会务人员。"


def _cdata(text: str) -> str:
    # "]]>" cannot appear inside CDATA; split it so user-supplied text cannot break out.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply(to_user: str, from_user: str, content: str) -> str:
    return (
        "<xml>"
        f"<ToUserName>{_cdata(to_user)}</ToUserName>"
        f"<FromUserName>{_cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{_cdata(content)}</Content>"
        "</xml>"
    )


def link(url: str, label: str) -> str:
    """A tappable link inside a text reply (WeChat renders <a href> in text messages)."""
    return f'<a href="{escape(url, {chr(34): "&quot;"})}">{escape(label)}</a>'
