"""/admin/<code>/badges: the badges (胸卡 / 代表证) page of the logistics tab (issue 18).

Reading the page and its preview needs ``view``; printing needs ``logistics``. A print always runs
as a job (a thousand cards take seconds): the page then shows its progress, the download, and the
photos left off with why. The preview is one card drawn by the same code as the print, with a
placeholder QR (a viewer must not be handed anyone's door code).
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from app import jobs
from app.services.logistics import badges
from app.services.meetings import organizers
from app.tx import finish_with_error
from app.web.console_auth import actor_of, console_login_required, load_meeting
from app.web.errors import wants_json

bp = Blueprint("console_badges", __name__, url_prefix="/admin")


def _options(values, *, strict: bool = True) -> badges.Options:
    return badges.options_from_form(
        how=values.get("filter", "all"), size=values.get("size"), role=values.get("role"),
        group=values.get("group"), people=values.getlist("people"),
        colours={role: values.get(f"colour_{i}", "") for i, role in enumerate(badges.ROLES)}, strict=strict)


@bp.get("/<code>/badges")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    return render_template("console/badges.html", meeting=meeting, me=me, right=right, tab="logistics",
                           subtab="badges", job=job, can_print="logistics" in organizers.RIGHTS[right],
                           page=badges.page_data(meeting), sizes=badges.SIZES, roles=badges.ROLES)


@bp.get("/<code>/badges/preview.png")
@console_login_required
def preview(code: str):
    meeting, _me, _right = load_meeting(code, "view")
    png = badges.preview_png(meeting, _options(request.args, strict=False))
    return png, 200, {"Content-Type": "image/png", "Cache-Control": "no-store"}


@bp.post("/<code>/badges/print")
@console_login_required
def print_(code: str):
    meeting, me, _right = load_meeting(code, "logistics")
    try:
        options = _options(request.form)
        badges.check_selection(meeting, options)
    except badges.BadgeError as exc:
        if wants_json():
            raise  # the error handler answers {"error": {"code", "message"}}
        finish_with_error(exc)
        flash(exc.message, "error")
        return redirect(url_for(".page", code=meeting.code) + "#print")
    job_id = badges.submit_print(meeting, options, actor=actor_of(me), job_actor=jobs.console_actor(me.id))
    return redirect(url_for(".page", code=meeting.code, job=job_id) + "#print-job")
