"""A checked import held for its confirmation step.

An import is read and checked once (usually in a job); the checked rows wait in Redis under a
random token until the organizer confirms. Each importer keeps its own dataclass and its own
``import_expired`` error: this module only stores and finds the plain dict. Losing a held check
costs nothing but an upload again, so Redis (with a TTL) is the right place for it.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any

from app.extensions import get_redis

#: How long a checked spreadsheet waits for its confirmation.
HELD_S = 2 * 3600
#: What a token looks like: anything else is never looked up (it comes back from a form).
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{8,40}")


def _key(kind: str, meeting_id: int, token: str) -> str:
    return f"huiyi:{kind}-import:{meeting_id}:{token}"


def hold(kind: str, meeting_id: int, payload: dict[str, Any]) -> str:
    """Keep ``payload`` (JSON-able) for ``HELD_S``; returns its token."""
    token = secrets.token_urlsafe(12)
    get_redis().set(_key(kind, meeting_id, token), json.dumps(payload, ensure_ascii=False), ex=HELD_S)
    return token


def held(kind: str, meeting_id: int, token: str) -> dict[str, Any] | None:
    """The payload held under ``token``, or None when it expired or the token is malformed."""
    if not _TOKEN_RE.fullmatch(token or ""):
        return None
    raw = get_redis().get(_key(kind, meeting_id, token))
    return None if raw is None else json.loads(raw)


def drop(kind: str, meeting_id: int, token: str) -> None:
    """Forget a held check (once applied). Callers that write in a transaction call this on commit."""
    get_redis().delete(_key(kind, meeting_id, token))
