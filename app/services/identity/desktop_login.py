"""Logging in to the organizer console on a PC by scanning a code with WeChat.

The PC asks for a login attempt: a random token, and a temporary parametric official-account QR
whose scene is ``login:<token>`` (:func:`app.services.codes.scenes.make_login_scene`). The attempt
lives in Redis for :data:`ATTEMPT_TTL_S` and moves through

    waiting --scan--> scanned --confirm--> confirmed --the PC's poll--> used
                              --cancel---> cancelled

Each move is one Lua script, so two polls, two confirms or a scan racing a confirm cannot both win;
``used`` is what makes the code single-use. Only the WeChat identity that scanned may confirm or
cancel, and only the browser that holds the token (in its signed session cookie; the web layer's
business) can poll, so neither a photo of the code nor the confirm link logs anyone else in.

A desktop login also gets a server-side session (:func:`open_session`): the signed cookie alone
would stay valid after logout if someone copied it, so the console checks that the session id it
carries is still alive in Redis, and logout deletes it.

Redis holds nothing the database needs: losing it only ends logins in progress and desktop sessions.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import exists, select

from app.extensions import db, get_redis
from app.services import audit, ratelimit
from app.services.codes.scenes import make_login_scene
from app.services.errors import DomainError
from app.services.meetings.organizers import is_system_admin, organizing_units
from app.wechat import WeChatError, oa_api
from models import Contact, Organizer, WechatIdentity

log = logging.getLogger(__name__)

#: How long a login code may be scanned and confirmed.
ATTEMPT_TTL_S = 300
#: Redis keeps an attempt a little past its end, so a late poll or scan reads "expired", not "unknown".
_KEEP_S = 120
#: A desktop session ends after this long without a console request (and at logout).
SESSION_TTL_S = 12 * 3600
#: Refresh a live session's TTL at most this often: one GET per request, a write once a minute.
SESSION_TOUCH_S = 60
#: Login codes one address may ask for per window: each is a WeChat API call. An office shares one
#: address behind its NAT, and a page left open asks again every five minutes, hence generous.
ATTEMPTS_PER_IP = 60
ATTEMPT_WINDOW_S = 10 * 60

TOKEN_CHARS = 32  # secrets.token_urlsafe(24); "login:" + 32 is well inside WeChat's 64
_ATTEMPT = "huiyi:login:{}"
_SESSION = "huiyi:console:session:{}"

#: What the PC's poll may learn (``used`` and ``missing`` read as ``expired``).
POLL_STATES = ("waiting", "scanned", "confirmed", "expired", "cancelled")


class DesktopLoginError(DomainError):
    messages = {
        "attempt_expired": "登录二维码已失效，请在电脑上刷新二维码后重新扫码",
        "not_bound": "您的微信尚未绑定通讯录人员，不能登录会务后台。请先扫描任一会议的签到码完成身份核对，或联系会务组",
        "no_console_access": "您不是任何会议的会务人员，不能登录会务后台。如需开通，请联系主办单位的会务管理员",
        "scanned_by_other": "该登录二维码已被其他微信扫描。请在电脑上刷新二维码后重新扫码",
        "not_scanner": "只有扫描该登录二维码的微信才能确认此次登录",
        "already_done": "本次登录已确认或已取消，无需重复操作",
        "rate_limited": "刷新二维码过于频繁，请 10 分钟后再试",
        "unavailable": "暂时无法生成登录二维码，请稍后刷新重试",
    }
    statuses = {"attempt_expired": 410, "not_bound": 403, "no_console_access": 403, "scanned_by_other": 409,
                "not_scanner": 403, "already_done": 409, "rate_limited": 429, "unavailable": 503}


@dataclass(frozen=True)
class Attempt:
    """A login attempt as the PC shows it, or as the confirm page reads it."""

    token: str
    state: str  # waiting, scanned, confirmed, cancelled, used, expired
    qr_url: str  # what the QR code carries (WeChat's ticket URL)
    expires_at: float  # epoch seconds
    ip: str  # the PC's address, shown on the confirm page
    next_path: str
    scanner_id: int | None  # the WeChat identity that scanned it


@dataclass(frozen=True)
class PollResult:
    state: str  # one of POLL_STATES
    identity: WechatIdentity | None = None  # set when the login succeeded
    session_id: str | None = None  # the new desktop session (open_session)
    next_path: str | None = None
    message: str | None = None  # why a confirmed login was refused after all


def has_console_access(contact: Contact | None) -> bool:
    """Whether ``contact`` may use the organizer console at all: an organizer of some meeting (any
    right), an organizer of an organizing unit, or a system administrator. What they may do on each
    meeting is :func:`app.services.meetings.organizers.require_right`'s business."""
    if contact is None or not contact.active:
        return False
    return bool(db.session.scalar(select(exists().where(Organizer.contact_id == contact.id)))
                or organizing_units(contact) or is_system_admin(contact))


