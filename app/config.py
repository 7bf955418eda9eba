"""Configuration read from the environment (a `.env` file works in development).

The names are an interface others depend on (DESIGN.md); keep them stable.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import parse_qs

ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = ROOT / "instance"

#: The development defaults are public (they are in this repository): a production server that ran on
#: them would let anyone forge an organizer's session cookie, bind tokens, screen links, or WeChat's
#: callback signature. The production entry points refuse them (:func:`refuse_public_defaults`).
PUBLIC_DEFAULTS = {"SECRET_KEY": "dev-only-secret-change-me", "WECHAT_TOKEN": "huiyidemotoken"}
MIN_SECRET_KEY_LENGTH = 32


def _rate(raw: str, default: float) -> float:
    """A positive number of messages a second, or ``default`` for an empty or unusable value."""
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if 0 < value <= 10_000 else default


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


class Config:
    """Defaults for a newcomer's machine: SQLite, the in-process Redis stand-in, the simulator."""

    def __init__(self) -> None:
        self.SECRET_KEY = _env("SECRET_KEY") or PUBLIC_DEFAULTS["SECRET_KEY"]
        # Rotating the secret: the old one, listed here for a while, still opens sessions and screens.
        self.SECRET_KEY_FALLBACKS = [k.strip() for k in _env("SECRET_KEY_FALLBACKS").split(",") if k.strip()]
        self.DATABASE_URL = _env("DATABASE_URL") or f"sqlite:///{INSTANCE_DIR / 'huiyi.sqlite3'}"
        # Empty means the embedded in-process stand-in (fakeredis): fine for one process only.
        self.REDIS_URL = _env("REDIS_URL")
        # Redis behind Sentinel (several hosts, failover): "host:port,host:port" and the master's name.
        # Written as one ``redis+sentinel://`` URL, which every Redis client of the app understands
        # (app.extensions.redis_client), so that REDIS_URL stays the one switch between embedded and real.
        self.REDIS_SENTINELS = _env("REDIS_SENTINELS")
        self.REDIS_SENTINEL_MASTER = _env("REDIS_SENTINEL_MASTER") or "huiyi"
        if self.REDIS_SENTINELS and not self.REDIS_URL:
            self.REDIS_URL = f"redis+sentinel://{self.REDIS_SENTINELS}/{self.REDIS_SENTINEL_MASTER}/0"
        self.PUBLIC_BASE_URL = (_env("PUBLIC_BASE_URL") or "http://127.0.0.1:5000").rstrip("/")
        self.STORAGE_DIR = _env("STORAGE_DIR") or str(INSTANCE_DIR / "storage")
        # Behind our own reverse proxy the client address is the last X-Forwarded-For hop; never
        # trust that header when clients reach the app directly (it would defeat per-IP limits).
        self.TRUST_PROXY = _env("TRUST_PROXY").lower() in {"1", "true", "yes"}

        self.WECHAT_APP_ID = _env("WECHAT_APP_ID") or "wx_huiyi_demo_oa"
        self.WECHAT_APP_SECRET = _env("WECHAT_APP_SECRET") or "huiyi-demo-oa-secret"
        self.WECHAT_TOKEN = _env("WECHAT_TOKEN") or PUBLIC_DEFAULTS["WECHAT_TOKEN"]
        # Set -> safe mode (AES); empty -> plaintext.
        self.WECHAT_ENCODING_AES_KEY = _env("WECHAT_ENCODING_AES_KEY")
        # With an AES key set, plaintext callbacks are refused as a downgrade; this lets them in while
        # the account's message mode is being switched, and only then.
        self.WECHAT_ALLOW_PLAINTEXT = _env("WECHAT_ALLOW_PLAINTEXT").lower() in {"1", "true", "yes"}
        self.WECHAT_API_BASE_URL = (_env("WECHAT_API_BASE_URL") or "https://api.weixin.qq.com").rstrip("/")
        self.MINIPROGRAM_APP_ID = _env("MINIPROGRAM_APP_ID") or "wx_huiyi_demo_mp"
        # Off: never ask WeChat for codes; show the plain H5 QR (e.g. an account without the API).
        self.WECHAT_CODES_ENABLED = _env("WECHAT_CODES_ENABLED", "1").lower() not in {"0", "false", "no"}
        self.MINIPROGRAM_APP_SECRET = _env("MINIPROGRAM_APP_SECRET") or "huiyi-demo-mp-secret"
        # The category templates the account picked for 催签 and 会议通知 (empty: the simulator's
        # demo ids), and how many notice messages a second each channel may take.
        self.WECHAT_REMINDER_TEMPLATE_ID = _env("WECHAT_REMINDER_TEMPLATE_ID")
        self.WECHAT_NOTICE_TEMPLATE_ID = _env("WECHAT_NOTICE_TEMPLATE_ID")
        self.NOTICE_WECHAT_PER_S = _rate(_env("NOTICE_WECHAT_PER_S"), 100.0)
        self.NOTICE_SMS_PER_S = _rate(_env("NOTICE_SMS_PER_S"), 50.0)
        # The offline door's Ed25519 private key (base64 of its 32-byte seed) that signs personal
        # codes; every app server must hold the same one. Empty: a key made once under instance/
        # (development and the demo only; production refuses to start without it).
        self.DOOR_SIGNING_KEY = _env("DOOR_SIGNING_KEY")

        # SMS through Tencent Cloud's SMS API 3.0 (app/services/notify/sms.py). All four keys unset:
        # SMS is "not configured" and the UI says so. SMS_ENDPOINT is the API's host[:port] (the local
        # simulator, scripts/sms_sim, in the demo and tests); SMS_SCHEME is https but for it.
        self.SMS_SECRET_ID = _env("SMS_SECRET_ID")
        self.SMS_SECRET_KEY = _env("SMS_SECRET_KEY")
        self.SMS_SDK_APP_ID = _env("SMS_SDK_APP_ID")
        self.SMS_SIGN_NAME = _env("SMS_SIGN_NAME")
        self.SMS_REGION = _env("SMS_REGION") or "ap-guangzhou"
        self.SMS_ENDPOINT = _env("SMS_ENDPOINT") or "sms.tencentcloudapi.com"
        self.SMS_SCHEME = (_env("SMS_SCHEME") or "https").lower()
        # The provider's template ids (approved in its console) for each kind of message.
        self.SMS_TEMPLATE_NOTICE = _env("SMS_TEMPLATE_NOTICE")
        self.SMS_TEMPLATE_REMINDER = _env("SMS_TEMPLATE_REMINDER")
        self.SMS_TEMPLATE_CONFIDENTIALITY = _env("SMS_TEMPLATE_CONFIDENTIALITY")
        # The secret last segment of the status-callback URL (POST /sms/status/<token>): the
        # provider's push is unsigned, so knowing the URL is what lets a push in.
        self.SMS_CALLBACK_TOKEN = _env("SMS_CALLBACK_TOKEN")

        # Scans and ballots arriving together: many per transaction (app/batching.py). Off: each in its
        # own request's transaction (tests that roll back their transaction need that).
        self.GROUP_COMMIT = _env("GROUP_COMMIT", "1").lower() not in {"0", "false", "no"}

        # Flask / SQLAlchemy settings derived from the above.
        self.SQLALCHEMY_DATABASE_URI = _normalize_db_url(self.DATABASE_URL)
        self.SQLALCHEMY_ENGINE_OPTIONS = _engine_options(self.SQLALCHEMY_DATABASE_URI)
        self.MAX_CONTENT_LENGTH = 64 * 1024 * 1024
        self.WTF_CSRF_TIME_LIMIT = 8 * 3600
        self.JSON_AS_ASCII = False

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in vars(self).items() if k.isupper()}


