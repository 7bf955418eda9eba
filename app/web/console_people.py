"""A meeting's invitees (参会人员) and organizers (会务人员) in the console.

Reading needs the ``view`` right; changing the list needs ``invitees``, changing organizers needs
``organizers`` (both owner rights). Forms post, redirect and get (``form_action``); the directory
search and the per-person add button are JSON for the page's script.

A spreadsheet is never read in the request (issue 21.10): the upload is stored and a job checks it,
with its progress on a page of its own; the report is shown before anything changes, the checked
rows are held for the confirmation, and the confirmation applies them in two bulk statements, in
the request when small and by a job otherwise (``svc.apply_inline``, the contacts import's rule).
"""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for

from app import jobs
from app.extensions import db
from app.services.contacts.reader import DEFAULT_MAX_BYTES, DirectoryFileError
from app.services.errors import DomainError
from app.services.meetings import invitees as svc
from app.services.meetings import organizers as org_svc
from app.services.meetings.meetings import MeetingError, find_contact_by_phone
from app.services.signin.rules import get_session
from app.tx import finish_with_error
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from app.web.input_guard import json_object
from models import Contact, InviteeRole, Job, OrganizerRight

bp = Blueprint("console_people", __name__, url_prefix="/admin")

TEMPLATE_HEADERS = ["序号", "单位", "姓名", "手机", "身份", "分组", "座位", "备注"]


class PeopleFormError(DomainError):
    # Not 404: on a form these are typing mistakes, shown on the page (form_action lets 404s through).
    messages = {"file_missing": "请选择要上传的名单文件", "person_missing": "请先搜索并选择人员，或填写手机号",
                "person_not_found": "通讯录中找不到该人员（可能已停用）",
                "phone_not_found": "通讯录中找不到手机号为 {phone} 的人员"}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _refused(exc: DomainError, back: str):
    """A domain error in a view that renders rather than redirects on success: shown on ``back``
    with the request's writes dropped, as :func:`form_action` does."""
    if exc.status in (403, 404):
        raise exc
    finish_with_error(exc)
    flash(exc.message, "error")
    return redirect(back)


def spreadsheet_upload(missing: DomainError) -> tuple[bytes, str]:
    """The request's spreadsheet (form field ``file``): its bytes and name, read no further than
    the directory reader's limit. :raise DirectoryFileError: ``file_too_large``, ``empty_file``;
    ``missing`` when no file came."""
    if (request.content_length or 0) > DEFAULT_MAX_BYTES + 64 * 1024:
        raise DirectoryFileError("file_too_large", size_mb=request.content_length / 1024 / 1024,
                                 limit_mb=DEFAULT_MAX_BYTES / 1024 / 1024)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        raise missing
    data = upload.read(DEFAULT_MAX_BYTES + 1)
    if len(data) > DEFAULT_MAX_BYTES:
        raise DirectoryFileError("file_too_large", size_mb=len(data) / 1024 / 1024,
                                 limit_mb=DEFAULT_MAX_BYTES / 1024 / 1024)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DirectoryFileError("empty_file")
    return data, upload.filename


def own_check_job(meeting, me, job_id: int, kind: str) -> Job:
    """A spreadsheet check's job: the caller's own, of ``kind`` and for this meeting, or 404."""
    job = jobs.job_for(job_id, {jobs.console_actor(me.id)})
    if job is None or job.meeting_id != meeting.id or job.kind != kind:
        abort(404)
    return job


def check_finished(job: Job, back: str):
    """Where a finished check leads: its report (the blueprint's ``import_report``, by the held
    token) or ``back`` with why it failed; None while it runs."""
    if job.state == "done":
        return redirect(url_for(".import_report", code=request.view_args["code"],
                                token=(job.result or {}).get("token", "-")))
    if job.state == "failed":
        flash("检查未完成：" + (job.error_message or jobs.JOB_FAILED_MESSAGE), "error")
        return redirect(back)
    return None


def _show_phones(right: str) -> bool:
    """Owners and staff call people who have not bound WeChat; a read-only viewer sees masked numbers."""
    return right in (OrganizerRight.OWNER, OrganizerRight.STAFF)


