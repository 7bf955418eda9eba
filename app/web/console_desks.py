"""The offline door in the console: sign-in desks (issue, stop), what they synced (conflicts between
desks, flagged scans), personal codes to revoke, and the paper 签到表's ticks keyed back in.

Staff at the door use these (the "door" right, as the door page's exceptions); every action is a
plain form, post/redirect/get through ``form_action``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, session, url_for

from app.services.codes.qr_images import qr_svg
from app.services.meetings import leaves
from app.services.signin import desk_sync, desks, paper, personal_codes
from app.services.signin.rules import get_session
from app.services.timeutil import local
from app.web.console_auth import console_login_required, form_action, load_meeting

bp = Blueprint("console_desks", __name__, url_prefix="/admin")
#: The session key carrying a new desk's link to the page, shown once (only the token's hash is kept).
LINK_KEY = "new_desk_link"


def scanner_link(token: str) -> str:
    """The scanner's address for a desk: the token rides in the fragment, never sent to a server."""
    return current_app.config["PUBLIC_BASE_URL"] + url_for("desk.page") + f"#t={token}"


@bp.get("/<code>/desks")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "door")
    return render_template(
        "console/desks.html", meeting=meeting, me=me, right=right, tab="desks", desks=desks.desks_of(meeting),
        conflicts=desk_sync.conflicts(meeting), flagged=desk_sync.flagged_scans(meeting),
        counts=desk_sync.counts(meeting), people=leaves.expected_people(meeting), qr_svg=qr_svg,
        new_link=session.pop(LINK_KEY, None), hms=lambda at: local(at).strftime("%H:%M:%S"))


@bp.post("/<code>/desks")
@console_login_required
def issue(code: str):
    meeting, me, _right = load_meeting(code, "door")

    def action():
        issued = desks.issue_desk(meeting, name=request.form.get("name", ""), actor=me)
        session[LINK_KEY] = scanner_link(issued.token)
        return f"已新增签到台「{issued.desk.name}」。请用该签到台的手机或电脑打开下方链接（只显示这一次）"

    return form_action(action, url_for(".page", code=code) + "#desks")


@bp.post("/<code>/desks/<int:desk_id>/revoke")
@console_login_required
def revoke(code: str, desk_id: int):
    meeting, me, _right = load_meeting(code, "door")

    def action():
        desk = desks.revoke_desk(meeting, desk_id, actor=me)
        return f"已停用签到台「{desk.name}」，它已同步的扫码记录仍然保留"

    return form_action(action, url_for(".page", code=code) + "#desks")


@bp.post("/<code>/codes/revoke")
@console_login_required
def revoke_code(code: str):
    meeting, me, _right = load_meeting(code, "door")

    def action():
        contact = leaves.person(request.form.get("contact_id"))
        personal_codes.revoke(meeting, contact, reason=request.form.get("reason", ""), actor=me)
        return f"已撤销 {contact.name} 的个人签到码；其新签到码在会议页面重新显示，签到台联网同步后生效"

    return form_action(action, url_for(".page", code=code) + "#codes")


@bp.get("/<code>/paper")
@console_login_required
def paper_page(code: str):
    meeting, me, right = load_meeting(code, "door")
    current = get_session(meeting, request.args.get("s", type=int))
    return render_template(
        "console/paper.html", meeting=meeting, me=me, right=right, tab="desks", session=current,
        rows=paper.sheet_rows(meeting, current), default_at=local(current.starts_at).strftime("%Y-%m-%dT%H:%M"))


@bp.post("/<code>/paper")
@console_login_required
def paper_save(code: str):
    meeting, me, _right = load_meeting(code, "door")
    current = get_session(meeting, request.form.get("s", type=int))
    form = request.form

    def action():
        ids = [int(v) for v in form.getlist("contact_id") if v.isascii() and v.isdigit() and len(v) < 10]
        done = paper.key_in(meeting, current, ids, at=paper.parse_time(form.get("at", "")), actor=me)
        message = f"已补录 {done.signed} 人签到"
        if done.already:
            message += f"，{done.already} 人此前已签到（保留原签到时间）"
        if done.refused:
            message += "；未能补录：" + "；".join(f"{name}（{why}）" for name, why in done.refused[:10])
        return message

    return form_action(action, url_for(".paper_page", code=code, s=current.position))
