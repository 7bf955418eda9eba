"""Who is looking at an H5 page: the WeChat identity in the signed session cookie.

Pages opened in WeChat learn the visitor's openid silently through web OAuth (``snsapi_base``):
unknown visitors are redirected to WeChat's authorize URL and come back to ``/m/oauth`` with a
single-use code. WeChat allows only ``[A-Za-z0-9]{,128}`` in ``state``, so the page to return to
is kept in the session under a random state value.
"""

from __future__ import annotations

import secrets
from functools import partial, wraps

from flask import Blueprint, abort, current_app, g, redirect, request, session
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.services.identity.binding import get_or_create_identity
from app.wechat import WeChatError, oa_api
from models import Contact, WechatIdentity

bp = Blueprint("h5_auth", __name__, url_prefix="/m")
SESSION_KEY = "identity_id"
_HELD = "h5_current_identity"


def session_identity_id() -> int | None:
    """The identity id the signed session cookie names, read without the database: the identity may
    since have been deleted or unbound, so whoever acts on the id alone must check it."""
    return session.get(SESSION_KEY) or None


def current_identity() -> WechatIdentity | None:
    identity_id = session_identity_id()
    if identity_id is None:
        return None
    # Held for the rest of the request (the session's identity map holds objects only weakly, so the
    # login check's copy could be gone by the time the view asks again), and the contact comes in the
    # same query: nearly every page asks for it next (current_contact).
    held = g.get(_HELD)
    if held is not None and held[0] == identity_id and held[1] in db.session:
        return held[1]
    identity = db.session.get(WechatIdentity, identity_id, options=[joinedload(WechatIdentity.contact)])
    if identity is not None:
        setattr(g, _HELD, (identity_id, identity))
    return identity


def current_contact() -> Contact | None:
    identity = current_identity()
    return identity.contact if identity is not None else None


def log_in(identity: WechatIdentity) -> None:
    session.clear()  # a new identity never inherits another's session state
    session[SESSION_KEY] = identity.id
    session.permanent = True


def wechat_login_required(view=None, *, load: bool = True):
    """Redirect visitors without an identity through WeChat OAuth, then back to this page.

    ``load=False`` (``@wechat_login_required(load=False)``): a session naming an identity is enough,
    the request thread reads nothing from the database; the view passes :func:`session_identity_id`
    to a service that checks the identity still exists and is bound (the ballot's batch does).
    """
    if view is None:
        return partial(wechat_login_required, load=load)

    @wraps(view)
    def wrapper(*args, **kwargs):
        if (current_identity() if load else session_identity_id()) is None:
            return start_oauth(request.full_path if request.query_string else request.path)
        return view(*args, **kwargs)

    return wrapper


def start_oauth(next_path: str):
    state = secrets.token_hex(8)
    pending = session.get("oauth_next", {})
    pending = dict(list(pending.items())[-4:])  # a few tabs at once, not an unbounded list
    pending[state] = next_path if next_path.startswith("/") else "/"
    session["oauth_next"] = pending
    redirect_uri = current_app.config["PUBLIC_BASE_URL"] + "/m/oauth"
    return redirect(oa_api().oauth_authorize_url(redirect_uri, state))


@bp.get("/oauth")
def oauth_return():
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    next_path = session.get("oauth_next", {}).pop(state, None)
    if not code or next_path is None:
        abort(400)
    try:
        result = oa_api().oauth_exchange(code)
    except WeChatError:
        # A used or expired code (40163/40029), or WeChat unreachable: start again once.
        return redirect(next_path)
    if result.is_snapshotuser:
        # WeChat's "snapshot page" visitor is a virtual user, not a person we can sign in.
        abort(403)
    identity = get_or_create_identity(oa_openid=result.openid, unionid=result.unionid)
    log_in(identity)
    return redirect(next_path)