# -- invitees --------------------------------------------------------------------------------------

def _filters() -> svc.Filters:
    return svc.Filters(q=request.args.get("q", ""), unit_id=_int(request.args.get("unit")),
                       role=request.args.get("role") or None, group=request.args.get("group") or None,
                       status=request.args.get("status") or "all")


def _list_url(code: str) -> str:
    """Back to the list as the organizer was looking at it (the forms carry its query string)."""
    back = request.form.get("back", "")
    return back if back.startswith(f"/admin/{code}/invitees") else url_for(".invitees", code=code)


def _render_invitees(code: str, **extra):
    meeting, me, right = load_meeting(code, "view")
    session = get_session(meeting, request.args.get("s", type=int))
    filters = _filters()
    page = svc.list_invitees(meeting, filters, page=request.args.get("page", 1, type=int), session=session)
    can_edit = "invitees" in org_svc.RIGHTS[right]

    def list_url(**changes) -> str:
        args = {"q": filters.q, "unit": filters.unit_id, "role": filters.role, "group": filters.group,
                "status": filters.status, "s": request.args.get("s", type=int), **changes}
        if args["status"] == "all":
            del args["status"]
        if args.get("page") == 1:
            del args["page"]
        return url_for(".invitees", code=meeting.code, **{k: v for k, v in args.items() if v not in (None, "")})

    return render_template(
        "console/invitees.html", meeting=meeting, me=me, right=right, page=page, filters=filters,
        options=svc.filter_options(meeting), session=session, can_edit=can_edit,
        units=svc.directory_units(meeting) if can_edit else [], roles=svc.ROLES,
        status_labels=svc.STATUS_LABELS, no_group=svc.NO_GROUP, show_phones=_show_phones(right),
        mask_phone=svc.mask_phone, list_url=list_url, here=list_url(page=page.page), **extra)


@bp.get("/<code>/invitees")
@console_login_required
def invitees(code: str):
    return _render_invitees(code)


@bp.get("/<code>/directory.json")
@console_login_required
def directory(code: str):
    meeting, _me, _right = load_meeting(code, "invitees")
    return jsonify(results=svc.search_directory(meeting, request.args.get("q", "")))


@bp.post("/<code>/invitees/add")
@console_login_required
def add_people(code: str):
    """The directory search's add button (JSON): one or more contact ids."""
    meeting, me, _right = load_meeting(code, "invitees")
    payload = json_object() or {}
    ids = payload.get("contact_ids") or []
    outcome = svc.invite_contacts(meeting, ids if isinstance(ids, list) else [], actor=actor_of(me),
                                  role=payload.get("role") or InviteeRole.DELEGATE,
                                  group_name=payload.get("group_name"))
    return jsonify(ok=True, **outcome, total=svc.total(meeting))


@bp.post("/<code>/invitees/units")
@console_login_required
def add_units(code: str):
    meeting, me, _right = load_meeting(code, "invitees")

    def action():
        outcome = svc.invite_units(meeting, [u for u in map(_int, request.form.getlist("unit_ids")) if u],
                                   actor=actor_of(me), role=request.form.get("role") or InviteeRole.DELEGATE,
                                   group_name=request.form.get("group_name"))
        return f"已添加 {outcome['added']} 人" + (f"（另有 {outcome['already']} 人已在名单中）" if outcome["already"] else "")

    return form_action(action, url_for(".invitees", code=code))


@bp.post("/<code>/invitees/paste")
@console_login_required
def paste(code: str):
    """``do=check`` shows who each line names (no writes); ``add`` adds when every line resolves;
    ``add_partial`` adds the lines that resolve and skips the rest."""
    meeting, me, _right = load_meeting(code, "invitees")
    text = request.form.get("text", "")
    role = request.form.get("role") or InviteeRole.DELEGATE
    group = request.form.get("group_name") or ""
    if request.form.get("do") in ("add", "add_partial"):
        def action():
            outcome = svc.invite_pasted(meeting, text, actor=actor_of(me), partial=request.form["do"] == "add_partial",
                                        role=role, group_name=group)
            skipped = f"，跳过无法识别的 {outcome['skipped']} 行" if outcome["skipped"] else ""
            return f"已添加 {outcome['added']} 人（{outcome['already']} 人原已在名单中）{skipped}"

        return form_action(action, url_for(".invitees", code=code))
    try:
        result = svc.resolve_paste(meeting, text)
    except DomainError as exc:
        return _refused(exc, url_for(".invitees", code=code))
    return _render_invitees(code, paste=result, paste_text=text, paste_role=role, paste_group=group)


