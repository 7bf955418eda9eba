"""A meeting's sign-in codes: the official-account QR, the mini-program code, the plain H5 QR,
the rotating screen code and the printable poster.

Which code people scan:
- the official-account parametric QR (QR_STR_SCENE) when WeChat is configured: the scan reaches our
  callback already carrying the openid, so a bound attendee is signed in with no typing;
- a plain QR to the H5 sign-in page when WeChat is switched off (``WECHAT_CODES_ENABLED`` false) or
  does not answer: slower for people (OAuth + a tap) but never a dead end;
- on the big screen with ``meeting.rotating_qr``: the H5 page with a token that changes every
  ``ROTATING_QR_PERIOD`` seconds, so a photo of the screen stops working within a minute. An
  official-account QR cannot rotate that fast (each one is a WeChat API call), hence H5.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode

from flask import current_app
from sqlalchemy import select

from app import jobs
from app.extensions import db, get_redis
from app.services import storage
from app.services.codes import posters, qr_images
from app.services.codes.rotating_code import RotatingCode
from app.services.codes.scenes import make_mp_scene, make_scene
from app.wechat import WeChatError, mp_api, oa_api
from models import Meeting, MeetingCode, MeetingSession

log = logging.getLogger(__name__)

OA_KIND = "oa_qr"
#: WeChat's ceiling for temporary parametric QR codes.
MAX_LIFETIME = timedelta(days=30)
#: A code outlives the meeting by a day (late scans, a poster photographed afterwards), no more.
AFTER_MEETING = timedelta(days=1)
#: Never ask WeChat for a code shorter-lived than this (a meeting that ended long ago).
MIN_LIFETIME = timedelta(hours=1)
RENEW_MARGIN = timedelta(days=1)
RENEW_FRACTION = 0.1
MP_PAGE = "pages/meeting/index"
_MP_CACHE_TTL = 7 * 86400  # unlimited mini-program codes never expire; the cache only saves calls
_POSTER_CACHE_TTL = 86400
_WECHAT_DOWN_BACKOFF = 60


@dataclass(frozen=True)
class StaticCode:
    """What a printed or downloaded code carries, and which kind it is."""

    payload: str
    kind: Literal["oa_qr", "h5"]


# -- official-account QR ------------------------------------------------------------------------


def wechat_codes_enabled() -> bool:
    cfg = current_app.config
    return bool(cfg.get("WECHAT_CODES_ENABLED", True)) and bool(cfg.get("WECHAT_APP_ID"))


def _stored(meeting: Meeting, session: MeetingSession, kind: str) -> MeetingCode | None:
    return db.session.scalar(
        select(MeetingCode).where(MeetingCode.meeting_id == meeting.id, MeetingCode.session_id == session.id,
                                  MeetingCode.kind == kind)
        # Re-read after taking the lock: another server may have renewed it meanwhile.
        .execution_options(populate_existing=True)
    )


def lifetime_for(meeting: Meeting, now: datetime) -> timedelta:
    """Up to 30 days, but not past the meeting's end plus a day."""
    until_after = meeting.ends_at + AFTER_MEETING - now
    return max(MIN_LIFETIME, min(MAX_LIFETIME, until_after))


def _is_fresh(code: MeetingCode | None, scene: str, now: datetime) -> bool:
    if code is None or not code.ticket or not code.url or code.expires_at is None:
        return False
    extra = code.extra or {}
    # A code made for another account (the simulator before, real WeChat now) is useless here.
    if code.scene != scene or extra.get("app_id") != oa_api().app_id:
        return False
    lifetime = timedelta(seconds=int(extra.get("lifetime", 0)))
    margin = min(RENEW_MARGIN, lifetime * RENEW_FRACTION)
    return code.expires_at - now > margin


