"""A short-lived per-process copy of meetings with their sessions, for the scan path.

Every scan needs the meeting and its sessions (state, admission, sign-in windows), which change
rarely; reading them costs a query and an ORM load per request. This cache keeps a detached copy per
meeting code and hands each request its own session-attached instance with ``merge(load=False)``
(no SQL, the request's objects are never shared between threads).

Staleness, and what bounds it:
- Any ORM change to a ``Meeting`` or ``MeetingSession`` (or a service card, whose per-process copy
  hangs off these: app/services/cards/book.py) clears this process's copies when it is
  flushed, and bumps one Redis counter after its commit (an after-commit callback of the app's
  session, see :mod:`app.db_session`). Every lookup compares
  the entry's counter with Redis (one GET), so once a change's commit has returned, no process
  serves the old copy: a scan racing the change sees the old meeting, as it would had it read the
  row a moment earlier.
- A change that bypasses the ORM (bulk UPDATE, psql) is seen within ``TTL_S``.
- If Redis cannot be read the cache is bypassed (the database answers).
Invitee lists, listed units and sign-ins are never cached here.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import event
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db_session import ON_COMMIT_KEY
from app.extensions import db, get_redis
from models import Meeting, MeetingSession

log = logging.getLogger(__name__)
TTL_S = 5.0
VERSION_KEY = "huiyi:meetings:version"

_lock = threading.Lock()
#: code -> (version, expires at (monotonic), detached Meeting with its sessions loaded)
_entries: dict[str, tuple[bytes | None, float, Meeting]] = {}


def meeting_with_sessions(code: str, load) -> Meeting:
    """The meeting ``code`` with its sessions, attached to the current session.

    :param load: ``load(code) -> Meeting`` reads it from the database (with its sessions) on a miss;
        it raises for an unknown code, and unknown codes are never cached.
    """
    try:
        version = get_redis().get(VERSION_KEY)
    except Exception:
        log.warning("meeting cache bypassed: Redis unavailable")
        return load(code)
    now = time.monotonic()
    entry = _entries.get(code)
    if entry is not None and entry[0] == version and entry[1] > now:
        return db.session.merge(entry[2], load=False)
    meeting = load(code)
    _entries[code] = (version, now + TTL_S, _detached_copy(meeting))
    return meeting


def _detached_copy(meeting: Meeting) -> Meeting:
    """A copy of the loaded columns (meeting and sessions) that no session owns."""
    copy = Meeting(**_columns(meeting))
    copy.sessions = [MeetingSession(**_columns(s)) for s in meeting.sessions]
    for obj in (copy, *copy.sessions):
        make_transient_to_detached(obj)
    return copy


def _columns(obj) -> dict:
    return {attr.key: getattr(obj, attr.key) for attr in obj.__mapper__.column_attrs}


def clear() -> None:
    with _lock:
        _entries.clear()


def current_copy(code: str) -> Meeting | None:
    """This process's copy of meeting ``code`` while it is in date, else None: a new object each
    time the copy is reloaded (a change anywhere, or ``TTL_S``). A cache that hangs off a meeting
    (the service cards, app/services/cards/book.py) keys on it, so it needs no Redis call of its own."""
    entry = _entries.get(code)
    return entry[2] if entry is not None and entry[1] > time.monotonic() else None


def invalidate(session: Session) -> None:
    """Something read alongside the meetings changed in ``session`` (a service card): drop this
    process's copies now and every process's once it commits, as a meeting change does."""
    clear()
    callbacks = session.info.setdefault(ON_COMMIT_KEY, [])  # run by HuiyiSession after its commit
    if _bump not in callbacks:
        callbacks.append(_bump)


@event.listens_for(Session, "after_flush")
def _on_meeting_change(session: Session, _flush_context) -> None:
    """A flushed change to a meeting or a session: drop this process's copies now (this process
    then reads what its own transaction sees), and tell the other processes once it commits."""
    if any(isinstance(obj, Meeting | MeetingSession) for obj in (*session.new, *session.dirty, *session.deleted)):
        invalidate(session)


def _bump() -> None:
    clear()  # this process at once; the others at their next lookup
    try:
        get_redis().incr(VERSION_KEY)
    except Exception:
        log.warning("could not publish a meeting change to the cache: other processes see it within %ss", TTL_S)