@bp.get("/<code>/invitees/template.xlsx")
@console_login_required
def import_template(code: str):
    meeting, _me, _right = load_meeting(code, "invitees")
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "参会人员"
    ws.append(TEMPLATE_HEADERS)
    # The example row is recognised and skipped by the check (and the report says so).
    ws.append([1, "区委办公室", "张三", "13800138000", "代表", "第一代表团", "A-01", "示例行，导入时自动跳过"])
    ws["D2"].number_format = "@"  # the phone as text, not 1.38E+10
    for column, width in zip("ABCDEFGH", (6, 22, 12, 16, 10, 14, 10, 20), strict=True):
        ws.column_dimensions[column].width = width
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=f"参会人员名单模板-{meeting.code}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/<code>/invitees/import")
@console_login_required
def import_check(code: str):
    """Keep the spreadsheet and ask a job to check it; its page shows the progress, then the report."""
    meeting, me, _right = load_meeting(code, "invitees")
    back = url_for(".invitees", code=code)

    def action():
        data, filename = spreadsheet_upload(PeopleFormError("file_missing"))
        return svc.submit_check(meeting, data, filename, job_actor=jobs.console_actor(me.id))

    try:
        job_id = action()
    except DomainError as exc:
        return _refused(exc, back)
    return redirect(url_for(".import_job", code=code, job_id=job_id))


@bp.get("/<code>/invitees/import/job/<int:job_id>")
@console_login_required
def import_job(code: str, job_id: int):
    """A spreadsheet's check or confirmation in a job: its progress, then where it leads."""
    meeting, me, right = load_meeting(code, "invitees")
    job = jobs.job_for(job_id, {jobs.console_actor(me.id)})
    if job is None or job.meeting_id != meeting.id or job.kind not in (svc.JOB_KIND_CHECK, svc.JOB_KIND_APPLY):
        abort(404)
    if job.state == "done" and job.kind == svc.JOB_KIND_CHECK:
        return redirect(url_for(".import_report", code=code, token=(job.result or {}).get("token", "-")))
    if job.state == "done":
        flash((job.result or {}).get("message") or "名单已导入", "success")
        return redirect(url_for(".invitees", code=code))
    checking = job.kind == svc.JOB_KIND_CHECK
    if job.state == "failed":
        flash(("检查未完成：" if checking else "导入未完成：") + (job.error_message or jobs.JOB_FAILED_MESSAGE),
              "error")
        return redirect(url_for(".invitees", code=code))
    return render_template("console/invitee_import_progress.html", meeting=meeting, me=me, right=right, job=job,
                           title="正在检查名单表格（尚未导入）" if checking else "正在导入名单")


@bp.get("/<code>/invitees/import/<token>")
@console_login_required
def import_report(code: str, token: str):
    meeting, me, right = load_meeting(code, "invitees")
    try:
        plan = svc.held_import(meeting, token)
    except DomainError as exc:
        return _refused(exc, url_for(".invitees", code=code))
    return render_template("console/invitee_import.html", meeting=meeting, me=me, right=right, plan=plan,
                           view=svc.report_view(plan))


@bp.get("/<code>/jobs/<int:job_id>")
@console_login_required
def job_page(code: str, job_id: int):
    """A file the console asked a job for (an export, a poster): its progress, then its download
    (``/jobs/<id>/download``, audited) or why it failed. Only the person who asked sees it."""
    meeting, me, right = load_meeting(code, "view")
    job = jobs.job_for(job_id, {jobs.console_actor(me.id)})
    if job is None or job.meeting_id != meeting.id:
        abort(404)
    return render_template("console/job.html", meeting=meeting, me=me, right=right, job=job,
                           back=request.args.get("back", "") if request.args.get("back", "").startswith("/admin/")
                           else url_for(".invitees", code=code))


