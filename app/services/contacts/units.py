"""Units (单位): creation, lookup, and matching what a person types against code, name or alias."""

from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from app.extensions import db
from app.services import audit
from app.services.contacts.phones import normalize_unit_name
from app.services.errors import DomainError
from models import Unit, UnitAccount

UNIT_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{2,32}$")


class UnitError(DomainError):
    messages = {
        "unit_code_invalid": "单位代码只能包含字母、数字、下划线和短横线（2–32 位）：{code}",
        "unit_name_missing": "请填写单位名称",
        "unit_exists": "单位代码已存在：{code}",
        "unit_not_found": "找不到单位：{code}",
        "account_exists": "登录名已存在：{username}",
        "password_too_short": "密码至少需要 10 位",
    }
    statuses = {"unit_exists": 409, "account_exists": 409, "unit_not_found": 404}


def add_unit(code: str, name: str, *, actor: str, aliases: list[str] | None = None,
             parent_code: str | None = None, allow_landline: bool = False) -> Unit:
    code = (code or "").strip()
    name = (name or "").strip()
    if not UNIT_CODE_RE.match(code):
        raise UnitError("unit_code_invalid", code=code)
    if not name:
        raise UnitError("unit_name_missing")
    if db.session.scalar(select(Unit.id).where(Unit.code == code)):
        raise UnitError("unit_exists", code=code)
    parent = get_unit(parent_code) if parent_code else None
    unit = Unit(code=code, name=name, aliases=[a.strip() for a in aliases or [] if a.strip()],
                parent=parent, allow_landline=allow_landline)
    db.session.add(unit)
    db.session.flush()
    audit.record(actor, "unit.add", target=f"unit:{unit.id}", code=code, name=name)
    return unit


def get_unit(code: str) -> Unit:
    unit = db.session.scalar(select(Unit).where(Unit.code == (code or "").strip()))
    if unit is None:
        raise UnitError("unit_not_found", code=code)
    return unit


def unit_matches(unit: Unit, typed: str) -> bool:
    """Whether what a person typed names this unit: its code, its name or one of its aliases.

    Spaces and full-width letters are folded first, so "区 发改局" and "区发改局" agree.
    """
    wanted = normalize_unit_name(typed)
    if not wanted:
        return False
    names = [unit.code, unit.name, *(unit.aliases or [])]
    return any(normalize_unit_name(n).casefold() == wanted.casefold() for n in names)


def add_unit_account(unit: Unit, username: str, password: str, *, actor: str) -> UnitAccount:
    username = (username or "").strip()
    if len(password or "") < 10:
        raise UnitError("password_too_short")
    if db.session.scalar(select(UnitAccount.id).where(UnitAccount.username == username)):
        raise UnitError("account_exists", username=username)
    account = UnitAccount(unit=unit, username=username, password_hash=generate_password_hash(password))
    db.session.add(account)
    db.session.flush()
    audit.record(actor, "unit.account_add", target=f"unit_account:{account.id}", unit=unit.code)
    return account
