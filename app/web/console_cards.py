"""The service card (服务卡) in the console: fields for the whole meeting, a role or a group, the
per-person spreadsheet, and one person's card as they will see it.

Reading needs ``view``; changing anything needs ``edit`` (owners, as the meeting's other settings).
A spreadsheet is never read in the request: it is stored and a job checks it (its progress on a
page of its own); the report shows every problem before the confirmation writes anything.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.cards import importer, store
from app.services.cards.fields import FIELDS, SECTIONS, CardError
from app.services.cards.resolve import SCOPE_LABELS, card_for
from app.services.errors import DomainError
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from app.web.console_people import _refused, check_finished, own_check_job, spreadsheet_upload

bp = Blueprint("console_cards", __name__, url_prefix="/admin")


def _typed() -> dict[str, str]:
    return {key: request.form.get(key, "") for key in FIELDS if key in request.form}


def _render(template: str, meeting, me, right, **extra):
    return render_template(template, meeting=meeting, me=me, right=right, tab="cards", sections=SECTIONS,
                           scope_labels=SCOPE_LABELS, **extra)


@bp.get("/<code>/cards")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    return _render("console/cards.html", meeting, me, right, overview=store.overview(meeting))


@bp.post("/<code>/cards/save")
@console_login_required
def save(code: str):
    """One scope's form: every field is on it, so a blank one clears it at this scope."""
    meeting, me, _right = load_meeting(code, "edit")
    scope, key = request.form.get("scope", ""), request.form.get("key", "")
    where = {"meeting": "全体参会人员", "role": f"身份“{key}”", "group": f"分组“{key}”"}.get(scope, "")

    def action():
        if scope not in ("meeting", "role", "group"):
            raise CardError("scope_invalid")
        store.set_fields(meeting, scope, key, _typed(), actor=actor_of(me), replace=True)
        return f"已保存{where}的服务卡"

    return form_action(action, url_for(".page", code=code) + (f"#{scope}-{key}" if key else f"#{scope}"))


@bp.get("/<code>/cards/people")
@console_login_required
def people(code: str):
    meeting, me, right = load_meeting(code, "view")
    page_no = max(1, request.args.get("page", 1, type=int) or 1)
    q = request.args.get("q", "")
    rows, total = store.people(meeting, q=q, page=page_no)
    return _render("console/cards_people.html", meeting, me, right, rows=rows, total=total, q=q, page=page_no,
                   pages=max(1, -(-total // store.PEOPLE_PAGE)), fields=FIELDS)


@bp.route("/<code>/cards/people/<int:contact_id>", methods=["GET", "POST"])
@console_login_required
def person(code: str, contact_id: int):
    """One person's card as they see it (with where each value comes from), and their own fields."""
    meeting, me, right = load_meeting(code, "edit" if request.method == "POST" else "view")
    contact = store.invited_contact(meeting, contact_id)
    here = url_for(".person", code=code, contact_id=contact_id)
    if request.method == "POST":
        def action():
            store.set_fields(meeting, "person", contact_id, _typed(), actor=actor_of(me), replace=True)
            return f"已保存{contact.name}的服务卡"

        return form_action(action, here)
    return _render("console/cards_person.html", meeting, me, right, contact=contact,
                   card=card_for(meeting, contact_id, now=datetime.now(UTC)),
                   own=store.scope_fields(meeting, "person", contact_id))


@bp.get("/<code>/cards/template.xlsx")
@console_login_required
def template(code: str):
    meeting, _me, _right = load_meeting(code, "edit")
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "服务卡"
    ws.append(importer.TEMPLATE_HEADERS)
    # The directory reader's example row (张三 / 13800138000, "示例" in a cell) is skipped by the check.
    example = {"seat": "3 排 12 号", "meal_name": "午餐", "meal_place": "2 楼宴会厅",
               "meal_table": "5", "bus_route": "1 号线", "bus_time": "07:30", "bus_car": "3 号车",
               "hotel_room": "1208", "note": "示例行，导入时自动跳过"}
    ws.append(["区委办公室", "张三", "13800138000", *(example.get(key, "") for key in importer.TEMPLATE_FIELDS)])
    ws["C2"].number_format = "@"  # the phone as text, not 1.38E+10
    for index in range(len(importer.TEMPLATE_HEADERS)):
        ws.column_dimensions[openpyxl.utils.get_column_letter(index + 1)].width = 16 if index < 3 else 12
    ws.append([])
    ws.append(["说明：手机号用于找到本人（不填手机号时按单位和姓名查找）；空白单元格不修改已有内容；"
               "用餐、乘车等按分组或全体统一的内容，请在“服务卡”页面按分组或全体填写。"])
    out = BytesIO()
    wb.save(out)
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=f"服务卡模板-{meeting.code}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.post("/<code>/cards/import")
@console_login_required
def import_check(code: str):
    meeting, me, _right = load_meeting(code, "edit")
    back = url_for(".page", code=code) + "#import"
    try:
        data, filename = spreadsheet_upload(CardError("file_missing"))
        job_id = importer.submit_check(meeting, data, filename, job_actor=jobs.console_actor(me.id))
    except DomainError as exc:
        return _refused(exc, back)
    return redirect(url_for(".import_job", code=code, job_id=job_id))


@bp.get("/<code>/cards/import/job/<int:job_id>")
@console_login_required
def import_job(code: str, job_id: int):
    meeting, me, right = load_meeting(code, "edit")
    job = own_check_job(meeting, me, job_id, importer.JOB_KIND_CHECK)
    return (check_finished(job, url_for(".page", code=code) + "#import")
            or _render("console/cards_import_progress.html", meeting, me, right, job=job))


@bp.get("/<code>/cards/import/<token>")
@console_login_required
def import_report(code: str, token: str):
    meeting, me, right = load_meeting(code, "edit")
    try:
        plan = importer.held(meeting, token)
    except DomainError as exc:
        return _refused(exc, url_for(".page", code=code) + "#import")
    names = store.names([r[1] for r in plan.rows[:importer.REPORT_LIMIT]])
    return _render("console/cards_import.html", meeting, me, right, plan=plan, names=names,
                   limit=importer.REPORT_LIMIT, fields=FIELDS)


@bp.post("/<code>/cards/import/<token>")
@console_login_required
def import_apply(code: str, token: str):
    meeting, me, _right = load_meeting(code, "edit")
    return form_action(lambda: importer.apply(meeting, token, actor=actor_of(me)),
                       url_for(".people", code=code))
