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


# Mini-program codes (getwxacodeunlimit) carry at most 32 visible characters, so the scene is
# "<code>.<position>" when that fits and "id:<meeting id>.<position>" otherwise. ':' never occurs in
# a meeting code, so the two forms cannot be confused.
MP_SCENE_MAX = 32
_MP_CODE_RE = re.compile(r"^([A-Za-z0-9_-]{3,32})\.(\d{1,3})$")
_MP_ID_RE = re.compile(r"^id:(\d{1,20})\.(\d{1,3})$")


@dataclass(frozen=True)
class MpScene:
    meeting_code: str | None  # set for the "<code>.<position>" form
    meeting_id: int | None  # set for the "id:<id>.<position>" form
    session_position: int


def make_mp_scene(meeting_code: str, meeting_id: int, session_position: int = 1) -> str:
    scene = f"{meeting_code}.{session_position}"
    if len(scene) <= MP_SCENE_MAX:
        return scene
    scene = f"id:{meeting_id}.{session_position}"
    if len(scene) > MP_SCENE_MAX:  # pragma: no cover - needs a 20-digit id
        raise ValueError("mini-program scene longer than 32 characters")
    return scene


def parse_mp_scene(text: str) -> MpScene | None:
    """Read a mini-program scene (the mini program passes ``decodeURIComponent(query.scene)``)."""
    text = (text or "").strip()
    if match := _MP_ID_RE.match(text):
        return MpScene(None, int(match.group(1)), int(match.group(2)))
    if match := _MP_CODE_RE.match(text):
        return MpScene(match.group(1), None, int(match.group(2)))
    return None


# A desktop login's code (app/services/identity/desktop_login.py): "login:<token>". It can never read
# as a meeting scene, which starts with "m:", so a stale login code is never taken for a sign-in.
LOGIN_PREFIX = "login:"
_LOGIN_RE = re.compile(r"^login:([A-Za-z0-9_-]{16,58})$")


def make_login_scene(token: str) -> str:
    scene = LOGIN_PREFIX + token
    if not _LOGIN_RE.match(scene):
        raise ValueError("a login token is 16-58 URL-safe characters")
    return scene


def parse_login_scene(text: str) -> str | None:
    """The login token a scene carries, or None when it is not a login scene."""
    match = _LOGIN_RE.match((text or "").strip())
    return match.group(1) if match else None
