"""The simulator's in-memory world: accounts, tokens, users, QR codes, menus, tags, codes.

Everything is guarded by one re-entrant lock; route handlers hold it for the whole
operation (``with state.lock:``) so concurrent requests see WeChat-like atomicity.
"""

from __future__ import annotations

import base64
import secrets
import string
import threading
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from scripts.wechat_sim.config import SimConfig
from scripts.wechat_sim.errors import SimError

AppKind = Literal["oa", "mp"]
TokenSource = Literal["token", "stable"]

_OPENID_ALPHABET = string.ascii_letters + string.digits + "-_"


def random_id(prefix: str, length: int) -> str:
    return prefix + "".join(secrets.choice(_OPENID_ALPHABET) for _ in range(length))


@dataclass
class Account:
    app_id: str
    secret: str
    kind: AppKind


@dataclass
class IssuedToken:
    token: str
    app_id: str
    source: TokenSource
    expires_at: float
    revoked: bool = False


@dataclass
class SimUser:
    oa_openid: str
    mp_openid: str
    unionid: str | None
    nickname: str
    subscribed: bool = False
    tags: list[int] = field(default_factory=list)  # in the order they were applied
    risky: bool = False  # jscode2session answers 40226
    platform: str = "2"  # client_platform_type: 1 iOS, 2 Android, 3 others
    session_key: str = field(default_factory=lambda: base64.b64encode(secrets.token_bytes(16)).decode())
    last_interaction: float | None = None
    inbox: list[dict[str, Any]] = field(default_factory=list)
    login_calls: deque[float] = field(default_factory=deque)
    subscribe_quota: Counter[str] = field(default_factory=Counter)  # mini-program one-shot subscriptions

    def public(self) -> dict[str, Any]:
        return {
            "oa_openid": self.oa_openid, "mp_openid": self.mp_openid, "unionid": self.unionid,
            "nickname": self.nickname, "subscribed": self.subscribed, "tags": list(self.tags),
            "risky": self.risky,
        }


@dataclass
class QrCode:
    ticket: str
    url: str
    action_name: str
    scene_id: int | None
    scene_str: str | None
    created_at: float
    expire_at: float | None  # None: permanent

    @property
    def scene(self) -> str:
        return self.scene_str if self.scene_str is not None else str(self.scene_id)

    def expired(self, now: float) -> bool:
        return self.expire_at is not None and now >= self.expire_at


@dataclass
class Menu:
    menuid: int
    button: list[dict[str, Any]]
    matchrule: dict[str, Any] | None = None


@dataclass
class Tag:
    id: int
    name: str


@dataclass
class Code:
    """An OAuth code (official account) or a wx.login code (mini program)."""

    code: str
    kind: Literal["oauth", "login"]
    openid: str
    app_id: str
    scope: str
    expires_at: float
    used: bool = False


