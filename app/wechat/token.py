"""The access token keeper: one token per app id, shared by every worker through Redis.

WeChat allows few token refreshes and (for /cgi-bin/token) a new token kills the
old one, so processes must not refresh on their own. The token lives in Redis;
when it is missing or close to expiry one process takes a short Redis lock
(SET NX PX) and refreshes, while the others keep serving the still-valid old
token or, if there is none, poll Redis until the new one appears.

Inside a WeChat callback nobody waits (``get(wait=False)``): a token that is still valid is used
however close to its end, and if there is none while another process refreshes, the call fails at
once rather than hold the callback past WeChat's 5 s.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.exceptions import WatchError

from app.wechat.errors import WeChatUnavailable

# fetch(force_refresh) -> (access_token, expires_in seconds)
TokenFetcher = Callable[[bool], tuple[str, int]]


@dataclass(frozen=True)
class CachedToken:
    token: str
    expires_at: float


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


class TokenKeeper:
    def __init__(
        self,
        redis: Any,
        app_id: str,
        fetch: TokenFetcher,
        *,
        refresh_margin: float = 300.0,
        lock_ttl: float = 15.0,
        wait_timeout: float = 8.0,
        poll_interval: float = 0.05,
        clock: Callable[[], float] = time.time,
        prefix: str = "huiyi:wechat",
    ) -> None:
        self.redis = redis
        self.app_id = app_id
        self._fetch = fetch
        self.refresh_margin = refresh_margin
        self.lock_ttl = lock_ttl
        self.wait_timeout = wait_timeout
        self.poll_interval = poll_interval
        self.clock = clock
        self.key = f"{prefix}:access_token:{app_id}"
        self.lock_key = f"{self.key}:lock"

    # -- reading -------------------------------------------------------------
    def peek(self) -> CachedToken | None:
        raw = _text(self.redis.get(self.key))
        if not raw:
            return None
        try:
            data = json.loads(raw)
            return CachedToken(str(data["token"]), float(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    def _fresh(self, entry: CachedToken | None, rejected: str | None = None) -> bool:
        return (
            entry is not None
            and entry.token != rejected
            and entry.expires_at - self.clock() > self.refresh_margin
        )

    def get(self, *, wait: bool = True, fetch: TokenFetcher | None = None) -> str:
        """A token valid for at least ``refresh_margin`` seconds (or the old one while another
        process refreshes).

        :param wait: False inside a callback: any token still valid is used as it is, and with none
            the caller refreshes it only if no other process is doing so, else
            :class:`WeChatUnavailable` at once.
        :param fetch: this call's fetcher (one with a shorter HTTP timeout, say).
        """
        entry = self.peek()
        if entry is not None and self._fresh(entry):
            return entry.token
        if not wait and entry is not None and entry.expires_at > self.clock() + 1:
            return entry.token
        return self._refresh(stale=entry, rejected=None, wait=wait, fetch=fetch)

    def refresh(self, rejected: str | None = None) -> str:
        """Get a token other than ``rejected`` (one WeChat just refused)."""
        entry = self.peek()
        if entry is not None and rejected is not None and self._fresh(entry, rejected):
            return entry.token  # somebody already replaced the rejected token
        return self._refresh(stale=None if rejected else entry, rejected=rejected)

    def clear(self) -> None:
        self.redis.delete(self.key)

    # -- refreshing ----------------------------------------------------------
    def _refresh(self, stale: CachedToken | None, rejected: str | None, *, wait: bool = True,
                 fetch: TokenFetcher | None = None) -> str:
        deadline = time.monotonic() + self.wait_timeout
        while True:
            lock_id = uuid.uuid4().hex
            if self.redis.set(self.lock_key, lock_id, nx=True, px=int(self.lock_ttl * 1000)):
                try:
                    return self._refresh_locked(rejected, fetch)
                finally:
                    self._release(lock_id)
            # Another process is refreshing. An old token that has not expired yet is
            # still accepted by WeChat, so serve it rather than wait.
            if stale is not None and stale.expires_at > self.clock() + 1:
                return stale.token
            if not wait:
                raise WeChatUnavailable(None, "another process is refreshing the token; not waiting for it")
            time.sleep(self.poll_interval)
            entry = self.peek()
            if self._fresh(entry, rejected):
                assert entry is not None
                return entry.token
            if time.monotonic() > deadline:
                raise WeChatUnavailable(None, "timed out waiting for another process to refresh the token")

    def _refresh_locked(self, rejected: str | None, fetch: TokenFetcher | None = None) -> str:
        entry = self.peek()
        if self._fresh(entry, rejected):  # refreshed while we queued for the lock
            assert entry is not None
            return entry.token
        fetch = fetch or self._fetch
        token, expires_in = fetch(False)
        if rejected is not None and token == rejected:
            # stable_token in normal mode hands back the token WeChat just refused: force it.
            token, expires_in = fetch(True)
        expires_in = max(int(expires_in), 1)
        payload = json.dumps({"token": token, "expires_at": self.clock() + expires_in})
        self.redis.set(self.key, payload, ex=expires_in)
        return token

    def _release(self, lock_id: str) -> None:
        # Compare-and-delete so a slow holder never releases a lock that expired and
        # was taken by someone else (WATCH/MULTI instead of Lua: fakeredis has no Lua).
        with self.redis.pipeline() as pipe:
            try:
                pipe.watch(self.lock_key)
                if _text(pipe.get(self.lock_key)) == lock_id:
                    pipe.multi()
                    pipe.delete(self.lock_key)
                    pipe.execute()
                else:
                    pipe.unwatch()
            except WatchError:
                pass
