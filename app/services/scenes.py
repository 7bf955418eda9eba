"""QR scene strings: what a meeting's code carries, written and read in one place.

Official-account scene strings may be 1–64 characters; a meeting code is at most 32, so
``m:<code>:<session position>`` always fits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SCENE_RE = re.compile(r"^m:([A-Za-z0-9_-]{3,32}):(\d{1,3})$")


@dataclass(frozen=True)
class Scene:
    meeting_code: str
    session_position: int


def make_scene(meeting_code: str, session_position: int = 1) -> str:
    return f"m:{meeting_code}:{session_position}"


def parse_scene(text: str) -> Scene | None:
    match = _SCENE_RE.match((text or "").strip())
    if not match:
        return None
    return Scene(match.group(1), int(match.group(2)))
