"""A meeting's card rows, read once and kept per process: the scan path reads them with no query
and no Redis call.

Each scan that signs someone in puts their card's headline into the reply, so the door needs the
meeting's card rows (a few for the meeting, roles and groups, and one per person given personal
fields) in every round. They change rarely, so each process keeps a copy per meeting hung off the
meeting cache's copy of that meeting (:func:`app.services.meeting_cache.current_copy`): the door has
just looked the meeting up there (one Redis GET per round, already paid), and the card copy is good
exactly as long as that meeting copy is the same object. So:

- a flushed card row counts as a meeting change (:func:`app.services.meeting_cache.invalidate`):
  this process's copies go at once, every process's once the transaction commits;
- a meeting copy lives at most the meeting cache's ``TTL_S``, and its card copy with it (a change
  that bypasses the ORM, psql, is seen within that);
- without a meeting copy in date (Redis unreadable, the meeting cache bypassed) the rows are read
  from the database each time.
Pages (the attendee's meeting page, the console) read the rows from the database (:func:`load`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import event, or_, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.services import meeting_cache
from app.services.cards import allocated as allocations
from models import CardScope, Meeting, ServiceCard

_lock = threading.Lock()
#: meeting id -> (the meeting cache's copy it was read with, what was built from the book)
_entries: dict[int, tuple[Meeting, Any]] = {}
T = TypeVar("T")


@dataclass(frozen=True)
class Book:
    """Every scope's fields of one meeting (only the fields set at each scope)."""

    meeting: dict[str, str] = field(default_factory=dict)
    roles: dict[str, dict[str, str]] = field(default_factory=dict)
    groups: dict[str, dict[str, str]] = field(default_factory=dict)
    people: dict[int, dict[str, str]] = field(default_factory=dict)
    #: The logistics allocation's fields (rooms, seats, meals, buses): they win over every scope.
    allocated: allocations.Allocated = field(default_factory=allocations.Allocated)

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


def load(meeting_id: int, contact_ids: Collection[int] | None = None) -> Book:
    """The meeting's book; with ``contact_ids``, only those people's own rows and allocations (one
    person's page), the meeting's, roles' and groups' rows all the same."""
    book = Book(allocated=allocations.load(meeting_id, contact_ids))
    stmt = select(ServiceCard.scope, ServiceCard.scope_key, ServiceCard.contact_id,
                  ServiceCard.fields).where(ServiceCard.meeting_id == meeting_id)
    if contact_ids is not None:
        stmt = stmt.where(or_(ServiceCard.contact_id.is_(None), ServiceCard.contact_id.in_(list(contact_ids))))
    rows = db.session.execute(stmt)
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


def for_door(meeting: Meeting, build: Callable[[Meeting, Book], T]) -> T:
    """``build(meeting, book)`` made from the meeting's book, kept in this process while the
    meeting cache's copy of the meeting is unchanged (what it builds must not change after)."""
    token = meeting_cache.current_copy(meeting.code)
    if token is None:
        return build(meeting, load(meeting.id))
    entry = _entries.get(meeting.id)
    if entry is not None and entry[0] is token:
        return entry[1]
    built = build(meeting, load(meeting.id))
    with _lock:
        _entries[meeting.id] = (token, built)
    return built


#: The rows a card is read from: a flushed one is a change of the meeting's cards.
CARD_SOURCES: tuple[type, ...] = (ServiceCard, *allocations.SOURCES)


def clear() -> None:
    with _lock:
        _entries.clear()


@event.listens_for(Session, "after_flush")
def _on_card_change(session: Session, _flush_context) -> None:
    """A flushed card row: a meeting change for every cache hung off the meetings."""
    if any(isinstance(obj, CARD_SOURCES) for obj in (*session.new, *session.dirty, *session.deleted)):
        changed(session)


@event.listens_for(Session, "do_orm_execute")
def _on_bulk_card_change(state) -> None:
    """A bulk INSERT, UPDATE or DELETE of a card's rows (the logistics plans write theirs so):
    the flush watch above never sees those."""
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, CARD_SOURCES):
        changed(state.session)


def changed(session: Session | None = None) -> None:
    """Card rows were written in this transaction (by the ORM or in bulk): this process forgets
    now, every process once it commits."""
    clear()
    meeting_cache.invalidate(session or db.session())
