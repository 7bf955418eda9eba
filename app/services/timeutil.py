"""Times: stored in UTC, typed and shown in China Standard Time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y/%m/%d %H:%M")
WEEKDAYS = "一二三四五六日"


def parse_local(text: str) -> datetime | None:
    """Parse what an organizer types ("2026-11-23 09:00", ISO with offset) into aware UTC.

    Without an offset the time is China time. Returns None when it cannot be read.
    """
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        value = None
        for fmt in _FORMATS:
            try:
                value = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if value is None:
            return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=LOCAL_TZ)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return value.astimezone(LOCAL_TZ)


def fmt_hm(value: datetime) -> str:
    return local(value).strftime("%H:%M")


def fmt_date_cn(value: datetime) -> str:
    v = local(value)
    return f"{v.year}年{v.month}月{v.day}日（周{WEEKDAYS[v.weekday()]}）"


def fmt_range_cn(starts: datetime, ends: datetime) -> str:
    s, e = local(starts), local(ends)
    if s.date() == e.date():
        return f"{fmt_date_cn(starts)} {s:%H:%M}–{e:%H:%M}"
    return f"{fmt_date_cn(starts)} {s:%H:%M} 至 {fmt_date_cn(ends)} {e:%H:%M}"


T = TypeVar("T")


def now_next_or_last(items: Sequence[T], now: datetime, *, opens: Callable[[T], datetime],
                     closes: Callable[[T], datetime]) -> T | None:
    """Which of ``items`` (in their order) is the current one at ``now``: the first whose window
    [opens, closes] holds ``now``, else the first still to open, else the last; None for no items.
    The one rule for "the current one": a meeting's session by its sign-in window
    (``signin.rules.get_session``), an organizer's meeting by its times (:func:`current_meeting_for`)."""
    for item in items:
        if opens(item) <= now <= closes(item):
            return item
    return next((item for item in items if opens(item) > now), items[-1] if items else None)
