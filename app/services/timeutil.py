"""Times: stored in UTC, typed and shown in China Standard Time."""

from __future__ import annotations

from datetime import UTC, datetime
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
