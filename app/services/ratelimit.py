"""Fixed-window counters in Redis, for limits such as identity attempts per openid and per IP."""

from __future__ import annotations

import logging
import time

from app.extensions import get_redis

log = logging.getLogger(__name__)


def _key(name: str, window_s: int, now: float) -> str:
    return f"huiyi:rl:{name}:{int(now // window_s)}"


def count(name: str, window_s: int, *, now: float | None = None) -> int:
    """Hits in the current window. If Redis is down the limit is not enforced (logged): binding on
    meeting day must not stop because a cache is away; failures stay in the audit log regardless."""
    try:
        value = get_redis().get(_key(name, window_s, now or time.time()))
    except Exception:
        log.warning("rate limit %s unavailable (Redis down); not enforced", name)
        return 0
    return int(value or 0)


def hit(name: str, window_s: int, *, now: float | None = None) -> int:
    """Count one hit; returns the hits in the current window including this one."""
    key = _key(name, window_s, now or time.time())
    try:
        pipe = get_redis().pipeline()
        pipe.incr(key)
        pipe.expire(key, window_s + 5)
        return int(pipe.execute()[0])
    except Exception:
        log.warning("rate limit %s unavailable (Redis down); hit not counted", name)
        return 0
