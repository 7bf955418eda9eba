"""Who is calling: the identity behind the ``Authorization: Bearer <token>`` header."""

from __future__ import annotations

from flask import current_app, request

from app.services.errors import DomainError
from app.services.identity.mp_sessions import MpSessionError, identity_for_token
from models import Contact, WechatIdentity


class MpAccessError(DomainError):
    messages = {"identity_not_bound": "请先绑定身份（单位、姓名、手机号）后再操作"}
    statuses = {"identity_not_bound": 403}


def current_identity() -> WechatIdentity:
    """:raise MpSessionError: ``unauthorized`` (missing, malformed, forged) or ``token_expired``."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MpSessionError("unauthorized")
    return identity_for_token(current_app.config["SECRET_KEY"], token.strip())


def bound_contact(identity: WechatIdentity) -> Contact:
    """The directory contact of ``identity``; actions on one's own behalf need a bound identity."""
    if identity.contact is None:
        raise MpAccessError("identity_not_bound")
    return identity.contact
