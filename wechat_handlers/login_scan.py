"""A scan of a desktop login code (``login:<token>``): answer with the link that confirms the login."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app

from app.services.identity import desktop_login
from app.services.identity.binding import find_identity
from wechat_handlers.deadline import Deadline
from wechat_handlers.replies import link
from wechat_handlers.scan import recognise


def answer(openid: str, token: str, deadline: Deadline | None = None) -> str:
    """The reply to ``openid`` scanning the login code ``token``. Runs in the request's unit of work."""
    identity = find_identity(oa_openid=openid)
    if identity is None or identity.contact_id is None:
        # Bound through the mini program only: WeChat's unionid names the same person.
        if recognise(openid, deadline or Deadline()) is not None:
            identity = find_identity(oa_openid=openid)
    try:
        contact = desktop_login.scan(token, identity)
    except desktop_login.DesktopLoginError as exc:
        return exc.message
    url = f"{current_app.config['PUBLIC_BASE_URL']}/admin/login/confirm?t={quote(token, safe='')}"
    return (f"{contact.name}，您正在电脑上登录会易会务后台。\n确认登录到电脑端？{link(url, '点此确认登录')}\n"
            "如非本人操作，请忽略本消息，电脑端不会登录。")