@bp.post("/<code>/invitees/import/<token>")
@console_login_required
def import_apply(code: str, token: str):
    meeting, me, _right = load_meeting(code, "invitees")
    if not svc.apply_inline(meeting, token):
        job_id = svc.submit_apply(meeting, token, actor=actor_of(me), job_actor=jobs.console_actor(me.id))
        return redirect(url_for(".import_job", code=code, job_id=job_id))

    def action():
        return svc.applied_message(svc.apply_import(meeting, token, actor=actor_of(me)))

    return form_action(action, url_for(".invitees", code=code))


@bp.post("/<code>/invitees/remove")
@console_login_required
def remove(code: str):
    meeting, me, _right = load_meeting(code, "invitees")

    def action():
        n = svc.remove_invitees(meeting, request.form.getlist("ids"), actor=actor_of(me))
        return f"已将 {n} 人移出名单（已签到的签到记录仍保留）"

    return form_action(action, _list_url(code))


@bp.post("/<code>/invitees/update")
@console_login_required
def update(code: str):
    """One person (``single``: every field as typed, blank clears) or a selection (a blank field is
    left as it is, unless its 清空 box is ticked)."""
    meeting, me, _right = load_meeting(code, "invitees")
    form = request.form
    single = form.get("single") == "1"
    fields = {}
    if form.get("role"):
        fields["role"] = form["role"]
    for key in ("group_name", "seat", "note"):
        value = (form.get(key) or "").strip()
        if single or value or form.get(f"clear_{key}"):
            fields[key] = "" if form.get(f"clear_{key}") else value

    def action():
        n = svc.update_invitees(meeting, form.getlist("ids"), actor=actor_of(me), **fields)
        return f"已修改 {n} 人"

    return form_action(action, _list_url(code))


# -- organizers ------------------------------------------------------------------------------------

@bp.get("/<code>/organizers")
@console_login_required
def organizers(code: str):
    meeting, me, right = load_meeting(code, "view")
    return render_template("console/organizers.html", meeting=meeting, me=me, right=right,
                           people=org_svc.list_organizers(meeting), can_edit="organizers" in org_svc.RIGHTS[right],
                           rights=[OrganizerRight.OWNER, OrganizerRight.STAFF, OrganizerRight.VIEWER],
                           show_phones=_show_phones(right), mask_phone=svc.mask_phone)


def _organizer_contact() -> Contact:
    contact_id = _int(request.form.get("contact_id"))
    if contact_id:
        contact = db.session.get(Contact, contact_id)
        if contact is None or not contact.active:
            raise PeopleFormError("person_not_found")
        return contact
    phone = (request.form.get("phone") or "").strip()
    if not phone:
        raise PeopleFormError("person_missing")
    try:
        return find_contact_by_phone(phone)
    except MeetingError as exc:
        if exc.code == "contact_not_found":
            raise PeopleFormError("phone_not_found", **exc.params) from None
        raise


@bp.post("/<code>/organizers/set")
@console_login_required
def organizer_set(code: str):
    meeting, me, _right = load_meeting(code, "organizers")

    def action():
        contact = _organizer_contact()
        organizer = org_svc.set_organizer(meeting, contact, request.form.get("right") or OrganizerRight.STAFF,
                                          actor=actor_of(me), acting=me)
        labels = {"owner": "负责人", "staff": "会务人员", "viewer": "只读"}
        return f"{contact.name} 的权限已设为“{labels[organizer.right]}”"

    return form_action(action, url_for(".organizers", code=code))


@bp.post("/<code>/organizers/remove")
@console_login_required
def organizer_remove(code: str):
    meeting, me, _right = load_meeting(code, "organizers")

    def action():
        contact = _organizer_contact()
        org_svc.remove_organizer(meeting, contact, actor=actor_of(me), acting=me)
        return f"已移除会务人员 {contact.name}"

    return form_action(action, url_for(".organizers", code=code))
