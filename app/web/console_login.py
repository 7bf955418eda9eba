"""Desktop login to the organizer console by WeChat scan (/admin/login), its phone-side
confirmation (/admin/login/confirm) and logout.

The PC's attempts live in this browser's signed session cookie, under a short public id (``a``)
per tab, so a second tab does not steal the first one's code. The poll and the QR image read the
token from the cookie, never from the URL: another browser cannot finish someone else's login.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for

from app.client_address import client_ip
from app.services.codes import qr_images
from app.services.identity import desktop_login
from app.services.identity.desktop_login import DesktopLoginError
from app.services.timeutil import local
from app.web.auth import current_contact, current_identity, log_in, start_oauth
from app.web.console_auth import DESKTOP_SESSION_KEY, console_identity, console_login_required, in_wechat

bp = Blueprint("console_login", __name__, url_prefix="/admin")

#: session[ATTEMPTS]: {public attempt id: token}, the few newest (one per open login tab).
ATTEMPTS = "console_login"
_KEEP_ATTEMPTS = 3
_AID = re.compile(r"^[0-9a-f]{8}$")
HOME = "/admin"
SYSTEM_NAME = "会易 · 会务后台"


def safe_next(raw: str | None) -> str:
    """``raw`` if it is a path on this site (never another host, never the login page itself, which
    would send a logged-in visitor round in a circle); else the console's home."""
    raw = (raw or "").strip()
    if (not raw.startswith("/") or raw.startswith("//") or "\\" in raw or any(ord(c) < 32 for c in raw)
            or raw.startswith("/admin/login")):
        return HOME
    return raw


def _token(aid: str | None) -> str | None:
    attempts = session.get(ATTEMPTS) or {}
    if aid and _AID.match(aid):
        return attempts.get(aid)
    return None


@bp.get("/login")
def page():
    next_path = safe_next(request.args.get("next"))
    if console_identity() is not None:
        return redirect(next_path)
    if in_wechat():  # WeChat's own browser knows who it is: no code to scan
        return start_oauth(next_path)
    try:
        attempt = desktop_login.start(ip=client_ip(), next_path=next_path)
    except DesktopLoginError as exc:
        return render_template("console/login.html", me=None, error=exc.message, next_path=next_path), exc.status
    aid = secrets.token_hex(4)
    attempts = dict(list((session.get(ATTEMPTS) or {}).items())[-(_KEEP_ATTEMPTS - 1):])
    attempts[aid] = attempt.token
    session[ATTEMPTS] = attempts
    config = {"poll": url_for(".poll", a=aid), "expires_in": max(0, round(attempt.expires_at - time.time())),
              "refresh": url_for(".page", next=next_path)}
    return render_template("console/login.html", me=None, aid=aid, config=config, next_path=next_path)


@bp.get("/login/qr.png")
def qr():
    attempt = desktop_login.get_attempt(_token(request.args.get("a")) or "")
    if attempt is None or attempt.state in ("expired", "used") or not attempt.qr_url:
        raise DesktopLoginError("attempt_expired")
    png = qr_images.qr_png(attempt.qr_url, box_px=8)
    return png, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


@bp.get("/login/poll")
def poll():
    aid = request.args.get("a")
    result = desktop_login.poll(_token(aid), ip=client_ip())
    if result.identity is None:
        body = {"state": result.state}
        if result.message:
            body["message"] = result.message
        return jsonify(body), 200, {"Cache-Control": "no-store"}
    log_in(result.identity)  # a fresh session: the other tabs' attempts go with the old one
    if result.session_id:
        session[DESKTOP_SESSION_KEY] = result.session_id
    return jsonify(state="confirmed", next=safe_next(result.next_path)), 200, {"Cache-Control": "no-store"}


@bp.get("/login/confirm")
@console_login_required
def confirm_page():
    return _confirm_page(request.args.get("t", ""))


def _confirm_page(token: str, error: DesktopLoginError | None = None, status: int | None = None):
    me = current_contact()
    identity = current_identity()
    attempt = desktop_login.get_attempt(token)
    if attempt is None or attempt.state == "expired":
        state = "expired"
    elif attempt.scanner_id is not None and attempt.scanner_id != identity.id:
        state = "other"
    else:
        state = attempt.state
    if status is None:
        status = {"other": 403, "expired": 410}.get(state, 200)
    return render_template("console/login_confirm.html", me=me, token=token, state=state, attempt=attempt,
                           system_name=SYSTEM_NAME, now=local(datetime.now(UTC)), error=error), status


@bp.post("/login/confirm")
@console_login_required
def confirm():
    return _decide(desktop_login.confirm)


@bp.post("/login/cancel")
@console_login_required
def cancel():
    return _decide(desktop_login.cancel)


def _decide(action):
    token = request.form.get("t", "")
    try:
        action(token, current_identity(), ip=client_ip())
    except DesktopLoginError as exc:
        return _confirm_page(token, exc, exc.status)
    return redirect(url_for(".confirm_page", t=token))


@bp.post("/logout")
def logout():
    session_id = session.get(DESKTOP_SESSION_KEY)
    identity = console_identity()  # a session already ended elsewhere is not logged out twice
    desktop_login.end_session(session_id, identity.contact if identity is not None else None, ip=client_ip())
    session.clear()
    return redirect(url_for(".page"))
