"""/admin/<code>/registration: 报名 at the console. The registrations list (filters on every field,
bulk approve or refuse with a reason, tags, the xlsx export as a job) needs the "registrations"
right; the forms editor (/registration/forms) is the meeting's own: "edit". Every action is a
plain form (post/redirect/get through ``form_action``)."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services import storage
from app.services.registration import decide, forms, query
from app.services.registration import fields as field_catalog
from app.services.registration.errors import RegistrationError
from app.services.timeutil import LOCAL_TZ
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from models.registrations import FormAccess

bp = Blueprint("console_registration", __name__, url_prefix="/admin")
#: Custom field rows the editor offers (filled ones plus blanks, up to the catalog's limit).
CUSTOM_ROWS = 3


def _filters() -> query.Filters:
    return query.Filters.parse(request.values)


@bp.get("/<code>/registration")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "registrations")
    try:
        filters = _filters()
        error = None
    except RegistrationError as exc:
        filters, error = query.Filters(), exc.message
    listing = query.list_registrations(meeting, filters, page=request.args.get("page", 1, type=int) or 1)
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    form_list = forms.forms_of(meeting)
    return render_template(
        "console/registration.html", meeting=meeting, me=me, right=right, tab="registration", page=listing,
        filters=filters, filter_error=error, forms={f.id: f for f in form_list}, labels=query.STATUS_LABELS,
        diet_tags=field_catalog.DIET_TAGS, job=job, args=filters.as_args(),
        base_args={k: v for k, v in filters.as_args().items() if k != "status"})


@bp.get("/<code>/registration/<int:registration_id>")
@console_login_required
def detail(code: str, registration_id: int):
    meeting, me, right = load_meeting(code, "registrations")
    registration = decide.get_registration(meeting, registration_id)
    return render_template("console/registration_detail.html", meeting=meeting, me=me, right=right,
                           tab="registration", r=registration, answers=query.answers_of(registration),
                           labels=query.STATUS_LABELS)


@bp.get("/<code>/registration/<int:registration_id>/files/<key>")
@console_login_required
def file(code: str, registration_id: int, key: str):
    """A file the registration carries (its photo or a custom field's attachment), by its field key."""
    meeting, me, _right = load_meeting(code, "registrations")
    registration = decide.get_registration(meeting, registration_id)
    found = query.file_of(registration, key)
    return send_file(storage.open(found.sha), mimetype=found.mime, as_attachment=not found.mime.startswith("image/"),
                     download_name=found.filename, max_age=0)


@bp.post("/<code>/registration/decide")
@console_login_required
def decide_many(code: str):
    meeting, me, _right = load_meeting(code, "registrations")
    ids = request.form.getlist("ids")
    action = request.form.get("action", "")
    back = url_for(".page", code=code, **_filters_or_none())

    def act():
        if action == "approve":
            out = decide.approve(meeting, ids, actor=actor_of(me))
            return f"已通过 {out['approved']} 人" + (f"（{out['skipped']} 人已通过或已取消，未变）" if out["skipped"] else "")
        if action == "refuse":
            out = decide.refuse(meeting, ids, reason=request.form.get("reason", ""), actor=actor_of(me))
            return f"已不通过 {out['refused']} 人" + (f"（{out['skipped']} 人已审核，未变）" if out["skipped"] else "")
        if action in ("tag", "untag"):
            n = decide.tag(meeting, ids, request.form.get("tag", ""), actor=actor_of(me), remove=action == "untag")
            return f"已为 {n} 人{'添加' if action == 'tag' else '去掉'}标签"
        if action == "group":
            n = decide.set_group_rank(meeting, ids, group=request.form.get("group", ""), actor=actor_of(me))
            return f"已为 {n} 人设置代表团/分组"
        if action == "rank":
            n = decide.set_group_rank(meeting, ids, rank=request.form.get("rank", ""), actor=actor_of(me))
            return f"已为 {n} 人设置排序"
        raise RegistrationError("nothing_selected")

    return form_action(act, back)


def _filters_or_none() -> dict[str, str]:
    try:
        return _filters().as_args()
    except RegistrationError:
        return {}


@bp.post("/<code>/registration/export")
@console_login_required
def export(code: str):
    meeting, me, _right = load_meeting(code, "registrations")
    job_id = query.submit_export(meeting, _filters(), actor=actor_of(me), job_actor=jobs.console_actor(me.id))
    return redirect(url_for(".page", code=code, job=job_id, **_filters_or_none()) + "#export-job")


# -- forms --------------------------------------------------------------------------------------------

@bp.get("/<code>/registration/forms", endpoint="forms")
@console_login_required
def forms_page(code: str):
    meeting, me, right = load_meeting(code, "edit")
    listed = [(f, forms.held_places(f)) for f in forms.forms_of(meeting)]
    return render_template(
        "console/registration_forms.html", meeting=meeting, me=me, right=right, tab="registration", forms=listed,
        catalog=field_catalog.CATALOG, always=field_catalog.ALWAYS, custom_kinds=field_catalog.CUSTOM_KINDS,
        roles=forms.ROLES, access_labels=forms.ACCESS_LABELS, custom_rows=CUSTOM_ROWS,
        default_keys={f["key"]: f["required"] for f in field_catalog.default_fields()},
        h5_url=url_for("registration_page.index", code=meeting.code, _external=True),
        deadline_input=lambda at: at.astimezone(LOCAL_TZ).strftime("%Y-%m-%dT%H:%M"))


def _posted_fields() -> list[dict]:
    fields = []
    for key in field_catalog.CATALOG:
        if request.form.get(f"ask_{key}") or key in field_catalog.ALWAYS:
            fields.append({"key": key, "required": bool(request.form.get(f"req_{key}"))})
    n = 0
    for i in range(1, field_catalog.MAX_CUSTOM + 1):
        label = request.form.get(f"c_label_{i}", "").strip()
        if not label:
            continue
        n += 1
        fields.append({"key": f"c{n}", "label": label, "kind": request.form.get(f"c_kind_{i}", "text"),
                       "options": request.form.get(f"c_options_{i}", ""), "required": bool(request.form.get(f"c_req_{i}"))})
    return fields


def _posted_values() -> dict:
    raw_deadline = request.form.get("deadline", "").strip()
    deadline: datetime | str | None = None
    if raw_deadline:
        try:
            deadline = datetime.fromisoformat(raw_deadline).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            deadline = "invalid"  # the service answers form_deadline_invalid
    return {"title": request.form.get("title", ""), "role": request.form.get("role", ""),
            "access": request.form.get("access", FormAccess.CODE), "invite_code": request.form.get("invite_code", ""),
            "needs_approval": bool(request.form.get("needs_approval")), "fields": _posted_fields(),
            "deadline": deadline, "cap": request.form.get("cap", "")}


@bp.post("/<code>/registration/forms")
@console_login_required
def create_form(code: str):
    meeting, me, _right = load_meeting(code, "edit")

    def act():
        form = forms.create_form(meeting, actor=actor_of(me), **_posted_values())
        return f"已创建报名表「{form.title}」（草稿），核对后点“发布”即可开放报名"

    return form_action(act, url_for(".forms", code=code))


@bp.post("/<code>/registration/forms/<int:form_id>")
@console_login_required
def update_form(code: str, form_id: int):
    meeting, me, _right = load_meeting(code, "edit")

    def act():
        form = forms.get_form(meeting, form_id)
        forms.update_form(form, meeting, actor=actor_of(me), **_posted_values())
        return f"已保存报名表「{form.title}」"

    return form_action(act, url_for(".forms", code=code) + f"#form-{form_id}")


@bp.post("/<code>/registration/forms/<int:form_id>/publish")
@console_login_required
def publish_form(code: str, form_id: int):
    meeting, me, _right = load_meeting(code, "edit")
    publish = request.form.get("publish") == "1"

    def act():
        form = forms.get_form(meeting, form_id)
        forms.publish_form(form, meeting, actor=actor_of(me), published=publish)
        return f"报名表「{form.title}」已{'发布，现在可以报名' if publish else '停止报名'}"

    return form_action(act, url_for(".forms", code=code) + f"#form-{form_id}")
