"""Rotating screen codes: valid for the current and previous step only, bound to one meeting."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.services.codes.rotating_code import TOKEN_LENGTH, RotatingCode

SECRET = b"0123456789abcdef0123456789abcdef"
T0 = datetime(2026, 11, 23, 1, 0, 0, tzinfo=UTC)  # exactly on a 30 s boundary


@pytest.fixture
def rc() -> RotatingCode:
    return RotatingCode(SECRET, period_s=30)


def test_token_is_short_and_url_safe(rc: RotatingCode) -> None:
    token = rc.current("MTG2026A", T0)
    assert len(token) == TOKEN_LENGTH <= 16
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    # Fits a mini-program scene (32 chars) next to a 19-char meeting code and a separator.
    assert len(f"{'M' * 19}.{token}") <= 32


def test_valid_now_and_one_step_later_not_two(rc: RotatingCode) -> None:
    token = rc.current("MTG2026A", T0)
    assert rc.verify("MTG2026A", token, T0)
    assert rc.verify("MTG2026A", token, T0 + timedelta(seconds=29))
    assert rc.verify("MTG2026A", token, T0 + timedelta(seconds=30))  # next step: grace
    assert rc.verify("MTG2026A", token, T0 + timedelta(seconds=59))
    assert not rc.verify("MTG2026A", token, T0 + timedelta(seconds=60))  # two steps later
    assert not rc.verify("MTG2026A", token, T0 - timedelta(seconds=1))  # never a future token


def test_grace_steps(rc: RotatingCode) -> None:
    token = rc.current("MTG2026A", T0)
    assert not rc.verify("MTG2026A", token, T0 + timedelta(seconds=30), grace_steps=0)
    assert rc.verify("MTG2026A", token, T0 + timedelta(seconds=60), grace_steps=2)
    with pytest.raises(ValueError):
        rc.verify("MTG2026A", token, T0, grace_steps=-1)


def test_rotates_every_period(rc: RotatingCode) -> None:
    a = rc.current("MTG2026A", T0)
    assert rc.current("MTG2026A", T0 + timedelta(seconds=29)) == a
    assert rc.current("MTG2026A", T0 + timedelta(seconds=30)) != a


def test_bound_to_meeting_and_secret(rc: RotatingCode) -> None:
    token = rc.current("MTG2026A", T0)
    assert not rc.verify("MTG2026B", token, T0)
    assert not RotatingCode(b"another-secret-of-32-bytes-long!").verify("MTG2026A", token, T0)


def test_rejects_malformed_tokens(rc: RotatingCode) -> None:
    token = rc.current("MTG2026A", T0)
    for bad in ["", token[:-1], token + "A", "会" * TOKEN_LENGTH, None, 123]:
        assert not rc.verify("MTG2026A", bad, T0)  # type: ignore[arg-type]


def test_zone_of_now_does_not_matter(rc: RotatingCode) -> None:
    beijing = T0.astimezone(timezone(timedelta(hours=8)))
    assert rc.current("MTG2026A", beijing) == rc.current("MTG2026A", T0)


def test_naive_now_is_refused(rc: RotatingCode) -> None:
    with pytest.raises(ValueError):
        rc.current("MTG2026A", datetime(2026, 11, 23, 9, 0))
    with pytest.raises(ValueError):
        rc.verify("MTG2026A", "x" * TOKEN_LENGTH, datetime(2026, 11, 23, 9, 0))


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        RotatingCode(b"short")
    with pytest.raises(ValueError):
        RotatingCode(SECRET, period_s=0)


def test_next_rotation(rc: RotatingCode) -> None:
    now = T0 + timedelta(seconds=12.5)
    assert rc.next_rotation_at(now) == T0 + timedelta(seconds=30)
    assert rc.seconds_until_rotation(now) == pytest.approx(17.5)


def test_from_app_secret_derives_a_separate_key() -> None:
    derived = RotatingCode.from_app_secret("dev-secret-key")
    assert derived.current("M1", T0) == RotatingCode.from_app_secret(b"dev-secret-key").current("M1", T0)
    # The raw SECRET_KEY is never the HMAC key itself.
    assert derived.current("M1", T0) != RotatingCode(b"dev-secret-key".ljust(16, b"\0")).current("M1", T0)
