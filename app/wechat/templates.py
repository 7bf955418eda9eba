"""What a template message may carry so that WeChat shows it, as WeChat has behaved since 2023.

WeChat replaced the official account's free-form templates with category templates from its library
and silently drops ``first`` and ``remark`` (../shared/research/wechat-protocol.md §7, the notice
``mp.weixin.qq.com/s/hvLO4Vs75NXDA__SxuyKXw``). A category template's keywords are typed by their
name's prefix, with the limits the template library documents (the same as subscribe messages):
``thing`` up to 20 characters, ``time`` a 24-hour time with an optional date (``2026年12月3日 09:00``),
``phrase`` up to 5 Chinese characters, ``character_string`` up to 32. Longer values are cut by WeChat
(people report truncation), so we cut them ourselves, on purpose and with "…".
"""

from __future__ import annotations

import re

#: Fields WeChat no longer shows: a template that fills them says nothing there.
DROPPED_FIELDS = frozenset({"first", "remark"})
#: The most characters WeChat shows of a keyword, by its type (its name without the number).
MAX_CHARS = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10, "number": 32}
_TIME = re.compile(r"^(\d{4}年\d{1,2}月\d{1,2}日 )?\d{2}:\d{2}(~(\d{4}年\d{1,2}月\d{1,2}日 )?\d{2}:\d{2})?$")
_KIND = re.compile(r"^([a-z_]+?)\d+$")


def kind_of(field: str) -> str | None:
    """The type of a category template's keyword (``thing1`` → ``thing``), None for another name."""
    match = _KIND.match(field)
    return match.group(1) if match else None


def fit(field: str, value: str) -> str:
    """``value`` cut to what WeChat shows of ``field``'s type, ending in "…" when cut."""
    limit = MAX_CHARS.get(kind_of(field) or "")
    if limit is None or len(value) <= limit:
        return value
    return value[: limit - 1] + "…"


def problems(data: dict[str, str]) -> list[str]:
    """Why WeChat would not show ``data`` as written (empty when it would): a dropped field, a
    legacy ``keywordN`` name, a value over its type's limit, a time in another format."""
    found = []
    for field, value in data.items():
        kind = kind_of(field)
        if field in DROPPED_FIELDS:
            found.append(f"{field}: dropped by WeChat since 2023")
        elif kind is None or kind == "keyword":
            found.append(f"{field}: not a category template keyword")
        elif kind == "time" and not _TIME.match(value):
            found.append(f"{field}: {value!r} is not a time WeChat shows")
        elif len(value) > MAX_CHARS.get(kind, 10**6):
            found.append(f"{field}: {len(value)} characters, WeChat shows {MAX_CHARS[kind]}")
    return found
