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
MAX_FAILURES_PER_USERNAME = 5  # from one address
MAX_FAILURES_PER_USERNAME_ANYWHERE = 50
MAX_FAILURES_PER_IP = 30


class UnitLoginError(DomainError):
    messages = {
        "bad_credentials": "用户名或密码错误",
        "bad_credentials_left": "用户名或密码错误，还可尝试 {left} 次，之后需等待 15 分钟",
        "rate_limited": "登录失败次数过多，请 15 分钟后再试",
    }
    statuses = {"bad_credentials": 401, "rate_limited": 429}
    # The audit entry of a failed attempt is the record of the refusal: keep it.
    recorded = frozenset({"bad_credentials"})


def _limits(username: str, ip: str | None) -> list[tuple[str, int]]:
    """Failures are counted per account *and address*, so a stranger typing an office's username
    elsewhere cannot lock the office out; per address, against one machine trying many accounts; and
    per account overall, as a ceiling against guesses spread over many addresses."""
    user = username.casefold()
    limits = [(f"unit_login:user:{user}", MAX_FAILURES_PER_USERNAME_ANYWHERE)]
    if ip:
        limits += [(f"unit_login:user_ip:{user}:{ip}", MAX_FAILURES_PER_USERNAME),
                   (f"unit_login:ip:{ip}", MAX_FAILURES_PER_IP)]
    return limits


def authenticate(username: str, password: str, *, ip: str | None) -> UnitAccount:
    username = (username or "").strip()[:64]
    limits = _limits(username, ip)
    attempt = ratelimit.begin(limits, WINDOW_S)  # counted now (atomically); given back on success
    if attempt is None:
        raise UnitLoginError("rate_limited")
    account = db.session.scalar(select(UnitAccount).where(UnitAccount.username == username)) if username else None
    if account is None or not account.active or not check_password_hash(account.password_hash, password or ""):
        audit.record(f"unit_account:{username}", "unit.login_failed", ip=ip)
        left = min(ratelimit.remaining(name, limit, WINDOW_S) for name, limit in limits)
        if 0 < left <= 2:  # warn before the last attempts, not after the lockout
            raise UnitLoginError("bad_credentials", UnitLoginError.messages["bad_credentials_left"].format(left=left))
        raise UnitLoginError("bad_credentials")
    ratelimit.refund(attempt)
    account.last_login_at = datetime.now(UTC)
    audit.record(f"unit_account:{account.id}", "unit.login", ip=ip, unit_id=account.unit_id)
    return account


def get_account(account_id: int | None) -> UnitAccount | None:
    """The logged-in account, or None once it has been disabled."""
    if not account_id:
        return None
    account = db.session.get(UnitAccount, account_id)
    return account if account is not None and account.active else None