# -- the attempt ----------------------------------------------------------------------------------


def start(*, ip: str | None, next_path: str, now: float | None = None) -> Attempt:
    """A new login attempt and its QR code.

    :raise DesktopLoginError: ``rate_limited`` (429), ``unavailable`` (503: WeChat or Redis away).
    """
    now = now or time.time()
    if ip and ratelimit.hit(f"console_login:ip:{ip}", ATTEMPT_WINDOW_S, now=now) > ATTEMPTS_PER_IP:
        raise DesktopLoginError("rate_limited")
    token = secrets.token_urlsafe(24)
    try:
        ticket = oa_api().create_qrcode_str_scene(make_login_scene(token), ATTEMPT_TTL_S)
    except WeChatError as exc:
        log.warning("login QR unavailable: %s", exc)
        raise DesktopLoginError("unavailable") from exc
    expires_at = now + min(ATTEMPT_TTL_S, ticket.expire_seconds or ATTEMPT_TTL_S)
    fields = {"state": "waiting", "qr": ticket.url, "expires": repr(expires_at), "ip": ip or "", "next": next_path}
    try:
        pipe = get_redis().pipeline()
        pipe.hset(_ATTEMPT.format(token), mapping=fields)
        pipe.expire(_ATTEMPT.format(token), ATTEMPT_TTL_S + _KEEP_S)
        pipe.execute()
    except RedisError as exc:
        log.warning("login attempt not stored (Redis): %s", exc)
        raise DesktopLoginError("unavailable") from exc
    return Attempt(token, "waiting", ticket.url, expires_at, ip or "", next_path, None)


def get_attempt(token: str, *, now: float | None = None) -> Attempt | None:
    """The attempt ``token`` names, its state ``expired`` once past its time; None if unknown."""
    if not _well_formed(token):
        return None
    try:
        raw = get_redis().hgetall(_ATTEMPT.format(token))
    except RedisError:
        log.warning("login attempt unreadable (Redis)")
        return None
    if not raw:
        return None
    data = {k.decode(): v.decode() for k, v in raw.items()}
    expires_at = float(data.get("expires") or 0)
    state = data.get("state", "")
    if state != "used" and (now or time.time()) >= expires_at:
        state = "expired"
    scanner = data.get("identity")
    return Attempt(token, state, data.get("qr", ""), expires_at, data.get("ip", ""), data.get("next", ""),
                   int(scanner) if scanner else None)


