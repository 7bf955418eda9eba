"""The write of sign-ins and of refused attempts: one core for one person or a round of many.

Every channel (scan, H5, mini program, 代签, a first scan) signs people in here:
:func:`sign_in` for one person inside a request, :func:`commit_signins` for a round of scans
(``signin.scans``). The rule is :mod:`app.services.signin.rules`; this module only writes.

Guarantees, whatever the concurrency:
- at most one live sign-in per (session, person): the partial unique index decides, not a
  check-then-insert;
- order numbers ("第 N 位") 1..N without gaps or repeats: the database takes them from a per-session
  counter as each sign-in commits (trigger ``signins_take_seq``), so a rolled-back sign-in never
  had one and the counter's lock is held only inside the commit;
- refusals are kept with their reason code (``SignInDenial``, :func:`record_refusal`), and a walk-in
  of an "open with approval" meeting is held for approval (:func:`hold_walk_in`);
- live screens hear about a sign-in only after it is committed.

**The one exception to "the request commits once".** Every channel answers with the order number,
and the number exists only once the sign-in has committed. So :func:`commit_signins` owns its
commit: it inserts the sign-ins, commits the caller's unit of work with them, reads the numbers and
publishes the live events, and returns the final numbers. A caller signs in last, after everything
it wants stored with the sign-in (a binding, say), and the request's own commit at the boundary
then has nothing left to do. When the round's session holds no transaction yet (a round of scans),
its statements run in autocommit: the INSERT is atomic by itself, so a transaction around it would
only add its BEGIN and COMMIT round trips.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db
from app.services import audit
from app.services.live import events as live_events
from app.services.signin.rules import SignInError, check_eligible, is_late, live_signin, via_of
from app.tx import on_commit
from models import Contact, Invitee, Meeting, MeetingSession, SignIn
from models.signins import SignInDenial


@dataclass(frozen=True)
class NewSignIn:
    """One sign-in to write, with what its live event says about the person."""

    meeting_id: int
    session_id: int
    contact_id: int
    method: str
    signed_at: datetime
    late: bool
    name: str
    unit_id: int
    unit: str
    actor_id: int | None = None
    nonce: str | None = None
    #: The person's 参会身份 (``InviteeRole``) at this meeting, None when not invited: the big screen
    #: never labels a 领导 late (:func:`app.services.live.headcount.public_late`).
    role: str | None = None

    @classmethod
    def of(cls, meeting: Meeting, session: MeetingSession, contact_id: int, *, name: str, unit_id: int, unit: str,
           method: str, now: datetime, actor_id: int | None = None, nonce: str | None = None,
           role: str | None = None) -> NewSignIn:
        return cls(meeting.id, session.id, contact_id, str(method), now, is_late(meeting, session, now), name,
                   unit_id, unit, actor_id, nonce, role)

    @property
    def key(self) -> tuple[int, int]:
        return self.session_id, self.contact_id


@dataclass(frozen=True)
class Written:
    """A committed sign-in of :func:`commit_signins`, with its order number."""

    id: int
    seq: int | None


@dataclass
class SignInOutcome:
    record: SignIn
    #: False when the person had already signed in (a retry, a second scan): nothing was written.
    created: bool

    @property
    def seq(self) -> int | None:
        """第 N 位 (final: the sign-in has committed)."""
        return self.record.seq


def record_refusal(meeting_id: int, session_id: int, contact_id: int, *, method: str, error: SignInError,
                   at: datetime) -> None:
    """Keep a refused attempt with its reason code; a walk-in's attempt also files their request."""
    db.session.add(SignInDenial(meeting_id=meeting_id, session_id=session_id, contact_id=contact_id,
                                method=str(method), reason=error.code, at=at))
    if error.walk_in:
        hold_walk_in(meeting_id, contact_id)


def hold_walk_in(meeting_id: int, contact_id: int) -> None:
    """Hold a walk-in for an organizer's approval: a pending invitee, listed for the organizers."""
    db.session.add(Invitee(meeting_id=meeting_id, contact_id=contact_id, status="pending"))


