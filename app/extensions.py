"""Extension objects, created once and bound to an app with ``init_app``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis as redis_lib
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel, SentinelManagedConnection
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine

from app.db_session import HuiyiSession

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                session_options={"class_": HuiyiSession})
migrate = Migrate()
csrf = CSRFProtect()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record) -> None:  # pragma: no cover - trivial
    # Foreign keys are off by default in SQLite; WAL lets readers and one writer overlap.
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.close()


class RedisExtension:
    """One Redis client per app: the real server when REDIS_URL is set, else fakeredis.

    The stand-in lives in this process only, so it is shared by every app created in the process
    (the web app and the in-process job worker must see the same data).
    """

    _fake_server = None
    _lock = threading.Lock()

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL") or ""
        if url:
            client = redis_client(url)
            app.config["REDIS_IS_EMBEDDED"] = False
        else:
            import fakeredis

            with self._lock:
                if RedisExtension._fake_server is None:
                    RedisExtension._fake_server = fakeredis.FakeServer()
            client = fakeredis.FakeRedis(server=RedisExtension._fake_server)
            app.config["REDIS_IS_EMBEDDED"] = True
        app.extensions["redis"] = client


redis_ext = RedisExtension()


def redis_client(url: str) -> redis_lib.Redis:
    """The app's Redis client. Redis only speeds things up and feeds the screens; when it is gone,
    every call must fail at once, not hold a WeChat callback past its 5 s: a short connect timeout
    (a LAN Redis connects in well under a millisecond) and no retries (redis-py's defaults vary
    between versions, some retry ten times with back-off). Reads may wait longer: a screen's XREAD
    blocks for up to 4 s. The door's calls are held to much less (:func:`door_calls`)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme == SENTINEL_SCHEME:
        return sentinel_master(url, connection_class=_DoorAwareSentinelConnection, socket_timeout=5,
                               socket_connect_timeout=0.5, health_check_interval=30, retry=Retry(NoBackoff(), 0))
    options = {}
    if scheme == "redis":
        options["connection_class"] = _DoorAwareConnection
    elif scheme == "rediss":
        options["connection_class"] = _DoorAwareSSLConnection
    return redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=0.5, health_check_interval=30,
                                    retry=Retry(NoBackoff(), 0), **options)


#: ``redis+sentinel://host:port,host:port/<master name>/<db>`` (app.config builds it from
#: REDIS_SENTINELS and REDIS_SENTINEL_MASTER): Redis found through Sentinel.
SENTINEL_SCHEME = "redis+sentinel"
#: The longest one Sentinel may take to connect or answer: a LAN Sentinel answers in about a
#: millisecond; a lost one costs this much before the next in the list is asked.
SENTINEL_TIMEOUT_S = 0.25


def sentinel_client_options(timeout: float = SENTINEL_TIMEOUT_S) -> dict:
    """How every client of ours talks to a Sentinel (the app's, the job workers'): short timeouts and
    no retries. redis-py's default retries a failed call ten times with back-off, so a Sentinel whose
    machine is gone (listed first, as on the guide's hosts) held every master lookup ~10 s, and with
    it each WeChat callback that opened a Redis connection (found by scripts.cluster.guide_check).
    The next Sentinel in the list is the retry."""
    return {"socket_timeout": timeout, "socket_connect_timeout": timeout, "retry": Retry(NoBackoff(), 0)}


def sentinel_master(url: str, **options) -> redis_lib.Redis:
    """A client of the master that the Sentinels of ``url`` name: each new connection asks them where
    the master is, and a connection to a master demoted by a failover (READONLY) is dropped, so
    the client follows a failover without a restart. The Sentinels get the same short timeouts:
    one that is down costs half a second, not the whole call."""
    rest = url.split("://", 1)[1]
    password, _, rest = rest.rpartition("@")
    hosts, _, path = rest.partition("/")
    master, _, db = path.partition("/")
    sentinels = []
    for item in hosts.split(","):
        host, _, port = item.strip().rpartition(":")
        sentinels.append((host, int(port or 26379)))
    timeout = min(options.get("socket_timeout") or SENTINEL_TIMEOUT_S, SENTINEL_TIMEOUT_S)
    sentinel = Sentinel(sentinels, sentinel_kwargs=sentinel_client_options(timeout))
    return sentinel.master_for(master or "huiyi", redis_class=redis_lib.Redis, password=password or None,
                               db=int(db or 0), **options)


