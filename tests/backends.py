"""Pick the test database and Redis: the real servers when reachable, loudly not otherwise."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field

import pytest
import redis as redis_lib
import sqlalchemy as sa

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/0"


@dataclass
class Backends:
    database_url: str
    redis_url: str
    storage_dir: str
    database_label: str
    redis_label: str
    warnings: list[str] = field(default_factory=list)
    _drop_database: str | None = None
    _admin_url: str | None = None

    def cleanup(self) -> None:
        shutil.rmtree(self.storage_dir, ignore_errors=True)
        if self._drop_database and self._admin_url:
            engine = sa.create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._drop_database}" WITH (FORCE)'))
            finally:
                engine.dispose()


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def choose_backends() -> Backends:
    warnings: list[str] = []
    storage = tempfile.mkdtemp(prefix="huiyi-test-storage-")
    # A database per test run, so two runs on one machine (or a run beside a helper's) never meet.
    name = f"huiyi_test_{os.getpid()}"
    admin_url = os.environ.get("TEST_DATABASE_ADMIN_URL", DEFAULT_PG)
    drop = None
    if os.environ.get("TEST_DATABASE_URL"):
        db_url = os.environ["TEST_DATABASE_URL"]
        db_label = db_url
    else:
        try:
            engine = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3})
            with engine.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            db_url = admin_url.rsplit("/", 1)[0] + "/" + name
            db_label = f"PostgreSQL ({db_url})"
            drop = name
        except Exception as exc:
            if _is_ci():
                pytest.exit(f"CI=true but PostgreSQL is unreachable ({exc}); refusing to fall back", 3)
            db_url = f"sqlite:///{storage}/test.sqlite3"
            db_label = "SQLite (FALLBACK)"
            warnings.append(f"!!! PostgreSQL unreachable ({type(exc).__name__}): tests ran on SQLite !!!")

    redis_url = os.environ.get("TEST_REDIS_URL", "")
    if not redis_url:
        # Spread concurrent runs over databases 8–15 so one run's FLUSHDB does not hit another's.
        candidate = f"{DEFAULT_REDIS.rsplit('/', 1)[0]}/{8 + os.getpid() % 8}"
        try:
            redis_lib.Redis.from_url(candidate, socket_timeout=2).ping()
            redis_url = candidate
            redis_label = f"Redis ({candidate})"
        except Exception as exc:
            if _is_ci():
                pytest.exit(f"CI=true but Redis is unreachable ({exc}); refusing to fall back", 3)
            redis_label = "in-process stand-in (FALLBACK)"
            warnings.append(f"!!! Redis unreachable ({type(exc).__name__}): tests ran on fakeredis !!!")
    else:
        redis_label = redis_url
    return Backends(db_url, redis_url, storage, db_label, redis_label, warnings, drop, admin_url)
