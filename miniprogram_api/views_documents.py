"""Meeting documents: my list, watermarked page images and downloads; the 保密提醒 to confirm first.

Links carry a token sealed for the caller's identity; the documents service checks it, the
caller's access and recall on every page and download, and logs each one. While the meeting's
confidentiality terms stand unconfirmed, pages and downloads answer 403 ``confidentiality_unconfirmed``
(the same gate as the H5 pages)."""

from __future__ import annotations

import io

from flask import current_app, send_file

from app.client_address import client_ip
from app.services.documents import confidentiality
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
    return s.DocumentList(items=[present_attendee.document(meeting, item) for item in listed],
                          confidentiality_pending=confidentiality.pending(meeting, me.contact) is not None)


@api(bp, "/meetings/<code>/documents/<token>/pages/<int:n>.png", authenticate=current_identity,
     tags=["会议材料"], summary="一页材料的图片（带本人姓名和手机尾号水印）",
     responses={200: Binary("image/png", "PNG 图片"), **REFUSALS})
def document_page(code: str, token: str, n: int, me):
    """已清退返回 410 recalled；链接属于他人返回 403 link_not_yours；须先确认保密提醒时返回 403
    confidentiality_unconfirmed（读取并确认：/meetings/{code}/confidentiality）。每次查看都会记录。"""
    meeting = visible_meeting(code, me.contact)
    png = documents.serve_page(meeting, bound_contact(me), token=token, page=n, ip=client_ip(), **_who(me))
    return _private(current_app.response_class(png, mimetype="image/png"))


@api(bp, "/meetings/<code>/documents/<token>/download", authenticate=current_identity, tags=["会议材料"],
     summary="下载原文件（仅当会务组允许下载）", responses={200: Binary("*/*", "原文件"), **REFUSALS})
def document_download(code: str, token: str, me):
    """须先确认保密提醒时返回 403 confidentiality_unconfirmed，同查看页面。"""
    meeting = visible_meeting(code, me.contact)
    original = documents.download(meeting, bound_contact(me), token=token, ip=client_ip(), **_who(me))
    return _private(send_file(io.BytesIO(original.data), mimetype=original.mime_type, as_attachment=True,
                              download_name=original.file_name, max_age=0))


@api(bp, "/meetings/<code>/confidentiality", authenticate=current_identity, tags=["会议材料"],
     summary="保密提醒：全文、版本、是否须确认、我是否已确认",
     responses={200: s.ConfidentialityOut, 403: ErrorBody, 404: ErrorBody})
def confidentiality_terms(code: str, me):
    """打开材料返回 403 confidentiality_unconfirmed 时，先展示这里的全文，用户点“我已阅读并遵守”后
    以其 version 调用 POST …/confidentiality/confirmation。"""
    meeting = visible_meeting(code, me.contact)
    contact = bound_contact(me)
    confidentiality.reader_of(meeting, contact)
    terms = confidentiality.terms_of(meeting)
    mine = confidentiality.confirmation_of(meeting, contact, terms.version)
    return s.ConfidentialityOut(version=terms.version, text=terms.text, required=terms.required,
                                confirmed=mine is not None, confirmed_at=mine.confirmed_at if mine else None)


@api(bp, "/meetings/<code>/confidentiality/confirmation", "POST", body=s.ConfidentialityConfirmRequest,
     authenticate=current_identity, tags=["会议材料"], summary="确认已阅读并遵守保密提醒（重复确认不重复记录）",
     responses={200: s.ConfidentialityConfirmed, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody})
def confidentiality_confirm(code: str, me, body: s.ConfidentialityConfirmRequest):
    """所带版本已不是当前版本时返回 409 confidentiality_stale（内容已更新：请重新获取并展示后再确认）。"""
    meeting = visible_meeting(code, me.contact)
    done = confidentiality.confirm(meeting, bound_contact(me), body.version, "mp")
    return s.ConfidentialityConfirmed(status="confirmed", version=done.version, confirmed_at=done.confirmed_at)