def sign_in(meeting: Meeting, session: MeetingSession, contact: Contact, *, method: str,
            actor: Contact | None = None, nonce: str | None = None, now: datetime | None = None,
            check_window: bool = True, scanned: bool = False) -> SignInOutcome:
    """Sign ``contact`` in to ``session`` and commit (see the module's docstring). Idempotent:
    signing in twice returns the first record.

    A refusal raises :class:`SignInError` after recording it (:func:`record_refusal`), which the
    request boundary commits (the error is ``recorded``).

    :param actor: the staff member for 代签 (``method="proxy"``) or manual entry, audited.
    :param check_window: 代签 by staff may happen outside the attendee's window.
    :param scanned: an H5 or mini-program attempt that came from scanning a code shown in the room
        (the presence policy, :func:`~app.services.signin.rules.via_of`); a scan's method says so itself.
    """
    now = now or datetime.now(UTC)
    existing = live_signin(session.id, contact.id)
    if existing is not None:
        return SignInOutcome(existing, created=False)
    try:
        invitee = check_eligible(meeting, session, contact, now=now, check_window=check_window,
                                 via=via_of(method, scanned=scanned))
    except SignInError as exc:
        record_refusal(meeting.id, session.id, contact.id, method=method, error=exc, at=now)
        db.session.flush()
        raise
    row = NewSignIn.of(meeting, session, contact.id, name=contact.name, unit_id=contact.unit_id,
                       unit=contact.unit.name, method=method, now=now, actor_id=actor.id if actor else None,
                       nonce=nonce, role=invitee.role if invitee is not None else None)
    written = commit_signins([row]).get(row.key)
    record = db.session.get(SignIn, written.id) if written else live_signin(session.id, contact.id)
    if record is None:  # theirs won the race and was revoked within this instant: say nothing false
        raise SignInError("not_signed_in")
    return SignInOutcome(record, created=written is not None)


def commit_signins(rows: list[NewSignIn], *, pipe: Any = None) -> dict[tuple[int, int], Written]:
    """Insert ``rows`` in one statement, commit, read their order numbers and publish their live
    events (queued on ``pipe`` when given, sent by its owner). Returns the sign-ins written, by
    (session id, contact id): a person who already had a live sign-in gets none."""
    autocommit = _in_autocommit()
    db.session.flush()  # refusals (and walk-ins held) first: the sign-ins are the last write
    ids = _insert(rows)
    for row in rows:
        if row.actor_id is not None and row.key in ids:
            audit.record(f"contact:{row.actor_id}", f"signin.{row.method}", meeting_id=row.meeting_id,
                         target=f"contact:{row.contact_id}", session_id=row.session_id)
    if autocommit:  # the INSERT committed itself: read on the same connection before letting it go
        seqs = _read_seqs(list(ids.values()))
        db.session.commit()
    else:
        db.session.commit()
        seqs = _read_seqs(list(ids.values()))
    written = {key: Written(signin_id, seqs.get(signin_id)) for key, signin_id in ids.items()}
    live_events.publish_signins([_event(row, written[row.key].seq) for row in rows if row.key in written],
                                pipe=pipe)
    return written


def _event(row: NewSignIn, seq: int | None) -> dict:
    return live_events.signin_event(row.meeting_id, row.session_id, seq=seq, contact_id=row.contact_id,
                                    name=row.name, unit_id=row.unit_id, unit=row.unit, at=row.signed_at,
                                    late=row.late, method=row.method, role=row.role)


def begin_round() -> None:
    """Run a round of scans in autocommit (see the module's docstring): called before its first
    read. Not when the session already holds a transaction (as in tests, or after other writes),
    which then commits the sign-ins with the rest of it."""
    if not isinstance(db.session.get_bind(), sa.Connection) and not db.session().in_transaction():
        db.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _in_autocommit() -> bool:
    return db.session.connection().get_execution_options().get("isolation_level") == "AUTOCOMMIT"


_COLUMNS = ("meeting_id", "session_id", "contact_id", "method", "actor_contact_id", "signed_at", "late", "nonce")