def oa_qr(meeting: Meeting, session: MeetingSession, *, now: datetime | None = None,
          renew: bool = False) -> MeetingCode:
    """The session's parametric official-account QR, made once and renewed before it expires.

    :param renew: make a new one even if the stored one is still good (e.g. the simulator restarted).
    :raise WeChatError: WeChat refused or did not answer (nothing is written then).
    """
    now = now or datetime.now(UTC)
    scene = make_scene(meeting.code, session.position)
    code = _stored(meeting, session, OA_KIND)
    if not renew and _is_fresh(code, scene, now):
        return code  # type: ignore[return-value]
    # Serialize renewals per meeting so several servers make one code, not one each. The meeting
    # row is not locked by sign-ins, so scans are not held up while WeChat answers.
    db.session.execute(select(Meeting.id).where(Meeting.id == meeting.id).with_for_update())
    code = _stored(meeting, session, OA_KIND)
    if not renew and _is_fresh(code, scene, now):
        return code  # type: ignore[return-value]
    api = oa_api()
    wanted = int(lifetime_for(meeting, now).total_seconds())
    ticket = api.create_qrcode_str_scene(scene, wanted)
    granted = ticket.expire_seconds or wanted
    if code is None:
        code = MeetingCode(meeting_id=meeting.id, session_id=session.id, kind=OA_KIND)
        db.session.add(code)
    code.scene, code.ticket, code.url = scene, ticket.ticket, ticket.url
    code.expires_at = now + timedelta(seconds=granted)
    code.extra = {"app_id": api.app_id, "lifetime": granted, "issued_at": now.isoformat()}
    db.session.flush()
    log.info("made official-account QR for %s session %s (%d s)", meeting.code, session.position, granted)
    return code


# -- H5 and the choice between them ---------------------------------------------------------------


def h5_url(meeting: Meeting, session: MeetingSession, **params: str) -> str:
    """The H5 sign-in page; ``s`` names the session when it is not the first."""
    query = dict(params)
    if session.position != 1:
        query["s"] = str(session.position)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    return f"{base}/m/{meeting.code}/signin" + (f"?{urlencode(query)}" if query else "")


def static_code(meeting: Meeting, session: MeetingSession, *, now: datetime | None = None) -> StaticCode:
    """What a poster or a downloaded QR carries: the official-account QR, else the H5 page."""
    # After a failure, skip WeChat for a minute: a big screen refreshing its QR during an outage
    # must not wait for a WeChat timeout on every refresh.
    down_key = f"huiyi:oaqr:down:{meeting.id}:{session.id}"
    if wechat_codes_enabled() and not get_redis().exists(down_key):
        try:
            return StaticCode(oa_qr(meeting, session, now=now).url or "", OA_KIND)
        except WeChatError as exc:
            get_redis().set(down_key, "1", ex=_WECHAT_DOWN_BACKOFF)
            log.warning("official-account QR for %s unavailable (%s); falling back to the H5 QR",
                        meeting.code, exc)
    return StaticCode(h5_url(meeting, session), "h5")


def qr_png(meeting: Meeting, session: MeetingSession, *, now: datetime | None = None, box_px: int = 12) -> bytes:
    """PNG of the static code. We draw WeChat's QR URL ourselves (WeChat documents that the url
    may be rendered by the caller): crisper at any size than showqrcode, and no extra call."""
    return qr_images.qr_png(static_code(meeting, session, now=now).payload, box_px=box_px)


# -- rotating screen code -------------------------------------------------------------------------


def rotating(app_config: dict | None = None) -> RotatingCode:
    cfg = app_config or current_app.config
    return RotatingCode.from_app_secret(cfg["SECRET_KEY"], period_s=int(cfg.get("ROTATING_QR_PERIOD", 30)))


def screen_qr_payload(meeting: Meeting, session: MeetingSession, now: datetime) -> str:
    """What the big screen encodes at ``now``: the rotating H5 link, else the static code."""
    if meeting.rotating_qr:
        return h5_url(meeting, session, r=rotating().current(meeting.code, now))
    return static_code(meeting, session, now=now).payload


def verify_rotating(meeting: Meeting, token: str, now: datetime) -> bool:
    """True when ``token`` (the ``r`` of a scanned screen link) is the current or previous one."""
    return rotating().verify(meeting.code, token or "", now)


# -- mini-program code ------------------------------------------------------------------------------


def mp_scene(meeting: Meeting, session: MeetingSession) -> str:
    return make_mp_scene(meeting.code, meeting.id, session.position)


