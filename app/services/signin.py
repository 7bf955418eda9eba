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
from app.services.errors import DomainError
from app.services.timeutil import fmt_hm
from app.tx import on_commit
from models import (
    Admission,
    Contact,
    Invitee,
    Meeting,
    MeetingSession,
    MeetingState,
    MeetingUnit,
    SignIn,
)
from models.signins import SignInDenial, SignInMethod


class SignInError(DomainError):
    messages = {
        "meeting_not_published": "会议尚未发布，暂不能签到",
        "meeting_closed": "会议已结束",
        "not_open_yet": "签到尚未开始，签到时间为 {opens} 起，请稍后再扫码",
        "signin_closed": "签到已于 {closes} 结束，如需补签请联系会务组",
        "not_invited": "您不在本次会议的参会名单中，如有疑问请联系会务组",
        "pending_approval": "已提交签到申请，请等待会务组审核",
        "approval_rejected": "会务组未通过您的签到申请，如有疑问请联系会务组",
        "contact_inactive": "您已不在通讯录中，如有疑问请联系本单位办公室",
        "session_not_found": "找不到该场次",
        "not_signed_in": "该人员尚未签到",
    }
    statuses = {"session_not_found": 404, "not_signed_in": 409}
    #: Every refusal of an attempt is stored as a SignInDenial (and a walk-in's pending request).
    recorded = frozenset({"meeting_not_published", "meeting_closed", "not_open_yet", "signin_closed",
                          "not_invited", "pending_approval", "approval_rejected", "contact_inactive"})


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


_LOOK_UP = object()


def get_session(meeting: Meeting, position: int | None = None) -> MeetingSession:
    """The session by position, or the one whose sign-in window is current (else the first)."""
    sessions = meeting.sessions
    if not sessions:
        raise SignInError("session_not_found")
    if position is not None:
        for s in sessions:
            if s.position == position:
                return s
        raise SignInError("session_not_found")
    now = datetime.now(UTC)
    for s in sessions:
        if s.signin_opens_at <= now <= s.signin_closes_at:
            return s
    upcoming = [s for s in sessions if s.signin_opens_at > now]
    return upcoming[0] if upcoming else sessions[-1]


def check_eligible(meeting: Meeting, session: MeetingSession, contact: Contact, *, now: datetime,
                   check_window: bool = True, invitee_status: str | None | object = _LOOK_UP) -> Invitee | None:
    """Whether ``contact`` may sign in to ``session`` now; returns their invitee row if any (None
    when the caller passed ``invitee_status``, already read with the contact: None = not invited).

    :raise SignInError: with the reason code.
    """
    if meeting.state == MeetingState.DRAFT:
        raise SignInError("meeting_not_published")
    if meeting.state in (MeetingState.CLOSED, MeetingState.ARCHIVED):
        raise SignInError("meeting_closed")
    if not contact.active:
        raise SignInError("contact_inactive")
    if check_window:
        if now < session.signin_opens_at:
            raise SignInError("not_open_yet", opens=_when(session.signin_opens_at, now))
        if now > session.signin_closes_at:
            raise SignInError("signin_closed", closes=_when(session.signin_closes_at, now))

    invitee = None
    if invitee_status is _LOOK_UP:
        invitee = db.session.scalar(
            select(Invitee).where(Invitee.meeting_id == meeting.id, Invitee.contact_id == contact.id)
        )
        invitee_status = invitee.status if invitee is not None else None
    if invitee_status is not None:
        if invitee_status == "approved":
            return invitee
        raise SignInError("pending_approval" if invitee_status == "pending" else "approval_rejected")
    if meeting.admission == Admission.UNITS:
        listed = db.session.scalar(
            select(MeetingUnit.unit_id).where(MeetingUnit.meeting_id == meeting.id,
                                              MeetingUnit.unit_id == contact.unit_id)
        )
        if listed is not None:
            return None
    if meeting.admission == Admission.APPROVAL:
        # A walk-in: held for an organizer's approval, kept even though the attempt is refused.
        db.session.add(Invitee(meeting_id=meeting.id, contact_id=contact.id, status="pending"))
        db.session.flush()
        raise SignInError("pending_approval")
    raise SignInError("not_invited")


def _when(at: datetime, now: datetime) -> str:
    from app.services.timeutil import local

    same_day = local(at).date() == local(now).date()
    return fmt_hm(at) if same_day else local(at).strftime("%m月%d日 %H:%M")


def live_signin(session_id: int, contact_id: int) -> SignIn | None:
    return db.session.scalar(
        select(SignIn).where(SignIn.session_id == session_id, SignIn.contact_id == contact_id,
                             SignIn.revoked_at.is_(None))
    )


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
    from app.services import live_events

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
    from app.services import live_events

    payload = live_events.revoke_payload(meeting, session, record)
    on_commit(lambda: live_events.publish_revoke(payload))
    return record


__all__ = ["SignInError", "SignInMethod", "SignInOutcome", "check_eligible", "committed_seq", "get_session",
           "insert_many", "insert_statement", "insert_values", "live_signin", "read_committed", "revoke", "sign_in"]
