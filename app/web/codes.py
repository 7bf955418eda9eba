"""Organizers download a meeting's sign-in codes: the QR PNG, the A4 poster (PNG/PDF), the
mini-program code. Each view: load the meeting, check the organizer's right, call one service."""

from __future__ import annotations

import io

from flask import Blueprint, request, send_file

from app.services import meeting_codes, organizers
from app.services.meetings import get_meeting
from app.services.signin import get_session
from app.web.auth import current_contact, wechat_login_required
from app.wechat import WeChatError

bp = Blueprint("codes", __name__, url_prefix="/admin/codes")


def _load(meeting_code: str):
    meeting = get_meeting(meeting_code)
    organizers.require_right(meeting, current_contact(), "view")
    return meeting, get_session(meeting, request.args.get("s", type=int) or 1)


def _png(data: bytes, name: str, *, attachment: bool = False):
    # send_file writes filename*=UTF-8''… (RFC 5987) for the Chinese name, with an ASCII fallback.
    response = send_file(io.BytesIO(data), mimetype="image/png", download_name=name, as_attachment=attachment)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/<meeting_code>/qr.png")
@wechat_login_required
def qr_png(meeting_code: str):
    meeting, session = _load(meeting_code)
    return _png(meeting_codes.qr_png(meeting, session), f"{meeting.title}-签到二维码.png")


@bp.get("/<meeting_code>/poster.png")
@wechat_login_required
def poster_png(meeting_code: str):
    meeting, session = _load(meeting_code)
    return _png(meeting_codes.poster(meeting, session, "png"), f"{meeting.title}-签到海报.png")


@bp.get("/<meeting_code>/poster.pdf")
@wechat_login_required
def poster_pdf(meeting_code: str):
    meeting, session = _load(meeting_code)
    response = send_file(io.BytesIO(meeting_codes.poster(meeting, session, "pdf")), mimetype="application/pdf",
                         download_name=f"{meeting.title}-签到海报.pdf", as_attachment=True)
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.get("/<meeting_code>/mp.png")
@wechat_login_required
def mp_png(meeting_code: str):
    meeting, session = _load(meeting_code)
    try:
        data = meeting_codes.mp_code(meeting, session)
    except WeChatError:
        # No mini program (or WeChat refused): the plain code still gets people signed in.
        data = meeting_codes.qr_png(meeting, session)
    return _png(data, f"{meeting.title}-小程序码.png")
