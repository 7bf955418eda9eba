"""Extension objects, created once and bound to an app with ``init_app``."""

from __future__ import annotations

import threading

import redis as redis_lib
from flask import Flask
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from redis.backoff import NoBackoff
from redis.retry import Retry
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
    blocks for up to 4 s."""
    return redis_lib.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=0.5, health_check_interval=30,
                                    retry=Retry(NoBackoff(), 0))


def get_redis(app: Flask | None = None) -> redis_lib.Redis:
    from flask import current_app

    return (app or current_app).extensions["redis"]
