"""Meeting documents: my list, watermarked page images and downloads.

Links carry a token sealed for the caller's identity; the documents service checks it, the
caller's access and recall on every page and download, and logs each one."""

from __future__ import annotations

import io

from flask import current_app, send_file

from app.client_address import client_ip
from app.services.documents import materials as documents
from app.services.meetings.visibility import visible_meeting
from miniprogram_api import present_attendee
from miniprogram_api import schemas_attendee as s
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import Binary, ErrorBody, api

NO_STORE = "private, no-store, max-age=0"
REFUSALS = {403: ErrorBody, 404: ErrorBody, 409: ErrorBody, 410: ErrorBody}


def _who(me) -> dict:
    return {"secret_key": current_app.config["SECRET_KEY"], "identity_id": me.id}


def _private(response):
    response.headers["Cache-Control"] = NO_STORE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@api(bp, "/meetings/<code>/documents", authenticate=current_identity, tags=["会议材料"],
     summary="我可查看的会议材料（每人专属的查看链接）", responses={200: s.DocumentList, 403: ErrorBody, 404: ErrorBody})
def document_list(code: str, me):
    meeting = visible_meeting(code, me.contact)
    listed = documents.visible_documents(meeting, bound_contact(me), **_who(me))
    return s.DocumentList(items=[present_attendee.document(meeting, item) for item in listed])


@api(bp, "/meetings/<code>/documents/<token>/pages/<int:n>.png", authenticate=current_identity,
     tags=["会议材料"], summary="一页材料的图片（带本人姓名和手机尾号水印）",
     responses={200: Binary("image/png", "PNG 图片"), **REFUSALS})
def document_page(code: str, token: str, n: int, me):
    """已清退返回 410 recalled；链接属于他人返回 403 link_not_yours。每次查看都会记录。"""
    meeting = visible_meeting(code, me.contact)
    png = documents.serve_page(meeting, bound_contact(me), token=token, page=n, ip=client_ip(), **_who(me))
    return _private(current_app.response_class(png, mimetype="image/png"))


@api(bp, "/meetings/<code>/documents/<token>/download", authenticate=current_identity, tags=["会议材料"],
     summary="下载原文件（仅当会务组允许下载）", responses={200: Binary("*/*", "原文件"), **REFUSALS})
def document_download(code: str, token: str, me):
    meeting = visible_meeting(code, me.contact)
    original = documents.download(meeting, bound_contact(me), token=token, ip=client_ip(), **_who(me))
    return _private(send_file(io.BytesIO(original.data), mimetype=original.mime_type, as_attachment=True,
                              download_name=original.file_name, max_age=0))
