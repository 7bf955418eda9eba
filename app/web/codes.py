"""Organizers download a meeting's sign-in codes: the QR PNG, the A4 poster (PNG/PDF), the
mini-program code. Each view: load the meeting, check the organizer's right, call one service.

A poster takes 0.2-0.4 s of CPU to render, so the web serves only one already rendered (cached by
content for a day); otherwise a job renders it and the console's job page offers it (issue 21.10).
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Blueprint, Response, redirect, request, url_for

from app import jobs
from app.services.codes import meeting_codes
from app.services.meetings import organizers
from app.services.meetings.meetings import get_meeting
from app.services.signin.rules import get_session
from app.web.auth import current_contact, wechat_login_required
from app.wechat import WeChatError

bp = Blueprint("codes", __name__, url_prefix="/admin/codes")


def _load(meeting_code: str):
    meeting = get_meeting(meeting_code)
    organizers.require_right(meeting, current_contact(), "view")
    return meeting, get_session(meeting, request.args.get("s", type=int) or 1)


def _file(data: bytes, mimetype: str, name: str, fallback: str, *, attachment: bool = False) -> Response:
    # RFC 6266/5987: the Chinese name percent-encoded in filename*, a readable ASCII one for old clients.
    disposition = "attachment" if attachment else "inline"
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f'{disposition}; filename="{fallback}"; filename*=UTF-8\'\'{quote(name, safe="")}',
        "Cache-Control": "private, max-age=300",
    })


@bp.get("/<meeting_code>/qr.png")
@wechat_login_required
def qr_png(meeting_code: str):
    meeting, session = _load(meeting_code)
    return _file(meeting_codes.qr_png(meeting, session), "image/png", f"{meeting.title}-签到二维码.png",
                 f"{meeting.code}-qr.png")


def _poster(meeting_code: str, fmt: str) -> Response:
    meeting, session = _load(meeting_code)
    data = meeting_codes.cached_poster(meeting, session, fmt)
    if data is None:
        me = current_contact()
        job_id = jobs.submit("poster", meeting_codes.poster_job, meeting.id, session.position, fmt,
                             actor=jobs.console_actor(me.id), meeting_id=meeting.id)
        came_from = urlsplit(request.referrer or "").path
        return redirect(url_for("console_people.job_page", code=meeting.code, job_id=job_id,
                                back=came_from if came_from.startswith("/admin/") else f"/admin/{meeting.code}"))
    return _file(data, meeting_codes.POSTER_TYPES[fmt], meeting_codes.poster_filename(meeting, fmt),
                 f"{meeting.code}-poster.{fmt}", attachment=fmt == "pdf")


@bp.get("/<meeting_code>/poster.png")
@wechat_login_required
def poster_png(meeting_code: str):
    return _poster(meeting_code, "png")


@bp.get("/<meeting_code>/poster.pdf")
@wechat_login_required
def poster_pdf(meeting_code: str):
    return _poster(meeting_code, "pdf")


@bp.get("/<meeting_code>/mp.png")
@wechat_login_required
def mp_png(meeting_code: str):
    meeting, session = _load(meeting_code)
    try:
        data = meeting_codes.mp_code(meeting, session)
    except WeChatError:
        # No mini program (or WeChat refused): the plain code still gets people signed in.
        data = meeting_codes.qr_png(meeting, session)
    return _file(data, "image/png", f"{meeting.title}-小程序码.png", f"{meeting.code}-mp.png")