class SimState:
    def __init__(self, config: SimConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {
            config.app_id: Account(config.app_id, config.app_secret, "oa"),
            config.mp_app_id: Account(config.mp_app_id, config.mp_app_secret, "mp"),
        }
        self.tokens: dict[str, IssuedToken] = {}
        self.current_token: dict[tuple[str, TokenSource], IssuedToken] = {}
        # how many NEW tokens each endpoint issued, per (source, app_id); tests read it
        self.issued: Counter[tuple[str, str]] = Counter()
        self.issue_times: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.force_refresh_times: dict[str, list[float]] = defaultdict(list)
        self.calls: Counter[str] = Counter()  # requests per path
        self.injected: dict[str, deque[int]] = defaultdict(deque)
        self.users: list[SimUser] = []
        self._by_openid: dict[str, SimUser] = {}
        self.qrcodes: dict[str, QrCode] = {}  # by ticket
        self.qrcodes_by_url: dict[str, QrCode] = {}
        self.default_menu: Menu | None = None
        self.conditional_menus: list[Menu] = []  # oldest first
        self.tags: dict[int, Tag] = {2: Tag(2, "星标组")}  # WeChat's reserved system tag
        self.next_tag_id = 100
        self.next_menuid = 400000001
        self.next_msgid = 2_000_000_001
        self.codes: dict[str, Code] = {}
        self.template_dedupe: dict[tuple[str, str], tuple[int, float]] = {}
        self.template_failures: dict[str, int] = {}  # openid -> errcode for template sends
        self.template_status: dict[str, str] = {}  # openid -> TEMPLATESENDJOBFINISH status
        self.media: dict[str, tuple[str, bytes]] = {}
        self.sns_tokens: dict[str, tuple[str, str, float]] = {}  # web OAuth token -> openid, scope, expiry
        self.inbox_seq = 0

    # -- test hooks ----------------------------------------------------------
    def inject_error(self, path: str, errcode: int, times: int = 1) -> None:
        """Make the next ``times`` requests to ``path`` (e.g. "/cgi-bin/qrcode/create") fail."""
        with self.lock:
            self.injected[path].extend([errcode] * times)

    def take_injected(self, path: str) -> int | None:
        with self.lock:
            queue = self.injected.get(path)
            return queue.popleft() if queue else None

    def token_issues(self, source: TokenSource = "stable", app_id: str | None = None) -> int:
        """How many NEW tokens /cgi-bin/token ("token") or /cgi-bin/stable_token ("stable") issued."""
        with self.lock:
            return sum(n for (src, app), n in self.issued.items()
                       if src == source and (app_id is None or app == app_id))

    def invalidate_tokens(self, app_id: str | None = None) -> None:
        """Revoke every live token (as a secret reset or a force refresh elsewhere would)."""
        with self.lock:
            for tok in self.tokens.values():
                if app_id is None or tok.app_id == app_id:
                    tok.revoked = True

    def expire_tokens(self, app_id: str | None = None) -> None:
        with self.lock:
            now = self.clock()
            for tok in self.tokens.values():
                if app_id is None or tok.app_id == app_id:
                    tok.expires_at = min(tok.expires_at, now)

    def fail_template_for(self, openid: str, errcode: int) -> None:
        with self.lock:
            self.template_failures[openid] = errcode

    def template_status_for(self, openid: str, status: str) -> None:
        """The TEMPLATESENDJOBFINISH ``Status`` later sends to this user report: ``success``,
        ``failed:user block`` (they refuse the account's messages), ``failed: system failed``."""
        with self.lock:
            self.template_status[openid] = status

    # -- users ---------------------------------------------------------------
    def create_user(
        self,
        *,
        nickname: str | None = None,
        oa_openid: str | None = None,
        mp_openid: str | None = None,
        unionid: str | bool | None = None,
        subscribed: bool = False,
        risky: bool = False,
    ) -> SimUser:
        with self.lock:
            for given in (oa_openid, mp_openid):
                if given and given in self._by_openid:
                    raise ValueError(f"openid {given} already exists")
            if unionid is None:
                unionid = self.config.unionid_by_default
            user = SimUser(
                oa_openid=oa_openid or random_id("o", 27),
                mp_openid=mp_openid or random_id("o", 27),
                unionid=(random_id("o", 27) if unionid is True else (unionid or None)),
                nickname=nickname or f"微信用户{len(self.users) + 1}",
                subscribed=subscribed,
                risky=risky,
            )
            self.users.append(user)
            self._by_openid[user.oa_openid] = user
            self._by_openid[user.mp_openid] = user
            return user

    def get_user(self, openid: str) -> SimUser | None:
        """The user with this official-account or mini-program openid."""
        with self.lock:
            return self._by_openid.get(openid)

    def ensure_user(self, openid: str, **kwargs: Any) -> SimUser:
        """The user with this openid, created (as an official-account openid) if unknown."""
        with self.lock:
            return self._by_openid.get(openid) or self.create_user(oa_openid=openid, **kwargs)

    def oa_user(self, openid: str) -> SimUser:
        """For OA APIs: the user whose OA openid this is, else 40003 like WeChat."""
        with self.lock:
            user = self._by_openid.get(openid)
            if user is None or user.oa_openid != openid:
                raise SimError(40003)
            return user

    def deliver(self, user: SimUser, kind: str, **entry: Any) -> dict[str, Any]:
        """Record something the account sent to the user (reply, custom, template, subscribe)."""
        with self.lock:
            self.inbox_seq += 1
            item = {"id": self.inbox_seq, "time": self.clock(), "kind": kind, **entry}
            user.inbox.append(item)
            return item

    def new_msgid(self) -> int:
        with self.lock:
            self.next_msgid += 1
            return self.next_msgid

    # -- codes ---------------------------------------------------------------
    def mint_code(self, kind: Literal["oauth", "login"], openid: str, app_id: str, scope: str = "") -> Code:
        ttl = self.config.oauth_code_ttl if kind == "oauth" else self.config.login_code_ttl
        with self.lock:
            code = Code(random_id("0", 31), kind, openid, app_id, scope, self.clock() + ttl)
            self.codes[code.code] = code
            return code

    def redeem_code(self, kind: Literal["oauth", "login"], value: str, app_id: str) -> Code:
        """Single use: 40029 for unknown/expired/other-app codes, 40163 when already used."""
        with self.lock:
            code = self.codes.get(value)
            if code is None or code.kind != kind or code.app_id != app_id or self.clock() >= code.expires_at:
                raise SimError(40029)
            if code.used:
                raise SimError(40163)
            code.used = True
            return code
