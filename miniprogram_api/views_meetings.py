"""Meetings: find by mini-program code, read, sign in, live numbers for organizers."""

from __future__ import annotations

from app.extensions import db
from app.services.codes.scenes import parse_mp_scene
from app.services.errors import DomainError
from app.services.live import headcount
from app.services.meetings import organizers
from app.services.meetings.meetings import get_meeting
from app.services.meetings.visibility import visible_meeting
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from miniprogram_api import present, schemas
from miniprogram_api.auth import bound_contact, current_identity
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import ErrorBody, api
from models import Meeting, SignInMethod


class SceneError(DomainError):
    messages = {"scene_invalid": "这不是会议签到码，请扫描会场大屏或海报上的小程序码"}
    statuses = {"scene_invalid": 404}


@api(bp, "/meetings/by-scene/<scene>", authenticate=current_identity, tags=["会议"],
     summary="按小程序码的 scene 查找会议与场次", responses={200: schemas.SceneMeeting, 404: ErrorBody})
def meeting_by_scene(scene: str, me):
    """scene 为 `<会议代码>.<场次>` 或 `id:<会议编号>.<场次>`（最多 32 个字符）。"""
    parsed = parse_mp_scene(scene)
    if parsed is None:
        raise SceneError("scene_invalid")
    meeting = (get_meeting(parsed.meeting_code) if parsed.meeting_code
               else db.session.get(Meeting, parsed.meeting_id))
    if meeting is None:
        raise SceneError("scene_invalid")
    meeting = visible_meeting(meeting, me.contact)
    session = get_session(meeting, parsed.session_position)
    # Reached by scanning the code in the room: the sign-in offered here is a scan's.
    return schemas.SceneMeeting(session_position=session.position,
                                meeting=present.detail(meeting, me.contact, scanned=True))


@api(bp, "/meetings/<code>", authenticate=current_identity, tags=["会议"],
     summary="会议简介、议程、地点、时间和我的签到状态", responses={200: schemas.MeetingDetail, 404: ErrorBody})
def meeting_detail(code: str, me):
    return present.detail(visible_meeting(code, me.contact), me.contact)


@api(bp, "/meetings/<code>/signin", "POST", body=schemas.SignInRequest, authenticate=current_identity,
     tags=["会议"], summary="签到（幂等：重试时使用同一个 nonce）",
     responses={200: schemas.SignInResult, 400: ErrorBody, 403: ErrorBody, 404: ErrorBody})
def meeting_signin(code: str, me, body: schemas.SignInRequest):
    """不能签到时返回原因代码：not_invited、not_open_yet、signin_closed、pending_approval、scan_required…"""
    contact = bound_contact(me)
    meeting = visible_meeting(code, me.contact)
    session = get_session(meeting, body.session)
    outcome = sign_in(meeting, session, contact, method=SignInMethod.MINIPROGRAM, nonce=body.nonce,
                      scanned=_scanned(body.scene, meeting))
    # A retry of the request that created the record gets the answer the first one got.
    first = outcome.created or outcome.record.nonce == body.nonce
    return present.signin_result(meeting, session, contact, outcome.record, first=first)


def _scanned(scene: str | None, meeting: Meeting) -> bool:
    """Whether the mini program came to this sign-in by scanning this meeting's code: it passes the
    code's scene (WeChat hands it to the page that a scan opens; the page's own button has none)."""
    parsed = parse_mp_scene(scene or "")
    return parsed is not None and (parsed.meeting_code == meeting.code or parsed.meeting_id == meeting.id)


@api(bp, "/meetings/<code>/live", query=schemas.LiveQuery, authenticate=current_identity, tags=["会务"],
     summary="实时签到人数（应到、实到、签到率，仅会务人员）",
     responses={200: schemas.LiveNumbers, 403: ErrorBody, 404: ErrorBody})
def meeting_live(code: str, me, query: schemas.LiveQuery):
    meeting = get_meeting(code)
    organizers.require_right(meeting, me.contact, "view")
    session = get_session(meeting, query.session)
    return present.live(meeting, session, headcount.numbers(meeting, session, recent=False))