def public_default_problems(config: Config) -> list[str]:
    """What makes ``config`` unfit for production, one line each (Chinese, then English)."""
    problems = [f"{name} 使用了公开的默认值 / {name} is the public development default"
                for name, default in PUBLIC_DEFAULTS.items() if getattr(config, name) == default]
    problems += sms_problems(config)
    if config.SECRET_KEY != PUBLIC_DEFAULTS["SECRET_KEY"] and len(config.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY 太短，至少 {MIN_SECRET_KEY_LENGTH} 个字符 / SECRET_KEY is shorter than "
                        f"{MIN_SECRET_KEY_LENGTH} characters")
    if getattr(config, "DOOR_SIGNING_KEY", "") and door_key_seed(config.DOOR_SIGNING_KEY) is None:
        problems.append("DOOR_SIGNING_KEY 格式不正确，应为 32 字节的 base64 / DOOR_SIGNING_KEY is not the base64 "
                        "of 32 bytes")
    elif not getattr(config, "DOOR_SIGNING_KEY", ""):
        problems.append("DOOR_SIGNING_KEY 未设置（个人签到码的签名私钥）/ DOOR_SIGNING_KEY is not set "
                        "(make one: python -c \"import base64,os; print(base64.b64encode(os.urandom(32)).decode())\")")
    return problems


