"""报名 in the mini program: a meeting's published forms, a submission of one or several people, an
upload for a photo or file field, and my registrations. The same services as the H5 page
(app/services/registration); the caller is ``mp:<openid>``, and their bound person, if any, for
a form reserved for invitees. A refused batch answers 400 ``batch_invalid`` with every problem."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import jsonify, request

from app.client_address import client_ip
from app.services import ratelimit
from app.services.meetings.visibility import visible_meeting
from app.services.registration import forms, query, uploads
from app.services.registration.errors import FieldError, RegistrationError
from app.services.registration.fields import CATALOG
from app.services.registration.submit import Caller, check_open, submit
from app.tx import finish_with_error
from miniprogram_api import schemas_registration as s
from miniprogram_api.auth import current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api
from models.registrations import FormAccess

TAGS = ["报名"]
UPLOADS_PER_WINDOW = 60
UPLOAD_WINDOW_S = 10 * 60


def _caller(me) -> Caller:
    return Caller(f"mp:{me.mp_openid or me.id}", contact=me.contact, ip=client_ip())


def _form_out(meeting, form, now) -> s.FormOut:
    try:
        check_open(meeting, form, now)
        closed = None
    except RegistrationError as exc:
        closed = exc.message
    fields = [s.FieldSpec(key=f["key"], label=f["label"], kind=f["kind"], required=f["required"],
                          options=list(CATALOG[f["key"]].options if f["key"] in CATALOG else f.get("options") or []))
              for f in form.fields if not (form.access != FormAccess.OPEN and f["key"] == "unit")]
    return s.FormOut(id=form.id, title=form.title, role=form.role, access=form.access,
                     needs_approval=form.needs_approval, deadline=form.deadline,
                     places_left=None if form.cap is None else max(0, form.cap - forms.held_places(form)),
                     open=closed is None, closed_reason=closed, unit_fixed=form.access != FormAccess.OPEN, fields=fields)


def _reg_out(r) -> s.RegistrationOut:
    return s.RegistrationOut(id=r.id, batch=r.batch, form_id=r.form_id, name=r.name, unit=r.unit_name, phone=r.phone,
                             status=r.status, status_text=query.STATUS_LABELS.get(r.status, r.status),
                             refusal_reason=r.decision_note if r.status == "refused" else None,
                             id_number_masked=r.id_masked, arrival=r.arrival, departure=r.departure,
                             created_at=r.created_at)


@api(bp, "/meetings/<code>/registration/forms", authenticate=current_identity, tags=TAGS,
     summary="本会议开放的报名表（含字段）", responses={200: s.FormList, 404: ErrorBody})
def registration_forms(code: str, me):
    meeting = visible_meeting(code, me.contact)
    now = datetime.now(UTC)
    return s.FormList(items=[_form_out(meeting, f, now) for f in forms.forms_of(meeting, published_only=True)])


@api(bp, "/meetings/<code>/registration/forms/<int:form_id>", "POST", body=s.SubmitRequest,
     authenticate=current_identity, tags=TAGS, summary="提交报名（一人或多人，全部通过才写入）",
     responses={200: s.SubmitOut, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 400: s.BatchErrorBody,
                429: ErrorBody})
def submit_registration(code: str, form_id: int, me, body: s.SubmitRequest):
    """403 invite_code_invalid（邀请码或单位编号不正确）、not_invitee、deadline_passed、form_closed；
    409 cap_reached、phone_registered；400 batch_invalid（error.errors 列出每人每个字段的问题，如
    phone_invalid、id_invalid、text_markup、file_type_invalid）；429 rate_limited。"""
    meeting = visible_meeting(code, me.contact)
    form = forms.get_form(meeting, form_id)
    try:
        out = submit(meeting, form, body.people, caller=_caller(me), invite_code=body.invite_code,
                     unit_code=body.unit_code)
    except RegistrationError as exc:
        finish_with_error(exc)
        payload = exc.to_dict()
        if exc.code == "batch_invalid":
            payload["error"]["errors"] = exc.errors
        response = jsonify(payload)
        response.status_code = exc.status
        return response
    return s.SubmitOut(batch=out.batch, status=out.status, registrations=[_reg_out(r) for r in out.registrations])


@api(bp, "/meetings/<code>/registration/files", "POST", authenticate=current_identity, tags=TAGS,
     summary="上传报名所需的照片或附件（multipart：file，kind=photo|file），返回提交时用的 key",
     responses={200: s.FileOut, 400: ErrorBody, 404: ErrorBody, 429: ErrorBody})
def upload_registration_file(code: str, me):
    """按文件内容判断类型（扩展名与内容不符即拒绝）：照片 JPG、PNG 不超过 5 MB；附件 PDF、Word、Excel、
    JPG、PNG 不超过 10 MB。400 file_empty、file_too_large、file_type_invalid、file_extension_mismatch、
    file_corrupt。"""
    visible_meeting(code, me.contact)
    if ratelimit.begin([(f"registration:upload:{me.id}", UPLOADS_PER_WINDOW)], UPLOAD_WINDOW_S) is None:
        raise RegistrationError("rate_limited")
    kind = "photo" if request.form.get("kind") == "photo" else "file"
    file = request.files.get("file")
    label = "证件照" if kind == "photo" else "附件"
    if file is None:
        raise FieldError("file_empty", label=label)
    checked = uploads.check(uploads.Upload(file.filename or "", file.read(uploads.MAX_BYTES["file"] + 1)), kind, label)
    return s.FileOut(key=uploads.store(checked), kind=checked.kind)


@api(bp, "/meetings/<code>/registration/mine", authenticate=current_identity, tags=TAGS,
     summary="我提交的报名及审核结果（不通过时含原因）", responses={200: s.RegistrationList, 404: ErrorBody})
def my_registrations(code: str, me):
    meeting = visible_meeting(code, me.contact)
    return s.RegistrationList(items=[_reg_out(r) for r in query.mine(meeting, _caller(me).submitter)])
