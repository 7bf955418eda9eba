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


# Check and count in one step, so that concurrent attempts cannot all pass a check made before any
# of them was counted (50 simultaneous wrong binds once got 14 checks through a limit of 5). An
# attempt counts from the moment it starts; one that turns out fine gives its count back (refund).
# KEYS: the counters; ARGV: the window's TTL, then each counter's limit. Returns 0 (refused: some
# counter is at its limit, nothing counted) or 1 (counted against every counter).
_BEGIN = """
for i, key in ipairs(KEYS) do
  if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i + 1]) then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('INCR', key)
  redis.call('EXPIRE', key, ARGV[1])
end
return 1
"""


class Attempt:
    """An attempt counted against its limits; :func:`refund` it when it succeeds."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys


def begin(limits: list[tuple[str, int]], window_s: int, *, now: float | None = None) -> Attempt | None:
    """Count one attempt against every ``(name, limit)``, atomically; None (nothing counted) when any
    is already at its limit. If Redis is down the limits are not enforced (logged), as :func:`count`."""
    at = now or time.time()
    keys = [_key(name, window_s, at) for name, _ in limits]
    try:
        allowed = get_redis().eval(_BEGIN, len(keys), *keys, window_s + 5, *[limit for _, limit in limits])
    except Exception:
        log.warning("rate limits %s unavailable (Redis down); not enforced", [n for n, _ in limits])
        return Attempt([])
    return Attempt(keys) if int(allowed) == 1 else None


def refund(attempt: Attempt) -> None:
    """The attempt succeeded: it does not count as a failure."""
    if not attempt.keys:
        return
    try:
        pipe = get_redis().pipeline()
        for key in attempt.keys:
            pipe.decr(key)
        pipe.execute()
    except Exception:
        log.warning("rate limit refund failed (Redis down)")


def remaining(name: str, limit: int, window_s: int, *, now: float | None = None) -> int:
    """Attempts left under ``limit`` in the current window (for a warning before the last one)."""
    return max(0, limit - count(name, window_s, now=now))
