"""app.pool_ping: busy connections are not pinged; an idle one that died is replaced unseen."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from app.pool_ping import ping_when_idle
from tests.conftest import backends

# The app pings idle pooled connections on PostgreSQL only (a SQLite file has no server connection to
# lose), and these tests kill a server backend (pg_backend_pid, pg_terminate_backend).
pytestmark = pytest.mark.pg_only(reason="idle-connection pings and killed server backends exist on PostgreSQL only")


@pytest.fixture
def engine():
    url = backends().database_url
    engine = sa.create_engine(url, pool_size=1, max_overflow=0)
    pings = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection):
        pings.append(1)
        return real_ping(dbapi_connection)

    engine.dialect.do_ping = counting_ping
    engine.pings = pings
    ping_when_idle(engine, idle_s=0.3)
    yield engine
    engine.dispose()


def _pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()


def test_a_connection_in_steady_use_is_not_pinged(engine):
    pids = {_pid(engine) for _ in range(20)}
    assert len(pids) == 1 and engine.pings == []


def test_an_idle_connection_is_pinged_once_before_use(engine):
    first = _pid(engine)
    time.sleep(0.4)
    assert _pid(engine) == first
    assert len(engine.pings) == 1
    assert _pid(engine) == first and len(engine.pings) == 1  # used a moment ago: no second ping


def test_an_idle_connection_that_died_is_replaced_without_an_error(engine):
    first = _pid(engine)
    admin = sa.create_engine(backends().database_url, poolclass=sa.pool.NullPool)
    try:
        with admin.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": first}).scalar_one()
    finally:
        admin.dispose()
    time.sleep(0.4)
    assert _pid(engine) != first  # the ping failed, the pool reconnected, the caller saw nothing
    assert len(engine.pings) == 1


def test_the_app_engine_pings_only_idle_connections(app):
    from app.extensions import db

    with app.app_context():
        assert not db.engine.pool._pre_ping
        assert any(fn.__qualname__.startswith("ping_when_idle") for fn in db.engine.pool.dispatch.checkout)
