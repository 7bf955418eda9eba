"""Sign-in: the one place every channel (scan, H5, mini program, 代签, manual) signs people in.

Guarantees, whatever the concurrency:
- at most one live sign-in per (session, person): the partial unique index decides, not a
  check-then-insert;
- order numbers ("第 N 位") 1..N without gaps or repeats: the database takes them from a per-session
  counter as each sign-in commits (trigger ``signins_take_seq``), so a rolled-back sign-in never
  had one and the counter's lock never waits on the app;
- refusals are kept with their reason code (``SignInDenial``);
- live screens hear about a sign-in only after it is committed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import select

from app.extensions import db
from app.services import audit
from app.services.signin.rules import SignInError, check_eligible, live_signin
from app.tx import on_commit
from models import Contact, Meeting, MeetingSession, SignIn
from models.signins import SignInDenial


@dataclass
class SignInOutcome:
    record: SignIn
    #: False when the person had already signed in (a retry, a second scan): nothing was written.
    created: bool
    #: The order number read once after the commit by the live-event callback (None until then).
    committed_seq: int | None = None

    @property
    def seq(self) -> int | None:
        """第 N 位. The database takes it when the sign-in commits: read it after the commit."""
        return self.committed_seq if self.committed_seq is not None else self.record.seq


def sign_in(meeting: Meeting, session: MeetingSession, contact: Contact, *, method: str,
            actor: Contact | None = None, nonce: str | None = None, now: datetime | None = None,
            check_window: bool = True) -> SignInOutcome:
    """Sign ``contact`` in to ``session``. Idempotent: signing in twice returns the first record.

    A refusal raises :class:`SignInError` after adding a ``SignInDenial`` row, which the request
    boundary commits (the error is ``recorded``).

    :param actor: the staff member for 代签 (``method="proxy"``) or manual entry.
    :param check_window: 代签 by staff may happen outside the attendee's window.

    Scans of the official account's QR code go through :mod:`scan_signin` instead, many to a
    transaction, with this module's rule, insert and live event.
    """
    now = now or datetime.now(UTC)
    existing = live_signin(session.id, contact.id)
    if existing is not None:
        return SignInOutcome(existing, created=False)
    try:
        check_eligible(meeting, session, contact, now=now, check_window=check_window)
    except SignInError as exc:
        db.session.add(SignInDenial(meeting_id=meeting.id, session_id=session.id, contact_id=contact.id,
                                    method=method, reason=exc.code, at=now))
        db.session.flush()
        raise

    record = _insert(meeting, session, contact, method=method, actor=actor, nonce=nonce, now=now)
    if record is None:  # someone else's identical request won the race; theirs is the record
        return SignInOutcome(live_signin(session.id, contact.id), created=False)
    if actor is not None:
        audit.record(f"contact:{actor.id}", f"signin.{method}", meeting_id=meeting.id,
                     target=f"contact:{contact.id}", session_id=session.id)
    outcome = SignInOutcome(record, created=True)
    _announce(meeting, session, record, outcome)
    return outcome


def _insert(meeting: Meeting, session: MeetingSession, contact: Contact, *, method: str,
            actor: Contact | None, nonce: str | None, now: datetime) -> SignIn | None:
    """Insert the sign-in unless a live one exists; None if another request's insert won."""
    values = insert_values(meeting, session, contact.id, method=method, now=now,
                           actor_id=actor.id if actor else None, nonce=nonce)
    dialect = db.session.get_bind().dialect.name
    if dialect not in _ORM_INSERTS:
        # The Core insert's returned row loaded as a ``SignIn``: half the CPU of the ORM's own
        # bulk-insert path, which one row does not need.
        _ORM_INSERTS[dialect] = select(SignIn).from_statement(insert_statement(dialect))
    return db.session.scalars(_ORM_INSERTS[dialect], values).one_or_none()


def insert_values(meeting: Meeting, session: MeetingSession, contact_id: int, *, method: str, now: datetime,
                  actor_id: int | None = None, nonce: str | None = None) -> dict:
    """The columns of a new sign-in (what :func:`insert_statement` binds)."""
    return {"meeting_id": meeting.id, "session_id": session.id, "contact_id": contact_id, "method": method,
            "actor_contact_id": actor_id, "signed_at": now, "late": now > session.starts_at, "nonce": nonce}


