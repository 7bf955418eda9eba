"""Log in, bind, who am I."""

from __future__ import annotations

from flask import current_app

from app.client_address import client_ip
from app.services.identity import binding as identity_service
from app.services.identity import mp_sessions
from miniprogram_api import present, schemas
from miniprogram_api.auth import current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api


@api(bp, "/session", "POST", auth=False, body=schemas.SessionRequest, tags=["登录与身份"],
     summary="用 wx.login 的 code 换取登录令牌",
     responses={200: schemas.SessionToken, 401: ErrorBody, 403: ErrorBody, 429: ErrorBody, 503: ErrorBody})
def create_session(body: schemas.SessionRequest):
    """401 code_invalid, 429 rate_limited, 403 risky_user, 503 wechat_unavailable."""
    session = mp_sessions.log_in(current_app.config["SECRET_KEY"], body.code)
    return schemas.SessionToken(token=session.token, expires_at=session.expires_at,
                                expires_in=mp_sessions.TOKEN_TTL_S, bound=session.identity.contact_id is not None)


@api(bp, "/identity/bind", "POST", body=schemas.BindRequest, authenticate=current_identity, tags=["登录与身份"],
     summary="绑定通讯录身份（单位、姓名、手机号）",
     responses={200: schemas.Me, 400: ErrorBody, 409: ErrorBody, 429: ErrorBody})
def bind_identity(me, body: schemas.BindRequest):
    """与 H5 绑定页相同的规则、次数限制和提示。400 identity_mismatch：单位、姓名或手机号与通讯录不一致；
    所填人员已绑定其他微信时，回答与此完全相同（不透露该身份是否真实）。409 identity_bound_elsewhere：
    本微信已绑定其他人员。429 rate_limited：失败次数过多，暂时锁定。只剩最后一次机会时，失败回答的
    message 末尾附有提醒「还可尝试 1 次，再次失败将暂时锁定（最长 30 分钟）」，请原样展示。"""
    contact = identity_service.bind(me, unit_text=body.unit, name=body.name, phone=body.phone,
                                    ip=client_ip())
    return present.me(contact)


@api(bp, "/me", authenticate=current_identity, tags=["登录与身份"], summary="我的身份",
     responses={200: schemas.Me})
def get_me(me):
    return present.me(me.contact)
