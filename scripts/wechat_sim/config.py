"""Simulator configuration: the accounts it plays and the knobs tests turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["plain", "compat", "safe"]


@dataclass
class SimConfig:
    # The official account (公众号) whose server we play.
    app_id: str = "wxsim0a0000000001"
    app_secret: str = "simsecret0a00000000000000000001"
    token: str = "huiyitoken"  # the callback Token configured in the OA backend
    aes_key: str | None = None  # EncodingAESKey (43 chars); required for compat/safe mode
    mode: Mode = "plain"
    callback_url: str | None = None  # where the phone posts event/message XML
    original_id: str = "gh_5imhuiyi0001"  # ToUserName of callbacks (the OA's 原始ID)

    # The mini program (小程序).
    mp_app_id: str = "wxsim0b0000000002"
    mp_app_secret: str = "simsecret0b00000000000000000002"
    mp_pages: list[str] = field(default_factory=lambda: ["pages/index/index"])  # published pages

    # Lifetimes in seconds (shorten them in tests).
    token_lifetime: int = 7200
    token_grace: int = 300  # /cgi-bin/token: the previous token keeps working this long
    stable_renew_before: int = 300  # stable_token hands out a new token this long before expiry
    oauth_code_ttl: int = 300
    login_code_ttl: int = 300
    client_msg_id_ttl: int = 600
    custom_window: int = 48 * 3600  # customer-service messages need an interaction this recent

    # Limits.
    stable_force_refresh_per_day: int = 20
    stable_force_refresh_interval: int = 30
    token_daily_limit: int = 2000  # /cgi-bin/token issues per day before 45009
    jscode2session_per_minute: int = 100
    template_ids: list[str] | None = None  # None: any template id is accepted

    # Behaviour.
    token_latency: float = 0.0  # seconds each token endpoint sleeps (to make races visible)
    callback_timeout: float = 5.0  # WeChat waits 5 s for an answer...
    callback_attempts: int = 3  # ...and sends the same request three times in all
    # False: call the transport in the caller's thread (no timeout, so no retries). Handy when the
    # app under test keeps per-thread state, e.g. a test-scoped database transaction.
    callback_in_thread: bool = True
    template_job_finish_events: bool = False  # post TEMPLATESENDJOBFINISH after template sends
    template_job_finish_delay: float = 0.0
    unionid_by_default: bool = True  # new users get a unionid (OA and MP bound to one open platform)
    oauth_redirect_domains: list[str] | None = None  # None: any redirect_uri host is accepted
    # Public URL of the simulator (including any mount prefix) for links it hands out, when the
    # request's own host/SCRIPT_NAME is not what browsers use (e.g. behind a proxy).
    external_base_url: str | None = None
    secret_key: str = "wechat-sim-not-secret"
