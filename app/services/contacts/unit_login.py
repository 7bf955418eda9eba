"""Logging in to the unit office's directory page with a :class:`UnitAccount`.

Failed attempts are counted per username and per IP address, so neither guessing one account's
password nor trying many accounts from one machine gets far. Every failure gives the same message,
so the page does not tell which usernames exist.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from werkzeug.security import check_password_hash

from app.extensions import db
from app.services import audit, ratelimit
from app.services.errors import DomainError
from models import UnitAccount

WINDOW_S = 15 * 60
MAX_FAILURES_PER_USERNAME = 5
MAX_FAILURES_PER_IP = 30


class UnitLoginError(DomainError):
    messages = {
        "bad_credentials": "用户名或密码错误",
        "rate_limited": "登录失败次数过多，请 15 分钟后再试",
    }
    statuses = {"bad_credentials": 401, "rate_limited": 429}
    # The audit entry of a failed attempt is the record of the refusal: keep it.
    recorded = frozenset({"bad_credentials"})


def _limits(username: str, ip: str | None) -> list[tuple[str, int]]:
    limits = [(f"unit_login:user:{username.casefold()}", MAX_FAILURES_PER_USERNAME)]
    if ip:
        limits.append((f"unit_login:ip:{ip}", MAX_FAILURES_PER_IP))
    return limits


def authenticate(username: str, password: str, *, ip: str | None) -> UnitAccount:
    username = (username or "").strip()[:64]
    limits = _limits(username, ip)
    if any(ratelimit.count(name, WINDOW_S) >= limit for name, limit in limits):
        raise UnitLoginError("rate_limited")
    account = db.session.scalar(select(UnitAccount).where(UnitAccount.username == username)) if username else None
    if account is None or not account.active or not check_password_hash(account.password_hash, password or ""):
        for name, _ in limits:
            ratelimit.hit(name, WINDOW_S)
        audit.record(f"unit_account:{username}", "unit.login_failed", ip=ip)
        raise UnitLoginError("bad_credentials")
    account.last_login_at = datetime.now(UTC)
    audit.record(f"unit_account:{account.id}", "unit.login", ip=ip, unit_id=account.unit_id)
    return account


def get_account(account_id: int | None) -> UnitAccount | None:
    """The logged-in account, or None once it has been disabled."""
    if not account_id:
        return None
    account = db.session.get(UnitAccount, account_id)
    return account if account is not None and account.active else None