#: The SMS simulator's credentials (scripts/sms_sim), public like the defaults above: a production
#: server configured with them would be sending nothing, or signing with a key anyone knows.
SMS_SIMULATOR_SECRETS = {"SMS_SECRET_ID": "AKIDhuiyiSmsSimulator00000000000000",
                         "SMS_SECRET_KEY": "huiyi-sms-simulator-key-not-secret",
                         "SMS_CALLBACK_TOKEN": "huiyi-demo-sms-callback"}
MIN_SMS_CALLBACK_TOKEN_LENGTH = 16


def sms_problems(config: Config) -> list[str]:
    """What makes the SMS settings unfit for production (nothing when SMS is not enabled)."""
    if not any(getattr(config, n) for n in ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_SDK_APP_ID")):
        return []
    problems = [f"{name} 使用了短信模拟器的公开值 / {name} is the SMS simulator's public value"
                for name, dummy in SMS_SIMULATOR_SECRETS.items() if getattr(config, name) == dummy]
    if len(config.SMS_CALLBACK_TOKEN) < MIN_SMS_CALLBACK_TOKEN_LENGTH:
        problems.append(f"SMS_CALLBACK_TOKEN 未设置或太短，至少 {MIN_SMS_CALLBACK_TOKEN_LENGTH} 个字符 / "
                        f"SMS_CALLBACK_TOKEN is unset or shorter than {MIN_SMS_CALLBACK_TOKEN_LENGTH} characters")
    return problems


def door_key_seed(text: str) -> bytes | None:
    """The 32-byte Ed25519 seed ``DOOR_SIGNING_KEY`` holds in base64, or None if it holds none."""
    import base64
    import binascii

    try:
        seed = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return seed if len(seed) == 32 else None


def refuse_public_defaults(config: Config | None = None) -> None:
    """Exit (status 5) with a clear message if a production entry point (gunicorn, the rq worker)
    would run on the public development secrets. ``make run`` (the demo) and the tests never call it."""
    import sys

    problems = public_default_problems(config or Config())
    if problems:
        sys.stderr.write(
            "\n拒绝启动：生产环境不能使用公开的默认密钥。\nRefusing to start: production cannot run on public defaults.\n"
            + "".join(f"  - {p}\n" for p in problems)
            + "请设置环境变量，例如 / set them, e.g.:\n"
            "  SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(48))')\n"
            "  WECHAT_TOKEN=<公众号后台“服务器配置”中的令牌 / the token of the account's server configuration>\n\n"
        )
        sys.exit(5)


def _normalize_db_url(url: str) -> str:
    # Heroku-style and plain postgres URLs both mean psycopg 3 here.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    if url.startswith("postgresql"):
        url = _multi_host(url)
    return url


def _multi_host(url: str) -> str:
    """libpq's multi-host form ``user@h1:5432,h2:5432/db?target_session_attrs=read-write`` (what an
    HA PostgreSQL pair is reached by) as SQLAlchemy spells it: ``user@/db?host=h1:5432&host=h2:5432&...``
    (its URL parser reads one host only; psycopg hands both to libpq, which connects to the first
    one that takes writes)."""
    scheme, sep, rest = url.partition("://")
    netloc, slash, tail = rest.partition("/")
    userinfo, at, hosts = netloc.rpartition("@")
    if not sep or "," not in hosts:
        return url
    path, question, query = tail.partition("?")
    params = "&".join(f"host={h.strip()}" for h in hosts.split(",") if h.strip())
    return f"{scheme}://{userinfo}{at}/{path}?{params}" + (f"&{query}" if query else "")


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        # SQLite is for a single demo process; a busy timeout lets the worker thread and the web
        # thread share the file without "database is locked" on every overlap.
        return {"connect_args": {"timeout": 15}}
    # No pool_pre_ping: app.pool_ping tests only connections that sat idle (a ping per checkout
    # was a round trip per request and per sign-in batch).
    options: dict[str, object] = {"pool_size": 10, "max_overflow": 20}
    query = parse_qs(url.partition("?")[2])
    if "host" in query:  # several hosts (an HA pair): notice a dead one in seconds, see below
        options["connect_args"] = {k: v for k, v in FAILOVER_CONNECT_ARGS.items() if k not in query}
    return options


#: A primary whose host vanished (power, network) sends nothing back: without these a pooled
#: connection waits for the kernel's TCP timeout (minutes) before the pool learns it is dead. With
#: them the socket fails within 2-3 s, the pool drops it, and libpq connects to the new primary.
#: A URL's own values win.
FAILOVER_CONNECT_ARGS = {"keepalives": 1, "keepalives_idle": 1, "keepalives_interval": 1, "keepalives_count": 2,
                         "tcp_user_timeout": 2000}
