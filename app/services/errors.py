"""Domain errors with stable codes.

Services raise these; every front door turns them into its own answer (JSON error, WeChat reply,
CLI exit). The code is the contract; the Chinese message is for people and may change.
"""

from __future__ import annotations

from typing import ClassVar


class DomainError(Exception):
    """Base of every domain error. Subclasses hold their message table keyed by code."""

    messages: ClassVar[dict[str, str]] = {}
    #: HTTP status per code; anything not listed is 400.
    statuses: ClassVar[dict[str, int]] = {}
    #: Codes whose writes are the record of the refusal itself (a denied sign-in, a failed bind
    #: attempt): the boundary commits them instead of rolling back.
    recorded: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, code: str, message: str | None = None, /, *, status: int | None = None, **params):
        self.code = code
        self.params = params
        template = message or self.messages.get(code) or DEFAULT_MESSAGES.get(code) or "请求无法完成"
        try:
            self.message = template.format(**{k: _shown(v) for k, v in params.items()})
        except (KeyError, IndexError):
            self.message = template
        self.status = status or self.statuses.get(code) or DEFAULT_STATUSES.get(code, 400)
        super().__init__(f"{code}: {self.message}")

    @property
    def commit_anyway(self) -> bool:
        return self.code in self.recorded

    def to_dict(self) -> dict[str, dict[str, object]]:
        return {"error": {"code": self.code, "message": self.message}}


#: The most of a value a message quotes: a message travels in a flash cookie (browsers drop one
#: over 4 KB, and the session with it), a WeChat reply and an import report.
MAX_QUOTED = 80


def _shown(value: object) -> object:
    """A string parameter as a message quotes it: a hostile megabyte becomes its start and "…"."""
    if isinstance(value, str) and len(value) > MAX_QUOTED:
        return value[:MAX_QUOTED] + "…"
    return value


DEFAULT_MESSAGES = {
    "not_found": "找不到该对象",
    "forbidden": "您没有权限进行此操作",
    "unauthorized": "请先登录",
    "invalid_input": "输入有误：{detail}",
    "rate_limited": "操作过于频繁，请稍后再试",
    "conflict": "数据已被修改，请刷新后重试",
}
DEFAULT_STATUSES = {
    "not_found": 404,
    "forbidden": 403,
    "unauthorized": 401,
    "invalid_input": 422,
    "rate_limited": 429,
    "conflict": 409,
}


class NotFound(DomainError):
    def __init__(self, what: str = "对象"):
        super().__init__("not_found", f"找不到该{what}")


class Forbidden(DomainError):
    def __init__(self, message: str | None = None):
        super().__init__("forbidden", message)


class InvalidInput(DomainError):
    def __init__(self, detail: str):
        super().__init__("invalid_input", detail=detail)
