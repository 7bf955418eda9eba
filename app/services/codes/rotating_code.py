"""Rotating sign-in code for the big screen.

The screen shows a QR whose token changes every `period_s` seconds, so a photo of the screen sent
to someone outside the room stops working within one or two periods. The token is an HMAC of the
meeting code and the current time step (TOTP-style, RFC 6238 idea without the digit encoding):
nothing is stored, every app server can verify it, and only the server's secret can mint one.

Pure: the clock is always passed in, which keeps tests deterministic and lets the caller decide
which clock is authoritative. All servers must agree on time (NTP); verification accepts only the
current and previous steps, never a future one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta

# 9 bytes = 72 bits of MAC -> exactly 12 base64url characters, no padding. Guessing one within a
# 60-second window is hopeless, and 12 chars leave room for the meeting code inside WeChat's
# 64-char QR scene and the mini program's 32-char scene.
_MAC_BYTES = 9
TOKEN_LENGTH = 12

# Domain separation: the app's SECRET_KEY also signs sessions; never use it as an HMAC key directly.
_DERIVE_LABEL = b"huiyi/rotating-code/v1"


def _require_aware(now: datetime) -> None:
    # A naive datetime's timestamp() depends on the server's local zone, so two servers could
    # disagree on the step. Refuse rather than guess.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")


class RotatingCode:
    """Mint and check short-lived tokens bound to one meeting."""

    def __init__(self, secret: bytes, period_s: int = 30) -> None:
        if not isinstance(secret, bytes | bytearray) or len(secret) < 16:
            raise ValueError("secret must be at least 16 bytes")
        if period_s < 1:
            raise ValueError("period_s must be >= 1")
        self._secret = bytes(secret)
        self.period_s = period_s

    @classmethod
    def from_app_secret(cls, secret_key: str | bytes, period_s: int = 30) -> RotatingCode:
        """Derive a dedicated key from the app's SECRET_KEY (so rotating tokens can't be confused
        with any other HMAC the app computes)."""
        key = secret_key.encode() if isinstance(secret_key, str) else secret_key
        if not key:
            raise ValueError("secret_key must not be empty")
        return cls(hmac.new(key, _DERIVE_LABEL, hashlib.sha256).digest(), period_s)

    def step(self, now: datetime) -> int:
        """The time-step number that `now` falls in."""
        _require_aware(now)
        return int(now.timestamp()) // self.period_s

    def _token_for_step(self, meeting_code: str, step: int) -> str:
        # Step first, then ':' — the step has no ':' so the message is unambiguous for any code.
        msg = f"{step}:{meeting_code}".encode()
        mac = hmac.new(self._secret, msg, hashlib.sha256).digest()[:_MAC_BYTES]
        return base64.urlsafe_b64encode(mac).decode("ascii")

    def current(self, meeting_code: str, now: datetime) -> str:
        """The token to show on screen at `now` (12 URL-safe chars: A-Z a-z 0-9 - _)."""
        if not meeting_code:
            raise ValueError("meeting_code must not be empty")
        return self._token_for_step(meeting_code, self.step(now))

    def next_rotation_at(self, now: datetime) -> datetime:
        """When the screen should fetch a new token (start of the next step), in UTC."""
        next_step = self.step(now) + 1
        return datetime.fromtimestamp(next_step * self.period_s, tz=UTC)

    def seconds_until_rotation(self, now: datetime) -> float:
        """For the screen's refresh timer."""
        return (self.next_rotation_at(now) - now) / timedelta(seconds=1)

    def verify(self, meeting_code: str, token: str, now: datetime, *, grace_steps: int = 1) -> bool:
        """True if `token` was minted for `meeting_code` in the current step or one of the
        `grace_steps` steps before it (a scan started just before rotation must still work)."""
        if grace_steps < 0:
            raise ValueError("grace_steps must be >= 0")
        current = self.step(now)  # validates `now` even when the token is obviously bad
        if not meeting_code or not isinstance(token, str) or len(token) != TOKEN_LENGTH:
            return False
        if not token.isascii():
            # hmac.compare_digest raises TypeError on non-ASCII str; such a token is simply wrong.
            return False
        ok = False
        # Check every candidate step without returning early, so timing doesn't reveal which
        # step (if any) matched.
        for s in range(current - grace_steps, current + 1):
            ok |= hmac.compare_digest(self._token_for_step(meeting_code, s), token)
        return ok