# PostgreSQL: many sign-ins in one statement whose text never changes (the rows as one JSON
# parameter: encoding it is a single C call, where arrays are dumped element by element in Python),
# so it is parsed and planned once per connection; rows whose person already has a live sign-in
# are skipped by the same partial unique index as one at a time.
_PG_INSERT_MANY = sa.text("""
    INSERT INTO signins (meeting_id, session_id, contact_id, method, signed_at, late)
    SELECT r.meeting_id, r.session_id, r.contact_id, r.method, r.signed_at, r.late
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(meeting_id integer, session_id integer, contact_id integer, method varchar, signed_at timestamptz,
              late boolean)
    ON CONFLICT (session_id, contact_id) WHERE revoked_at IS NULL DO NOTHING
    RETURNING id, session_id, contact_id""")


def insert_many(rows: list[dict]) -> list[sa.Row]:
    """Insert several sign-ins (:func:`insert_values` each, no actor or nonce) in one statement;
    returns ``(id, session_id, contact_id)`` of those inserted: a person who already has a live
    sign-in gets no row back. Order numbers are taken at commit, as for one."""
    if not rows:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        payload = json.dumps([{**r, "signed_at": r["signed_at"].isoformat()} for r in rows])
        return db.session.execute(_PG_INSERT_MANY, {"rows": payload}).all()
    return db.session.execute(insert_statement("sqlite"), rows).all()  # executemany, RETURNING each


_INSERTS: dict[str, sa.Insert] = {}
_ORM_INSERTS: dict[str, sa.Select] = {}


def insert_statement(dialect: str) -> sa.Insert:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING``, built once per dialect (bound parameters): a
    person who already has a live sign-in gets no row back.

    The order number is not taken here: the database's ``signins_take_seq`` trigger takes it as the
    transaction commits, so the session's counter row is locked only inside the commit itself.
    """
    if dialect not in _INSERTS:
        insert = sa.dialects.postgresql.insert if dialect == "postgresql" else sa.dialects.sqlite.insert
        table = SignIn.__table__
        columns = ("meeting_id", "session_id", "contact_id", "method", "actor_contact_id", "signed_at", "late", "nonce")
        _INSERTS[dialect] = insert(table).values({c: sa.bindparam(c) for c in columns}).on_conflict_do_nothing(
            index_elements=["session_id", "contact_id"], index_where=table.c.revoked_at.is_(None)).returning(*table.c)
    return _INSERTS[dialect]


def _announce(meeting: Meeting, session: MeetingSession, record: SignIn, outcome: SignInOutcome) -> None:
    from app.services.live import events as live_events

    payload = live_events.signin_payload(meeting, session, record)
    record_id = record.id  # read now: after the commit the whole row is expired

    def publish() -> None:
        # Taken at commit: read once, for the event and for the caller's reply (outcome.seq).
        outcome.committed_seq = payload["seq"] = committed_seq(record_id)
        live_events.publish_signin(payload)

    on_commit(publish)


def committed_seq(signin_id: int) -> int | None:
    """A committed sign-in's order number."""
    return read_committed(_SEQ, {"signin_id": signin_id}).scalar()


def read_committed(statement, params: dict) -> sa.Result:
    """Read what a commit just set, in autocommit: unlike a read through the session, it opens no
    transaction that the caller would then have to commit a second time."""
    bind = db.session.get_bind()
    if isinstance(bind, sa.Connection):
        # The session joined a caller's transaction on one connection (as in tests): only that
        # connection sees the row, and its transaction is the caller's to end.
        return db.session.execute(statement, params)
    with bind.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        return conn.execute(statement, params).freeze()()


_SEQ = select(SignIn.seq).where(SignIn.id == sa.bindparam("signin_id"))


def revoke(meeting: Meeting, session: MeetingSession, contact: Contact, *, actor: Contact, reason: str,
           now: datetime | None = None) -> SignIn:
    """Undo a mistaken sign-in: the row stays, marked revoked with who, when and why."""
    record = live_signin(session.id, contact.id)
    if record is None:
        raise SignInError("not_signed_in")
    record.revoked_at = now or datetime.now(UTC)
    record.revoked_by_contact_id = actor.id
    record.revoke_reason = (reason or "").strip()[:200] or "会务组撤销"
    db.session.flush()
    audit.record(f"contact:{actor.id}", "signin.revoke", meeting_id=meeting.id, target=f"contact:{contact.id}",
                 session_id=session.id, seq=record.seq, reason=record.revoke_reason)
    from app.services.live import events as live_events

    payload = live_events.revoke_payload(meeting, session, record)
    on_commit(lambda: live_events.publish_revoke(payload))
    return record