# --- the door's Redis calls -----------------------------------------------------------------------
#
# A WeChat callback must be answered within 5 s, and Redis only speeds it up (the database is the
# truth). A hung Redis (stopped, swapping, a network partition that drops packets) answers nothing:
# each call would wait for the client's 5 s socket timeout. Inside :func:`door_calls` every Redis
# call of this thread (whichever module makes it: retry bookkeeping, the meeting cache, live events,
# the WeChat token) waits at most DOOR_TIMEOUT_S for its reply, and after one such failure the door
# skips that Redis server altogether for DOOR_SKIP_S (a circuit breaker): a burst of scans during an
# 8 s hang pays the timeout about once a second per process instead of once per call. Calls outside
# the door (screens, consoles, jobs) keep the client's own timeouts and never look at the breaker.

#: The longest the door waits for one Redis reply; a healthy Redis answers in well under 1 ms, and
#: even under a 1,000 scans/s burst on 2 cores its replies come within tens of milliseconds.
DOOR_TIMEOUT_S = 0.5
#: After a failed call, the door goes without Redis this long before trying it again.
DOOR_SKIP_S = 1.0

_door = threading.local()  # per thread (per greenlet under gevent): the door's timeout, when inside
_skip_until: dict[tuple, float] = {}  # per Redis server: the door skips it until then (monotonic)


class RedisSkipped(redis_lib.exceptions.ConnectionError):
    """Raised instead of calling Redis while the door's breaker is open."""


@contextmanager
def door_calls(timeout_s: float = DOOR_TIMEOUT_S) -> Iterator[None]:
    """Redis calls made by this thread inside the block wait at most ``timeout_s`` for a reply, and
    fail at once while Redis is known to be failing (see above). Callers already treat a failed
    call as "Redis unavailable" and fall back to the database."""
    previous = getattr(_door, "timeout", None)
    _door.timeout = timeout_s
    try:
        yield
    finally:
        _door.timeout = previous


def reset_door_breaker() -> None:
    """Forget past failures (tests)."""
    _skip_until.clear()


_FAILURES = (redis_lib.exceptions.ConnectionError, redis_lib.exceptions.TimeoutError)


class _DoorAware:
    """Connection mixin: inside :func:`door_calls`, a short read timeout and the breaker."""

    def _server(self) -> tuple:
        return (getattr(self, "host", None), getattr(self, "port", None))

    def _door_check(self) -> float | None:
        limit = getattr(_door, "timeout", None)
        # (``_skip_until`` is empty until a first failure: the usual case costs no clock read.)
        if limit is not None and _skip_until and time.monotonic() < _skip_until.get(self._server(), 0.0):
            raise RedisSkipped("Redis skipped by the door after a recent failure")
        return limit

    def _door_failed(self) -> None:
        _skip_until[self._server()] = time.monotonic() + DOOR_SKIP_S

    def connect(self):
        if self._door_check() is None:
            return super().connect()
        try:
            return super().connect()
        except _FAILURES:
            self._door_failed()
            raise

    def send_packed_command(self, command, check_health=True):
        if self._door_check() is None:
            return super().send_packed_command(command, check_health)
        try:
            return super().send_packed_command(command, check_health)
        except _FAILURES:
            self._door_failed()
            raise

    def read_response(self, *args, **kwargs):
        limit = getattr(_door, "timeout", None)
        if limit is None or "timeout" in kwargs:
            return super().read_response(*args, **kwargs)
        try:
            return super().read_response(*args, timeout=min(limit, self.socket_timeout or limit), **kwargs)
        except _FAILURES:
            self._door_failed()
            raise


class _DoorAwareConnection(_DoorAware, redis_lib.Connection):
    pass


class _DoorAwareSSLConnection(_DoorAware, redis_lib.SSLConnection):
    pass


class _DoorAwareSentinelConnection(_DoorAware, SentinelManagedConnection):
    def _server(self) -> tuple:
        # The master is whichever server the Sentinels name: a new connection has no address until
        # it asks them, so the breaker is kept per master name. Once a call to the master fails, the
        # door skips the lookup too (Sentinels that still name a lost master, or are lost themselves).
        return ("sentinel", self.connection_pool.service_name)


def get_redis(app: Flask | None = None) -> redis_lib.Redis:
    from flask import current_app

    return (app or current_app).extensions["redis"]
