"""Pick the test database and Redis: the real servers when reachable, loudly not otherwise.

``HUIYI_TEST_DB=sqlite`` asks for SQLite on purpose (the demo's database): a fresh file per run, the
schema still built by the migrations, Redis still the real one. That pass is labelled as such in
the pytest header and is never a fallback, so ``CI=true`` allows it.
"""

from __future__ import annotations

import functools
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
    dialect: str = ""
    warnings: list[str] = field(default_factory=list)
    _drop_database: str | None = None
    _admin_url: str | None = None
    _release_redis: object = None

    def cleanup(self) -> None:
        shutil.rmtree(self.storage_dir, ignore_errors=True)
        if callable(self._release_redis):
            self._release_redis()
        if self._drop_database and self._admin_url:
            engine = sa.create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
            try:
                with engine.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{self._drop_database}" WITH (FORCE)'))
            finally:
                engine.dispose()


def _is_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


#: Values of ``HUIYI_TEST_DB``: unset or ``postgresql`` (the default), or ``sqlite``.
TEST_DB_CHOICES = ("", "postgresql", "sqlite")


def choose_backends() -> Backends:
    warnings: list[str] = []
    storage = tempfile.mkdtemp(prefix="huiyi-test-storage-")
    # A database per test run, so two runs on one machine (or a run beside a helper's) never meet.
    name = f"huiyi_test_{os.getpid()}"
    admin_url = os.environ.get("TEST_DATABASE_ADMIN_URL", DEFAULT_PG)
    drop = None
    wanted = os.environ.get("HUIYI_TEST_DB", "").lower()
    if wanted not in TEST_DB_CHOICES:
        pytest.exit(f"HUIYI_TEST_DB={wanted!r}: expected one of {', '.join(c for c in TEST_DB_CHOICES if c)}", 4)
    if wanted == "sqlite":
        if os.environ.get("TEST_DATABASE_URL"):
            pytest.exit("HUIYI_TEST_DB=sqlite and TEST_DATABASE_URL are both set; pick one", 4)
        # A fresh file in this run's own directory (removed with it); the migrations build the schema.
        db_url = f"sqlite:///{storage}/test.sqlite3"
        db_label = f"SQLite (deliberate, HUIYI_TEST_DB=sqlite: fresh file {storage}/test.sqlite3)"
    elif os.environ.get("TEST_DATABASE_URL"):
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
    release = None
    if not redis_url:
        try:
            redis_url, release = _claim_redis_db()
            redis_label = f"Redis ({redis_url})"
        except Exception as exc:
            if _is_ci():
                pytest.exit(f"CI=true but Redis is unreachable ({exc}); refusing to fall back", 3)
            redis_label = "in-process stand-in (FALLBACK)"
            warnings.append(f"!!! Redis unreachable ({type(exc).__name__}): tests ran on fakeredis !!!")
    else:
        redis_label = redis_url
    dialect = sa.engine.make_url(db_url).get_backend_name()
    return Backends(db_url, redis_url, storage, db_label, redis_label, dialect, warnings, drop, admin_url, release)


#: Databases a test run may claim: not 0 (claims live there), not 6–8 (the benchmarks flush them),
#: not 14 (the cross-process token test uses it directly).
CLAIMABLE_REDIS_DBS = (1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 15)


def _claim_redis_db() -> tuple[str, object]:
    """A Redis database no other test run on this machine is using.

    Tests FLUSHDB their database constantly, so two runs sharing one would wipe each other's queues
    and counters. The claim lives in database 0 (never flushed by tests) and expires on its own if
    a run dies without releasing it.
    """
    base = DEFAULT_REDIS.rsplit("/", 1)[0]
    admin = redis_lib.Redis.from_url(f"{base}/0", socket_timeout=2)
    admin.ping()
    for index in CLAIMABLE_REDIS_DBS:
        key = f"huiyi:test-run-claims:{index}"
        if admin.set(key, str(os.getpid()), nx=True, ex=3600):
            return f"{base}/{index}", functools.partial(admin.delete, key)
    raise RuntimeError(f"all test Redis databases {CLAIMABLE_REDIS_DBS} are claimed by other runs")
