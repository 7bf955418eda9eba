"""A meeting's card rows, read once and kept per process: the scan path reads them with no query.

Each scan that signs someone in puts their card's headline into the reply, so the door needs the
meeting's card rows (a few for the meeting, roles and groups, and one per person given personal
fields) for every round. They change rarely, so each process keeps a copy per meeting, as
:mod:`app.services.meeting_cache` keeps meetings, under the same staleness rules:

- every change made through :mod:`app.services.cards` calls :func:`changed`, which drops this
  process's copies at once and, after the commit, bumps a Redis counter; each lookup compares its
  copy's counter with Redis (one GET per meeting per round of scans, never a query), so once a
  change's commit has returned no process serves the old card;
- a change that bypasses the services (psql) is seen within ``TTL_S``;
- if Redis cannot be read, the copy is not trusted and the database answers.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.db_session import ON_COMMIT_KEY
from app.extensions import db, get_redis
from models import CardScope, Meeting, ServiceCard

log = logging.getLogger(__name__)
TTL_S = 30.0
VERSION_KEY = "huiyi:cards:version"

_lock = threading.Lock()
#: meeting id -> (version, expires at (monotonic), book)
_entries: dict[int, tuple[bytes | None, float, Book]] = {}


@dataclass(frozen=True)
class Book:
    """Every scope's fields of one meeting (only the fields set at each scope)."""

    meeting: dict[str, str] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    people: dict[int, dict[str, str]] = field(default_factory=dict)

    def layers(self, contact_id: int | None, role: str | None, group: str | None) -> list[tuple[str, dict]]:
        """(scope, fields) from the least to the most specific."""
        out = [(CardScope.MEETING.value, self.meeting)]
        if role and role in self.roles:
            out.append((CardScope.ROLE.value, self.roles[role]))
        if group and group in self.groups:
            out.append((CardScope.GROUP.value, self.groups[group]))
        if contact_id is not None and contact_id in self.people:
            out.append((CardScope.PERSON.value, self.people[contact_id]))
        return out


def load(meeting_id: int) -> Book:
    book = Book()
    rows = db.session.execute(select(ServiceCard.scope, ServiceCard.scope_key, ServiceCard.contact_id,
                                     ServiceCard.fields).where(ServiceCard.meeting_id == meeting_id))
    for scope, key, contact_id, values in rows:
        values = {k: v for k, v in (values or {}).items() if isinstance(v, str) and v}
        if scope == CardScope.MEETING:
            book.meeting.update(values)
        elif scope == CardScope.ROLE:
            book.roles[key] = values
        elif scope == CardScope.GROUP:
            book.groups[key] = values
        elif scope == CardScope.PERSON and contact_id is not None:
            book.people[contact_id] = values
    return book


def cached(meeting_id: int) -> Book:
    """The meeting's book, from this process's copy when Redis says it is current."""
    try:
        version = get_redis().get(VERSION_KEY)
    except Exception:
        log.warning("card cache bypassed: Redis unavailable")
        return load(meeting_id)
    now = time.monotonic()
    entry = _entries.get(meeting_id)
    if entry is not None and entry[0] == version and entry[1] > now:
        return entry[2]
    book = load(meeting_id)
    with _lock:
        _entries[meeting_id] = (version, now + TTL_S, book)
    return book


def clear() -> None:
    with _lock:
        _entries.clear()


@event.listens_for(Session, "after_flush")
def _on_card_change(session: Session, _flush_context) -> None:
    """A flushed card row (or a meeting made or removed: ids are reused after a rollback) drops
    this process's copies now, and every process's once the transaction commits."""
    if any(isinstance(obj, ServiceCard) or (isinstance(obj, Meeting) and obj not in session.dirty)
           for obj in (*session.new, *session.dirty, *session.deleted)):
        changed(session)


def changed(session: Session | None = None) -> None:
    """A card row was written in this transaction: this process forgets now, every process once
    it commits."""
    clear()
    callbacks = (session or db.session()).info.setdefault(ON_COMMIT_KEY, [])  # after the commit, once
    if _bump not in callbacks:
        callbacks.append(_bump)


def _bump() -> None:
    clear()
    try:
        get_redis().incr(VERSION_KEY)
    except Exception:
        log.warning("could not publish a card change: other processes see it within %ss", TTL_S)
