"""The offline door: the staff scanner's data and sync (a desk token), the attendee's personal code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from flask import request

from app.services.meetings.visibility import visible_meeting
from app.services.signin import desk_sync, desks, personal_codes
from miniprogram_api import schemas_desk as schemas
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api
from models import Desk


def current_desk() -> Desk:
    """:raise DeskError: ``desk_unauthorized`` (missing, unknown), ``desk_revoked`` (401)."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    if scheme.lower() != "bearer":
        raise desks.DeskError("desk_unauthorized")
    return desks.desk_for_token(token)


@api(bp, "/desk/bundle", authenticate=current_desk, security="desk", tags=["签到台"],
     summary="签到台离线所需的数据（名单、撤销列表、公钥）", responses={200: schemas.DeskBundle})
def desk_bundle(me: Desk):
    """签到台联网时拉取并保存在设备上；断网时据此验码并显示结果。"""
    return schemas.DeskBundle.model_validate(desks.bundle(me))


@api(bp, "/desk/scans", "POST", body=schemas.DeskSyncRequest, authenticate=current_desk, security="desk",
     tags=["签到台"], summary="上传签到台排队的扫码（幂等，可重复上传）", responses={200: schemas.DeskSyncResult})
def desk_sync_scans(me: Desk, body: schemas.DeskSyncRequest):
    """每条扫码都会保存；同一人以最早的扫码时间签到一次。撤销、伪造、非本会议等扫码保存并标记，不签到。"""
    now = datetime.now(UTC)
    result = desk_sync.sync(me, [desk_sync.ScanIn(s.scan_id, s.code, s.at, s.session, s.verdict)
                                 for s in body.scans], now=now, device_now=body.device_time)
    return schemas.DeskSyncResult(received=result.received, new=result.new, signed_in=result.signed_in,
                                  moved_earlier=result.moved_earlier, flagged=result.flagged, server_time=now)


@api(bp, "/meetings/<code>/personal-code", authenticate=current_identity, tags=["会议"],
     summary="我的个人签到码（网络中断时在签到台出示）", responses={200: schemas.PersonalCode, 403: ErrorBody, 404: ErrorBody})
def my_personal_code(code: str, me):
    """仅本会议参会名单内的人员；404 not_listed。"""
    contact = bound_contact(me)
    meeting = visible_meeting(code, contact)
    text = personal_codes.code_for(meeting, contact)
    png = personal_codes.personal_code_png(meeting, contact)
    return schemas.PersonalCode(code=text, expires_at=personal_codes.expiry_of(meeting),
                                png_base64=base64.b64encode(png).decode())
