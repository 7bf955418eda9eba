"""Meeting documents on the web: the organizer's upload/recall pages (/admin/<code>/documents…) and
the attendee's list, viewer, page images and download (/m/<code>/documents…).

Every page image and download goes through the documents service, which checks the visitor's
right, recall and the link's binding to this session on each request and logs it.
"""

from __future__ import annotations

import io

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, send_file, url_for

from app.client_address import client_ip
from app.services.documents import confidentiality
from app.services.documents import materials as documents
from app.services.documents.confidentiality import ConfidentialityError
from app.services.documents.convert import conversion_notes
from app.services.meetings.meetings import get_meeting
from app.web.auth import current_contact, current_identity, wechat_login_required
from app.web.console_auth import console_login_required, load_meeting

bp = Blueprint("documents", __name__)
NO_STORE = "private, no-store, max-age=0"
ROLES = ("领导", "代表", "列席", "工作人员", "媒体")


@bp.context_processor
def _page_globals():
    return {"roles": ROLES}


def _who() -> dict:
    """The visitor as the documents service needs them: contact, and the session's identity id."""
    return {"secret_key": current_app.config["SECRET_KEY"], "identity_id": current_identity().id}


def _no_store(response):
    response.headers["Cache-Control"] = NO_STORE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Organizer ------------------------------------------------------------------------------------

@bp.get("/admin/<meeting_code>/documents")
@console_login_required
def admin_list(meeting_code: str):
    meeting, me, right = load_meeting(meeting_code, "documents")
    rows = documents.organizer_overview(meeting, me, **_who())
    return render_template("documents/admin.html", meeting=meeting, me=me, right=right, rows=rows,
                           refresh=documents.in_progress(rows), error=request.args.get("error"),
                           notes=conversion_notes(meeting.id), terms=confidentiality.terms_of(meeting))


@bp.get("/admin/<meeting_code>/documents/status.json")
@console_login_required
def admin_status(meeting_code: str):
    meeting = get_meeting(meeting_code)
    rows = documents.organizer_overview(meeting, current_contact(), **_who())
    notes = conversion_notes(meeting.id)
    return jsonify(documents=[{
        "id": r["document"].id, "number": r["document"].number, "title": r["document"].title,
        "recalled": r["document"].recalled_at is not None, "readers": r["readers"],
        "versions": [{"version": v.version, "status": v.status, "page_count": v.page_count,
                      "pages_ready": v.pages_ready, "error_code": v.error_code,
                      "error_message": v.error_message,
                      "job_note": notes.get(v.id) if v.status in ("pending", "converting", "rendering") else None}
                     for v in r["versions"]],
    } for r in rows])


def _upload(meeting_code: str, document_id: int | None):
    meeting = get_meeting(meeting_code)
    upload = request.files.get("file")
    limit = current_app.config.get("DOCUMENT_MAX_BYTES", documents.DEFAULT_MAX_BYTES)
    data = upload.stream.read(limit + 1) if upload else b""  # one byte over is enough to refuse
    form = request.form
    version = documents.upload(
        meeting, current_contact(), data=data, file_name=upload.filename if upload else "",
        title=form.get("title", ""), number=form.get("number", ""), access=form.get("access", "all"),
        allowed_roles=form.getlist("roles"), allowed_groups=form.get("groups", "").replace("，", ",").split(","),
        allow_download=form.get("allow_download") == "1", document_id=document_id)
    if request.accept_mimetypes.best == "application/json":
        return jsonify(ok=True, document_id=version.document_id, version_id=version.id, version=version.version), 201
    return redirect(url_for(".admin_list", meeting_code=meeting.code))


@bp.post("/admin/<meeting_code>/documents")
@console_login_required
def admin_upload(meeting_code: str):
    return _upload(meeting_code, None)


@bp.post("/admin/<meeting_code>/documents/<int:document_id>/versions")
@console_login_required
def admin_new_version(meeting_code: str, document_id: int):
    return _upload(meeting_code, document_id)


@bp.post("/admin/<meeting_code>/documents/<int:document_id>/recall")
@console_login_required
def admin_recall(meeting_code: str, document_id: int):
    documents.recall(get_meeting(meeting_code), current_contact(), document_id)
    return redirect(url_for(".admin_list", meeting_code=meeting_code))


@bp.post("/admin/<meeting_code>/documents/recall")
@console_login_required
def admin_recall_all(meeting_code: str):
    documents.recall_all(get_meeting(meeting_code), current_contact())
    return redirect(url_for(".admin_list", meeting_code=meeting_code))


@bp.get("/admin/<meeting_code>/documents/<int:document_id>/log")
@console_login_required
def admin_log(meeting_code: str, document_id: int):
    meeting, me, right = load_meeting(meeting_code, "documents")
    document, entries = documents.access_log(meeting, me, document_id)
    return render_template("documents/log.html", meeting=meeting, me=me, right=right, document=document,
                           entries=entries)


# --- Attendee -------------------------------------------------------------------------------------

@bp.get("/m/<meeting_code>/documents")
@wechat_login_required
def attendee_list(meeting_code: str):
    meeting = get_meeting(meeting_code)
    listed = documents.visible_documents(meeting, current_contact(), **_who())
    return _no_store(current_app.make_response(
        render_template("documents/list.html", meeting=meeting, listed=listed,
                        terms_pending=confidentiality.pending(meeting, current_contact()))))


@bp.get("/m/<meeting_code>/documents/<token>")
@wechat_login_required
def viewer(meeting_code: str, token: str):
    meeting = get_meeting(meeting_code)
    try:
        opened = documents.open_document(meeting, current_contact(), token=token, **_who())
    except ConfidentialityError as exc:
        if exc.code != "confidentiality_unconfirmed":
            raise
        # 保密提醒 first; its page brings the reader back to this document.
        return redirect(url_for("confidentiality.confirm_page", meeting_code=meeting.code, doc=token))
    return _no_store(current_app.make_response(
        render_template("documents/viewer.html", meeting=meeting, opened=opened)))


@bp.get("/m/<meeting_code>/documents/<token>/pages/<int:page>.png")
@wechat_login_required
def page_image(meeting_code: str, token: str, page: int):
    meeting = get_meeting(meeting_code)
    png = documents.serve_page(meeting, current_contact(), token=token, page=page, ip=client_ip(), **_who())
    return _no_store(current_app.response_class(png, mimetype="image/png"))


@bp.get("/m/<meeting_code>/documents/<token>/download")
@wechat_login_required
def download(meeting_code: str, token: str):
    meeting = get_meeting(meeting_code)
    original = documents.download(meeting, current_contact(), token=token, ip=client_ip(), **_who())
    return _no_store(send_file(io.BytesIO(original.data), mimetype=original.mime_type, as_attachment=True,
                               download_name=original.file_name, max_age=0))

