"""/admin/<code>/lodging: 住宿 at the console (issue 18): hotels, room types and rooms with who is in
each, one-click allocation, the unallocated with why, picking a room for a person, publishing, the
room list import and the hotels' rooming list export (recorded jobs, their progress on the page).

Reading needs ``view``; everything that writes, the import and the export (names and units for a
hotel) need ``logistics``. Every form goes through ``form_action``: a refusal is shown on the page
with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.errors import DomainError
from app.services.exports import XLSX_TYPE
from app.services.logistics import lodging, lodging_io
from app.services.logistics.people import ROLE_ORDER
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from app.web.console_people import _refused, check_finished, own_check_job, spreadsheet_upload

bp = Blueprint("console_lodging", __name__, url_prefix="/admin")


def _render(template: str, meeting, me, right, **extra):
    return render_template(template, meeting=meeting, me=me, right=right, tab="logistics", subtab="lodging", **extra)


def _write(code: str, action: Callable, anchor: str = ""):
    """A lodging form: ``action(meeting, me)`` returns the message shown after it."""
    meeting, me, _right = load_meeting(code, "logistics")
    return form_action(lambda: action(meeting, me), url_for(".page", code=code) + anchor)


@bp.get("/<code>/lodging")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    return _render("console/lodging.html", meeting, me, right, view=lodging.overview(meeting), job=job,
                   roles=list(ROLE_ORDER), pick_limit=lodging.PICK_LIMIT)


# -- hotels, types, rooms --------------------------------------------------------------------------

@bp.post("/<code>/lodging/hotels")
@console_login_required
def hotel_add(code: str):
    return _write(code, lambda m, me: f"已添加酒店“{lodging.save_hotel(m, request.form, actor=actor_of(me)).name}”",
                  "#hotels")


@bp.post("/<code>/lodging/hotels/<int:hotel_id>")
@console_login_required
def hotel_save(code: str, hotel_id: int):
    def action(m, me):
        return f"已保存酒店“{lodging.save_hotel(m, request.form, actor=actor_of(me), hotel=lodging.get_hotel(m, hotel_id)).name}”"

    return _write(code, action, f"#hotel-{hotel_id}")


@bp.post("/<code>/lodging/hotels/<int:hotel_id>/delete")
@console_login_required
def hotel_delete(code: str, hotel_id: int):
    return _write(code, lambda m, me: lodging.delete_hotel(m, lodging.get_hotel(m, hotel_id), actor=actor_of(me))
                  or "已删除酒店", "#hotels")


@bp.post("/<code>/lodging/hotels/<int:hotel_id>/types")
@console_login_required
def type_add(code: str, hotel_id: int):
    def action(m, me):
        room_type = lodging.add_type(m, lodging.get_hotel(m, hotel_id), request.form, actor=actor_of(me),
                                     roles=request.form.getlist("roles"))
        return f"已添加房型“{room_type.name}”"

    return _write(code, action, f"#hotel-{hotel_id}")


@bp.post("/<code>/lodging/types/<int:type_id>/delete")
@console_login_required
def type_delete(code: str, type_id: int):
    return _write(code, lambda m, me: lodging.delete_type(m, lodging.get_type(m, type_id), actor=actor_of(me))
                  or "已删除房型", "#hotels")


@bp.post("/<code>/lodging/hotels/<int:hotel_id>/rooms")
@console_login_required
def rooms_add(code: str, hotel_id: int):
    def action(m, me):
        return f"已添加 {len(lodging.add_rooms(m, lodging.get_hotel(m, hotel_id), request.form, actor=actor_of(me)))} 个房间"

    return _write(code, action, f"#hotel-{hotel_id}")


@bp.post("/<code>/lodging/rooms/delete")
@console_login_required
def room_delete(code: str):
    return _write(code, lambda m, me: lodging.delete_room(m, lodging.get_room(m, request.form.get("room_id")),
                                                          actor=actor_of(me)) or "已删除房间", "#hotels")


# -- who sleeps where ------------------------------------------------------------------------------

@bp.post("/<code>/lodging/allocate")
@console_login_required
def allocate(code: str):
    return _write(code, lambda m, me: lodging.run_allocation(m, actor=actor_of(me), acting=me).message(),
                  "#allocation")


@bp.post("/<code>/lodging/assign")
@console_login_required
def assign(code: str):
    return _write(code, lambda m, me: lodging.assign(m, request.form.get("contact_id"), request.form.get("room_id"),
                                                     actor=actor_of(me), acting=me), "#allocation")


@bp.post("/<code>/lodging/unassign")
@console_login_required
def unassign(code: str):
    return _write(code, lambda m, me: lodging.unassign(m, request.form.get("contact_id"), actor=actor_of(me),
                                                       acting=me), "#allocation")


@bp.post("/<code>/lodging/publish")
@console_login_required
def publish(code: str):
    def action(m, me):
        told = lodging.publish(m, actor=actor_of(me), acting=me)
        return f"住宿安排已发布，已通知 {told} 人在服务卡查看"

    return _write(code, action, "#allocation")


@bp.post("/<code>/lodging/unpublish")
@console_login_required
def unpublish(code: str):
    return _write(code, lambda m, me: lodging.unpublish(m, actor=actor_of(me)) or "已撤回发布：参会人员暂不可见房间",
                  "#allocation")


# -- spreadsheets ----------------------------------------------------------------------------------

@bp.post("/<code>/lodging/export")
@console_login_required
def export(code: str):
    meeting, me, _right = load_meeting(code, "logistics")
    job_id = lodging_io.submit_export(meeting, actor=actor_of(me), job_actor=jobs.console_actor(me.id))
    return redirect(url_for(".page", code=code, job=job_id) + "#export")


@bp.get("/<code>/lodging/template.xlsx")
@console_login_required
def template(code: str):
    meeting, _me, _right = load_meeting(code, "logistics")
    return send_file(BytesIO(lodging_io.template_xlsx()), as_attachment=True, mimetype=XLSX_TYPE,
                     download_name=f"房间表模板-{meeting.code}.xlsx")


@bp.post("/<code>/lodging/import")
@console_login_required
def import_check(code: str):
    meeting, me, _right = load_meeting(code, "logistics")
    back = url_for(".page", code=code) + "#import"
    try:
        data, filename = spreadsheet_upload(lodging_io.RoomImportError("file_missing"))
        job_id = lodging_io.submit_check(meeting, data, filename, job_actor=jobs.console_actor(me.id))
    except DomainError as exc:
        return _refused(exc, back)
    return redirect(url_for(".import_job", code=code, job_id=job_id))


@bp.get("/<code>/lodging/import/job/<int:job_id>")
@console_login_required
def import_job(code: str, job_id: int):
    meeting, me, right = load_meeting(code, "logistics")
    job = own_check_job(meeting, me, job_id, lodging_io.JOB_CHECK)
    return (check_finished(job, url_for(".page", code=code) + "#import")
            or _render("console/lodging_import_progress.html", meeting, me, right, job=job))


@bp.get("/<code>/lodging/import/<token>")
@console_login_required
def import_report(code: str, token: str):
    meeting, me, right = load_meeting(code, "logistics")
    try:
        plan = lodging_io.held(meeting, token)
    except DomainError as exc:
        return _refused(exc, url_for(".page", code=code) + "#import")
    return _render("console/lodging_import.html", meeting, me, right, plan=plan, limit=lodging_io.REPORT_LIMIT)


@bp.post("/<code>/lodging/import/<token>")
@console_login_required
def import_apply(code: str, token: str):
    return _write(code, lambda m, me: lodging_io.apply(m, token, actor=actor_of(me)), "#hotels")
