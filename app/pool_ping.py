"""Test a pooled database connection before use, but only when it has sat idle.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` on every checkout: a full round trip to
PostgreSQL, and its CPU on both sides, before each request's or batch's first statement. During a
burst the same connections go out and come back every few milliseconds, so those pings are a
large share of the work and can find nothing: a connection used a moment ago is alive.

Here a connection is pinged only when it has been idle for ``IDLE_S`` or more (a restarted server,
a proxy that dropped it overnight). A ping that fails raises ``DisconnectionError``, and the pool
then discards it and hands out a fresh one, as ``pool_pre_ping`` does. A connection that dies in
the short window between uses fails its statement instead; SQLAlchemy then invalidates the whole
pool, so only the work in flight sees the error (group commit retries its items one by one).
"""

from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

IDLE_S = 2.0
_IDLE_SINCE = "huiyi_idle_since"


def ping_when_idle(engine: Engine, idle_s: float = IDLE_S) -> None:
    """Install the checkout ping on ``engine`` (whose ``pool_pre_ping`` should be off)."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _stamp(_dbapi_connection, record, *_args) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping(dbapi_connection, record, _proxy) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is not None and time.monotonic() - since < idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"idle connection failed its ping: {exc}") from exc