# One script for every move, so each is atomic. KEYS[1]: the attempt; ARGV: now, the move, the acting
# identity id. Returns {verdict, scanner, next}: verdict is "ok", the state that forbids the move,
# "expired" (past its time), "missing" or "other" (another identity scanned it).
_MOVE = """
local key, now, move, who = KEYS[1], tonumber(ARGV[1]), ARGV[2], ARGV[3]
local h = redis.call('HMGET', key, 'state', 'expires', 'identity', 'next')
local state, scanner, nxt = h[1], h[3] or '', h[4] or ''
if not state then return {'missing', '', ''} end
if state == 'used' then return {'used', scanner, ''} end
if now >= tonumber(h[2]) then return {'expired', scanner, ''} end
if move == 'scan' then
  if state == 'waiting' then
    redis.call('HSET', key, 'state', 'scanned', 'identity', who)
    return {'ok', who, ''}
  end
  if state == 'scanned' and scanner ~= who then return {'other', scanner, ''} end
  if state == 'scanned' then return {'ok', who, ''} end
  return {state, scanner, ''}
end
if move == 'confirm' or move == 'cancel' then
  if state ~= 'scanned' then return {state, scanner, ''} end
  if scanner ~= who then return {'other', scanner, ''} end
  if move == 'confirm' then redis.call('HSET', key, 'state', 'confirmed')
  else redis.call('HSET', key, 'state', 'cancelled') end
  return {'ok', who, ''}
end
if move == 'poll' then
  if state ~= 'confirmed' then return {state, scanner, ''} end
  redis.call('HSET', key, 'state', 'used')
  return {'ok', scanner, nxt}
end
return {'bad', '', ''}
"""


def _move(token: str, move: str, identity_id: int | None, now: float | None) -> tuple[str, int | None, str]:
    if not _well_formed(token):
        return "missing", None, ""
    try:
        verdict, scanner, next_path = get_redis().eval(_MOVE, 1, _ATTEMPT.format(token), repr(now or time.time()),
                                                       move, str(identity_id or ""))
    except RedisError as exc:
        log.warning("login attempt %s failed (Redis): %s", move, exc)
        return "missing", None, ""
    scanner = scanner.decode() if isinstance(scanner, bytes) else scanner
    next_path = next_path.decode() if isinstance(next_path, bytes) else next_path
    verdict = verdict.decode() if isinstance(verdict, bytes) else verdict
    return verdict, int(scanner) if scanner else None, next_path


def _well_formed(token: str) -> bool:
    return isinstance(token, str) and len(token) == TOKEN_CHARS and token.replace("-", "").replace("_", "").isalnum()


def _refuse(verdict: str) -> DesktopLoginError:
    if verdict == "other":
        return DesktopLoginError("not_scanner")
    if verdict in ("confirmed", "cancelled"):
        return DesktopLoginError("already_done")
    return DesktopLoginError("attempt_expired")  # missing, used, expired, waiting (a confirm before a scan)


def scan(token: str, identity: WechatIdentity | None, *, now: float | None = None) -> Contact:
    """Someone scanned the login code with WeChat: mark the attempt scanned by ``identity`` (a
    second scan by the same person is fine). Returns their contact, for the reply.

    :raise DesktopLoginError: ``attempt_expired``, ``not_bound``, ``no_console_access``,
        ``scanned_by_other``.
    """
    attempt = get_attempt(token, now=now)
    if attempt is None or attempt.state in ("expired", "used"):
        raise DesktopLoginError("attempt_expired")
    contact = identity.contact if identity is not None else None
    if contact is None:
        raise DesktopLoginError("not_bound")
    if not has_console_access(contact):
        audit.record(f"contact:{contact.id}", "console.login_refused", reason="no_console_access")
        raise DesktopLoginError("no_console_access")
    verdict, _, _ = _move(token, "scan", identity.id, now)
    if verdict == "other":
        raise DesktopLoginError("scanned_by_other")
    if verdict != "ok":  # confirmed, cancelled, used or expired meanwhile: the PC needs a new code
        raise DesktopLoginError("attempt_expired")
    return contact


def confirm(token: str, identity: WechatIdentity, *, ip: str | None, now: float | None = None) -> None:
    """The scanner confirms on their phone. Only the identity that scanned may.

    :raise DesktopLoginError: ``not_scanner`` (403), ``already_done`` (409), ``attempt_expired`` (410),
        ``no_console_access`` (their access was taken away since the scan).
    """
    attempt = get_attempt(token, now=now)
    if attempt is not None and attempt.scanner_id == identity.id and not has_console_access(identity.contact):
        raise DesktopLoginError("no_console_access")
    _decide(token, identity, "confirm", ip=ip, now=now)