def mp_code(meeting: Meeting, session: MeetingSession) -> bytes:
    """PNG of the mini-program code opening ``pages/meeting/index`` with the meeting's scene.

    Cached in Redis by app id, scene and page: every server shares it, and WeChat limits calls.
    :raise WeChatError: when WeChat refuses (callers fall back to :func:`qr_png`).
    """
    api = mp_api()
    scene = mp_scene(meeting, session)
    key = f"huiyi:mpcode:{api.app_id}:{MP_PAGE}:{scene}"
    redis = get_redis()
    cached = redis.get(key)
    if cached:
        return bytes(cached)
    png = api.wxacode_unlimit(scene=scene, page=MP_PAGE)
    redis.set(key, png, ex=_MP_CACHE_TTL)
    return png


# -- poster -------------------------------------------------------------------------------------------

PosterFormat = Literal["png", "pdf"]


def _poster_key(meeting: Meeting, session: MeetingSession, fmt: str, code, several: bool) -> str:
    starts, ends = (session.starts_at, session.ends_at) if several else (meeting.starts_at, meeting.ends_at)
    fields = (fmt, meeting.title, session.title if several else "", starts.isoformat(), ends.isoformat(),
              meeting.venue, code.payload)
    return "huiyi:poster:" + hashlib.sha256("\x1f".join(fields).encode()).hexdigest()


def cached_poster(meeting: Meeting, session: MeetingSession, fmt: PosterFormat = "png", *,
                  now: datetime | None = None) -> bytes | None:
    """The poster if it was rendered already (the web serves that at once); None otherwise: rendering
    takes 0.2-0.4 s of CPU, so the web asks a job for it (:func:`poster_job`, issue 21.10)."""
    if fmt not in ("png", "pdf"):
        raise ValueError("fmt must be 'png' or 'pdf'")
    code = static_code(meeting, session, now=now)
    cached = get_redis().get(_poster_key(meeting, session, fmt, code, len(meeting.sessions) > 1))
    return bytes(cached) if cached else None


def poster_filename(meeting: Meeting, fmt: str) -> str:
    return f"{meeting.title}-签到海报.{fmt}"


POSTER_TYPES = {"png": "image/png", "pdf": "application/pdf"}


def poster_job(meeting_id: int, position: int, fmt: str) -> dict[str, str]:
    """The job that renders a poster (and caches it, so the next request serves it at once)."""
    meeting = db.session.get(Meeting, meeting_id)
    session = next(s for s in meeting.sessions if s.position == position)
    jobs.report_progress(0, 1, "正在生成签到海报")
    data = poster(meeting, session, "pdf" if fmt == "pdf" else "png")
    jobs.report_progress(1, 1, "已生成")
    return {"sha": storage.put(data), "filename": poster_filename(meeting, fmt), "content_type": POSTER_TYPES[fmt]}


def poster(meeting: Meeting, session: MeetingSession, fmt: PosterFormat = "png", *,
           now: datetime | None = None) -> bytes:
    """The printable A4 poster (title, time, venue, the static QR). Cached for a day by content,
    so printing it twice does not render twice and any change to the meeting shows at once.
    Renders in the caller: call it from a job or the CLI (the web uses :func:`cached_poster`)."""
    if fmt not in ("png", "pdf"):
        raise ValueError("fmt must be 'png' or 'pdf'")
    code = static_code(meeting, session, now=now)
    several = len(meeting.sessions) > 1
    starts, ends = (session.starts_at, session.ends_at) if several else (meeting.starts_at, meeting.ends_at)
    key = _poster_key(meeting, session, fmt, code, several)
    redis = get_redis()
    cached = redis.get(key)
    if cached:
        return bytes(cached)
    footer = ("首次签到需填写单位、姓名和手机号，以后扫码即可直接签到。" if code.kind == OA_KIND
              else "微信扫码后按提示登录并签到。")
    spec = posters.PosterSpec(
        title=meeting.title, starts_at=starts, ends_at=ends, venue=meeting.venue or "",
        qr_png=qr_images.qr_png(code.payload, box_px=16), subtitle=session.title if several else None,
        footer_note=footer,
    )
    data = posters.render_poster_pdf(spec) if fmt == "pdf" else posters.render_poster_png(spec)
    redis.set(key, data, ex=_POSTER_CACHE_TTL)
    return data