# PostgreSQL: the rows as one JSON parameter (encoding it is a single C call, where arrays are dumped
# element by element in Python), so the statement's text never changes and is planned once per
# connection. Rows whose person already has a live sign-in are skipped by the partial unique index.
_PG_INSERT = sa.text("""
    INSERT INTO signins (meeting_id, session_id, contact_id, method, actor_contact_id, signed_at, late, nonce)
    SELECT r.meeting_id, r.session_id, r.contact_id, r.method, r.actor_contact_id, r.signed_at, r.late, r.nonce
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(meeting_id integer, session_id integer, contact_id integer, method varchar, actor_contact_id integer,
              signed_at timestamptz, late boolean, nonce varchar)
    ON CONFLICT (session_id, contact_id) WHERE revoked_at IS NULL DO NOTHING
    RETURNING id, session_id, contact_id""")


@cache
def _sqlite_insert() -> sa.Insert:
    """SQLite (the demo's database): the same INSERT, executed once per row (executemany)."""
    table = SignIn.__table__
    return (sa.dialects.sqlite.insert(table).values({c: sa.bindparam(c) for c in _COLUMNS})
            .on_conflict_do_nothing(index_elements=["session_id", "contact_id"],
                                    index_where=table.c.revoked_at.is_(None))
            .returning(table.c.id, table.c.session_id, table.c.contact_id))


def _insert(rows: list[NewSignIn]) -> dict[tuple[int, int], int]:
    """The one INSERT of sign-ins; the ids of those written, by (session id, contact id). The order
    numbers are not taken here: the ``signins_take_seq`` trigger takes them as the rows commit."""
    if not rows:
        return {}
    values = [{"meeting_id": r.meeting_id, "session_id": r.session_id, "contact_id": r.contact_id,
               "method": r.method, "actor_contact_id": r.actor_id, "signed_at": r.signed_at, "late": r.late,
               "nonce": r.nonce} for r in rows]
    if _dialect() == "postgresql":
        payload = json.dumps([{**v, "signed_at": v["signed_at"].isoformat()} for v in values])
        result = db.session.execute(_PG_INSERT, {"rows": payload})
    else:
        result = db.session.execute(_sqlite_insert(), values)
    return {(r.session_id, r.contact_id): r.id for r in result}


def in_list(column, name: str, dialect: str):
    """``column`` in the list bound as ``name``. On PostgreSQL one array parameter (``= ANY``), so the
    statement's text is the same whatever the round's size and the server plans it once."""
    if dialect == "postgresql":
        return column == sa.any_(sa.bindparam(name, type_=ARRAY(column.type)))
    return column.in_(sa.bindparam(name, expanding=True))


@cache
def _seqs(dialect: str) -> sa.Select:
    return select(SignIn.id, SignIn.seq).where(in_list(SignIn.id, "ids", dialect))


def _read_seqs(ids: list[int]) -> dict[int, int]:
    return {row.id: row.seq for row in db.session.execute(_seqs(_dialect()), {"ids": ids})} if ids else {}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def revoke(meeting: Meeting, session: MeetingSession, contact: Contact, *, actor: Contact, reason: str,
           now: datetime | None = None) -> SignIn:
    """Undo a mistaken sign-in: the row stays, marked revoked with who, when and why. Committed by
    the request; the live event follows that commit."""
    record = live_signin(session.id, contact.id)
    if record is None:
        raise SignInError("not_signed_in")
    record.revoked_at = now or datetime.now(UTC)
    record.revoked_by_contact_id = actor.id
    record.revoke_reason = (reason or "").strip()[:200] or "会务组撤销"
    # Counted in the same transaction: the live counters compare it with the revokes they applied,
    # so a revoke whose event is lost (its worker killed after this commit) is repaired at once.
    db.session.execute(update(MeetingSession).where(MeetingSession.id == session.id)
                       .values(revokes=MeetingSession.revokes + 1))
    db.session.flush()
    audit.record(f"contact:{actor.id}", "signin.revoke", meeting_id=meeting.id, target=f"contact:{contact.id}",
                 session_id=session.id, seq=record.seq, reason=record.revoke_reason)
    payload = live_events.revoke_payload(meeting, session, record)
    on_commit(lambda: live_events.publish_revoke(payload))
    return record