def cancel(token: str, identity: WechatIdentity, *, ip: str | None, now: float | None = None) -> None:
    """The scanner refuses the login on their phone; the PC shows it cancelled.

    :raise DesktopLoginError: as :func:`confirm`.
    """
    _decide(token, identity, "cancel", ip=ip, now=now)


def _decide(token: str, identity: WechatIdentity, move: str, *, ip: str | None, now: float | None) -> None:
    verdict, _, _ = _move(token, move, identity.id, now)
    if verdict != "ok":
        raise _refuse(verdict)
    actor = f"contact:{identity.contact_id}" if identity.contact_id else f"identity:{identity.id}"
    audit.record(actor, "console.login_confirmed" if move == "confirm" else "console.login_cancelled", ip=ip)


def poll(token: str | None, *, ip: str | None, now: float | None = None) -> PollResult:
    """What the PC showing ``token`` should show; on ``confirmed`` the attempt is used up (atomically:
    of two polls, one wins) and the result carries the identity to log in and its new session.

    ``token`` is None when the browser holds no attempt: that reads as expired.
    """
    if token is None:
        return PollResult("expired")
    verdict, scanner, next_path = _move(token, "poll", None, now)
    if verdict in ("waiting", "scanned", "cancelled"):
        return PollResult(verdict)
    if verdict != "ok":
        return PollResult("expired")
    identity = db.session.get(WechatIdentity, scanner) if scanner else None
    contact = identity.contact if identity is not None else None
    if identity is None or not has_console_access(contact):
        # Unbound or stripped of every right between the scan and now: the code is spent all the same.
        return PollResult("expired", message=DesktopLoginError("no_console_access").message)
    session_id = open_session(identity, now=now)
    audit.record(f"contact:{contact.id}", "console.login", ip=ip, via="desktop_scan")
    return PollResult("confirmed", identity, session_id, next_path)


# -- desktop sessions -----------------------------------------------------------------------------


def open_session(identity: WechatIdentity, *, now: float | None = None) -> str | None:
    """A new server-side session for ``identity``; its id goes into the browser's signed cookie.

    None when Redis is away: the login still succeeds, as a session without server-side logout.
    """
    session_id = secrets.token_urlsafe(24)
    try:
        get_redis().set(_SESSION.format(session_id), f"{identity.id}:{int(now or time.time())}", ex=SESSION_TTL_S)
    except RedisError as exc:
        log.warning("desktop session not stored (Redis): %s", exc)
        return None
    return session_id


def session_alive(session_id: str, identity_id: int | None, *, now: float | None = None) -> bool:
    """Whether the desktop session ``session_id`` of ``identity_id`` is still open (not logged out,
    not idle past :data:`SESSION_TTL_S`). One GET; a live session's TTL is renewed at most once a
    :data:`SESSION_TOUCH_S`.

    With Redis away this answers True (logged): on meeting day the console must not lock its
    organizers out because a cache is down; the cookie is still signed and still expires.
    """
    if not session_id or identity_id is None:
        return False
    now = now or time.time()
    key = _SESSION.format(session_id)
    r = get_redis()
    try:
        value = r.get(key)
        if value is None:
            return False
        owner, _, touched = value.decode().partition(":")
        if owner != str(identity_id):
            return False
        if now - float(touched or 0) >= SESSION_TOUCH_S:
            # XX: a logout that deleted the key meanwhile must not be undone by this refresh.
            r.set(key, f"{owner}:{int(now)}", ex=SESSION_TTL_S, xx=True)
    except RedisError as exc:
        log.warning("desktop session not checked (Redis): %s", exc)
        return True
    return True


def end_session(session_id: str | None, contact: Contact | None, *, ip: str | None) -> None:
    """Logout: the session id stops working on every copy of the cookie."""
    if session_id:
        try:
            get_redis().delete(_SESSION.format(session_id))
        except RedisError as exc:
            log.warning("desktop session not ended (Redis): %s", exc)
    if contact is not None:
        audit.record(f"contact:{contact.id}", "console.logout", ip=ip)
