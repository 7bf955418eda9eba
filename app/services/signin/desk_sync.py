"""The merge of scans synced by offline desks: every scan kept, one sign-in per person, the earliest.

A desk syncs its queue in batches, perhaps twice (a lost answer), perhaps late, in any order with
other desks. The result must not depend on any of that:

- every scan is kept once: (desk, scan id) is unique, a batch sent again adds nothing;
- each scan is read again here (:func:`personal_codes.check_code`) and by the sign-in rules
  (:func:`rules.check_eligible`, as staff at the desk: no window, no presence policy). A scan that
  may sign no one in is kept with its reason (``flag``): a forged, revoked, expired or other-meeting
  code, someone unknown, on leave, or refused by the rules. Accept and flag, never drop;
- the rest sign their person in through the one write core (:func:`write.commit_signins`), whose
  partial unique index admits one live sign-in per person per session. Its time is the person's
  earliest scan: a sign-in already there from a later moment (a desk that synced first, a phone
  that signed in online after the person had passed an offline desk) is moved back to the earlier
  time by a conditional UPDATE (``signed_at > :at``), which is why the order of syncs never matters;
- a person scanned at two desks is one sign-in and a conflict the organizer sees (:func:`conflicts`).

The sign-ins' live events carry their real (device) time; a sign-in moved earlier may change its
``late`` flag, so the session's live counters are rebuilt from the database after such a move.

Like every sign-in (:mod:`app.services.signin.write`), a sync owns its commits, and it makes two: the
batch's scans with its new sign-ins (the write core's commit), then the earlier times. The UPDATE
must come after that INSERT has waited out any sync racing it for the same person (the unique
index makes it wait): only then does it see that sync's sign-in and can move it. A crash between the
two leaves every scan kept and a time not yet moved; the desk, never answered, sends the batch
again, and the resend moves it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from sqlalchemy import func, select, update

from app.extensions import db
from app.services import audit
from app.services.live import headcount
from app.services.signin import personal_codes, write
from app.services.signin.personal_codes import CodeError
from app.services.signin.rules import SignInError, Via, check_eligible, is_late
from app.tx import on_commit
from models import (
    Contact,
    Desk,
    DeskScan,
    Invitee,
    Leave,
    Meeting,
    MeetingSession,
    MeetingState,
    SignIn,
    SignInMethod,
    Unit,
)

#: The method of a sign-in made by a desk's scan of a personal code.
DESK_METHOD = SignInMethod.DESK
CODE_KEEP = 200
#: A desk's clock this close to ours is trusted as it is; further off, its times are corrected.
CLOCK_TOLERANCE = timedelta(minutes=2)

#: The organizer's names for the flags.
FLAG_LABELS = {
    "forged": "无效代码", "other_meeting": "非本会议代码", "revoked": "代码已撤销", "expired": "代码已过期",
    "unknown": "未知人员", "on_leave": "已请假", "session_not_found": "场次不存在",
    **{code: label for code, label in SignInError.labels.items()},
}


@dataclass(frozen=True)
class ScanIn:
    """One scan as a desk sends it."""

    scan_id: str
    code: str
    #: The device's clock when it scanned (aware).
    at: datetime
    #: The session's position the desk scanned for.
    session: int
    verdict: str | None = None
    #: The device's own reading when :func:`sync` corrected ``at`` (set by it).
    device_at: datetime | None = None


@dataclass(frozen=True)
class SyncResult:
    received: int
    #: Scans not seen before (the rest were a batch sent again).
    new: int
    #: scan id -> flag, for the scans that sign no one in.
    flagged: dict[str, str]
    signed_in: int
    moved_earlier: int


@dataclass(frozen=True)
class _Person:
    """What :func:`check_eligible` reads of a contact."""

    id: int
    unit_id: int
    active: bool


def sync(desk: Desk, scans: list[ScanIn], *, now: datetime | None = None,
         device_now: datetime | None = None) -> SyncResult:
    """Merge one batch of ``desk``'s scans (see the module's docstring); commits.

    ``device_now``: the desk's clock as it sent the batch. When it is off ours by more than
    ``CLOCK_TOLERANCE`` (a phone whose clock was reset), the scans' times are corrected by as much."""
    now = now or datetime.now(UTC)
    offset = now - device_now if device_now is not None else timedelta(0)
    if abs(offset) <= CLOCK_TOLERANCE:
        offset = timedelta(0)  # within the tolerance the device's own times stand (they order the scans)
    scans = [ScanIn(s.scan_id, s.code, s.at, s.session, s.verdict, device_at=s.at) if not offset
             else ScanIn(s.scan_id, s.code, s.at + offset, s.session, s.verdict, device_at=s.at) for s in scans]
    meeting = db.session.get(Meeting, desk.meeting_id)
    sessions = {s.position: s for s in meeting.sessions}
    key = personal_codes.signing_key()
    revoked = personal_codes.revoked_pairs(meeting.id)

    decoded: dict[str, tuple[int | None, str | None]] = {}
    for scan in scans:
        try:
            data = personal_codes.check_code(scan.code, meeting, at=scan.at, revoked=revoked, key=key)
            decoded[scan.scan_id] = (data.contact_id, None)
        except CodeError as exc:
            contact_id = None
            if exc.code in ("revoked", "expired"):  # signed by us for this meeting: the person is known
                contact_id = personal_codes.decode(scan.code, key).contact_id
            decoded[scan.scan_id] = (contact_id, exc.code)
    people = _people(meeting, {cid for cid, _ in decoded.values() if cid is not None})

    rows, best = [], {}
    for scan in scans:
        contact_id, flag = decoded[scan.scan_id]
        session = sessions.get(scan.session)
        person = people.get(contact_id) if contact_id is not None else None
        if flag is None:
            flag = _flag(meeting, session, person, scan.at)
        if contact_id is not None and person is None:
            contact_id = None  # a code of a contact since deleted: keep the scan, name no one
        rows.append({"meeting_id": meeting.id, "desk_id": desk.id, "scan_id": scan.scan_id,
                     "session_id": session.id if session else None, "contact_id": contact_id,
                     "code": (scan.code or "")[:CODE_KEEP], "scanned_at": scan.at, "device_at": scan.device_at,
                     "received_at": now,
                     "verdict": (scan.verdict or None) and scan.verdict[:32], "flag": flag})
        if flag is None:
            # A clock ahead of ours cannot be the real time of a scan already made.
            at = min(scan.at, now)
            k = (session.id, contact_id)
            if k not in best or at < best[k][0]:
                best[k] = (at, session, person)
    new = _insert_scans(rows)

    signins = [write.NewSignIn(meeting.id, session.id, cid, str(DESK_METHOD), at, is_late(meeting, session, at),
                               p["name"], p["unit_id"], p["unit"], role=p["role"])
               for (_sid, cid), (at, session, p) in best.items()]
    if new:
        audit.record(f"desk:{desk.id}", "door.desk_sync", meeting_id=meeting.id, target=f"desk:{desk.id}",
                     received=len(scans), new=new, signins=len(signins))
    written = write.commit_signins(signins)  # commits the scans with the sign-ins
    moved = _move_earlier([s for s in signins if s.key not in written])
    flagged = {r["scan_id"]: r["flag"] for r in rows if r["flag"] is not None}
    return SyncResult(len(scans), new, flagged, len(written), moved)


@dataclass(frozen=True)
class _AsItWas:
    """The meeting as the rules read it, in the state it was in when a desk scanned: a desk that
    syncs after the organizer closed the meeting brings scans made while it was open."""

    id: int
    state: str
    admission: str
    presence: str


def _as_it_was(meeting: Meeting, at: datetime):
    if meeting.state == MeetingState.CLOSED and at <= meeting.ends_at:
        return _AsItWas(meeting.id, MeetingState.PUBLISHED, meeting.admission, meeting.presence)
    return meeting


def _flag(meeting: Meeting, session, person: dict | None, at: datetime) -> str | None:
    """Why a scan of a valid code signs no one in, or None."""
    if session is None:
        return "session_not_found"
    if person is None:
        return "unknown"
    if person["leave"]:
        return "on_leave"
    try:
        check_eligible(_as_it_was(meeting, at), session, _Person(person["id"], person["unit_id"], person["active"]),
                       now=at, check_window=False, via=Via.STAFF, invitee_status=person["status"])
    except SignInError as exc:
        return exc.code
    return None


def _people(meeting: Meeting, contact_ids: set[int]) -> dict[int, dict]:
    """The named people in one read: name, unit, active, invitee status and role, leave."""
    if not contact_ids:
        return {}
    ids = list(contact_ids)
    rows = db.session.execute(
        select(Contact.id, Contact.name, Contact.unit_id, Contact.active, Unit.name, Invitee.status, Invitee.role,
               Leave.id)
        .join(Unit, Unit.id == Contact.unit_id)
        .outerjoin(Invitee, (Invitee.meeting_id == meeting.id) & (Invitee.contact_id == Contact.id))
        .outerjoin(Leave, (Leave.meeting_id == meeting.id) & (Leave.contact_id == Contact.id))
        .where(write.in_list(Contact.id, "ids", _dialect())), {"ids": ids}
    ).all()
    return {cid: {"id": cid, "name": name, "unit_id": uid, "active": active, "unit": unit, "status": status,
                  "role": role, "leave": leave_id is not None}
            for cid, name, uid, active, unit, status, role, leave_id in rows}


def _dialect() -> str:
    return db.session.get_bind().dialect.name


# PostgreSQL: the batch as one JSON parameter (as the write core's INSERT): the statement's text never
# changes, so it is planned once, and the driver has one value to send rather than ten per scan.
_PG_SCAN_INSERT = sa.text("""
    INSERT INTO desk_scans (meeting_id, desk_id, scan_id, session_id, contact_id, code, scanned_at, device_at,
                            received_at, verdict, flag)
    SELECT r.meeting_id, r.desk_id, r.scan_id, r.session_id, r.contact_id, r.code, r.scanned_at, r.device_at,
           r.received_at, r.verdict, r.flag
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(meeting_id integer, desk_id integer, scan_id varchar, session_id integer, contact_id integer,
              code varchar, scanned_at timestamptz, device_at timestamptz, received_at timestamptz, verdict varchar,
              flag varchar)
    ON CONFLICT (desk_id, scan_id) DO NOTHING
    RETURNING id""")


@cache
def _sqlite_scan_insert():
    table = DeskScan.__table__
    return (sa.dialects.sqlite.insert(table).on_conflict_do_nothing(index_elements=["desk_id", "scan_id"])
            .returning(table.c.id))


def _insert_scans(rows: list[dict]) -> int:
    """Keep every scan once; returns how many were new."""
    if not rows:
        return 0
    if _dialect() == "postgresql":
        payload = json.dumps([{**r, "scanned_at": r["scanned_at"].isoformat(), "device_at": r["device_at"].isoformat(),
                               "received_at": r["received_at"].isoformat()} for r in rows], ensure_ascii=False)
        return len(db.session.execute(_PG_SCAN_INSERT, {"rows": payload}).all())
    return len(db.session.execute(_sqlite_scan_insert(), rows).all())


# PostgreSQL: the whole batch in one statement (the rows as one JSON parameter, as the write core's
# INSERT): each live sign-in later than its scan takes the scan's time; the row lock decides between
# two syncs racing (the second re-checks ``signed_at >`` after the first commits), so the earlier stays.
_PG_MOVE = sa.text("""
    UPDATE signins AS s SET signed_at = r.signed_at, late = r.late, method = r.method, actor_contact_id = NULL
    FROM json_to_recordset(CAST(:rows AS json))
         AS r(session_id integer, contact_id integer, signed_at timestamptz, late boolean, method varchar)
    WHERE s.session_id = r.session_id AND s.contact_id = r.contact_id AND s.revoked_at IS NULL
      AND s.signed_at > r.signed_at
    RETURNING s.session_id""")


def _move_earlier(rows: list[write.NewSignIn]) -> int:
    """Move live sign-ins made later than these scans back to the scans' times, by a conditional
    UPDATE (``signed_at > :at``: of two syncs racing, the earlier time is the one left). Commits;
    the sessions' live counters are rebuilt after (a late flag may have changed)."""
    meetings = {row.session_id: row.meeting_id for row in rows}
    if not rows:
        moved_sessions: list[int] = []
    elif _dialect() == "postgresql":
        payload = json.dumps([{"session_id": r.session_id, "contact_id": r.contact_id,
                               "signed_at": r.signed_at.isoformat(), "late": r.late, "method": r.method}
                              for r in rows])
        moved_sessions = list(db.session.execute(_PG_MOVE, {"rows": payload}).scalars())
    else:  # SQLite (the demo): one statement per row
        moved_sessions = []
        for row in rows:
            result = db.session.execute(
                update(SignIn).where(SignIn.session_id == row.session_id, SignIn.contact_id == row.contact_id,
                                     SignIn.revoked_at.is_(None), SignIn.signed_at > row.signed_at)
                .values(signed_at=row.signed_at, late=row.late, method=row.method, actor_contact_id=None)
                .execution_options(synchronize_session=False))
            moved_sessions += [row.session_id] * result.rowcount
    sessions = {sid: meetings[sid] for sid in moved_sessions}
    if sessions:
        on_commit(lambda: [headcount.rebuild(sid, announce=mid) for sid, mid in sessions.items()])
    db.session.commit()
    return len(moved_sessions)


# -- what the organizer sees ------------------------------------------------------------------------------
@dataclass
class ScanRow:
    id: int
    desk: str
    scanned_at: datetime
    received_at: datetime
    session: str
    name: str
    unit: str
    code: str
    flag: str | None
    verdict: str | None

    @property
    def flag_label(self) -> str:
        return FLAG_LABELS.get(self.flag or "", self.flag or "")


@dataclass
class Conflict:
    """A person scanned at more than one desk for a session: one sign-in, at ``signed_at``."""

    session: str
    name: str
    unit: str
    signed_at: datetime | None
    scans: list[ScanRow]


def _rows(where, limit: int | None = None, *, keyed: bool = False) -> list:
    """Scans as the organizer reads them, oldest first; ``keyed``: as ((session id, contact id), row)."""
    stmt = (select(DeskScan, Desk.name, MeetingSession.title, Contact.name, Unit.name)
            .join(Desk, Desk.id == DeskScan.desk_id)
            .outerjoin(MeetingSession, MeetingSession.id == DeskScan.session_id)
            .outerjoin(Contact, Contact.id == DeskScan.contact_id).outerjoin(Unit, Unit.id == Contact.unit_id)
            .where(where).order_by(DeskScan.scanned_at, DeskScan.id))
    if limit:
        stmt = stmt.limit(limit)
    out = []
    for s, desk, session, name, unit in db.session.execute(stmt):
        row = ScanRow(s.id, desk, s.scanned_at, s.received_at, session or "", name or "", unit or "", s.code,
                      s.flag, s.verdict)
        out.append(((s.session_id, s.contact_id), row) if keyed else row)
    return out


def flagged_scans(meeting: Meeting, *, limit: int = 500) -> list[ScanRow]:
    """Scans that signed no one in, with why, oldest first."""
    return _rows((DeskScan.meeting_id == meeting.id) & DeskScan.flag.is_not(None), limit)


def conflicts(meeting: Meeting) -> list[Conflict]:
    """People scanned for the same session at two desks or more: their scans and the one sign-in
    (three reads, however many conflicts)."""
    keys = (select(DeskScan.session_id, DeskScan.contact_id)
            .where(DeskScan.meeting_id == meeting.id, DeskScan.flag.is_(None))
            .group_by(DeskScan.session_id, DeskScan.contact_id)
            .having(func.count(sa.distinct(DeskScan.desk_id)) > 1)).subquery()
    in_conflict = sa.exists().where(keys.c.session_id == DeskScan.session_id, keys.c.contact_id == DeskScan.contact_id)
    scans: dict[tuple[int, int], list[ScanRow]] = {}
    rows = _rows((DeskScan.meeting_id == meeting.id) & DeskScan.flag.is_(None) & in_conflict, keyed=True)
    for key, row in rows:
        scans.setdefault(key, []).append(row)
    times = {(sid, cid): at for sid, cid, at in db.session.execute(
        select(SignIn.session_id, SignIn.contact_id, SignIn.signed_at)
        .where(SignIn.meeting_id == meeting.id, SignIn.revoked_at.is_(None)))} if scans else {}
    out = [Conflict(rows[0].session, rows[0].name, rows[0].unit, times.get(key), rows) for key, rows in scans.items()]
    return sorted(out, key=lambda c: c.scans[0].scanned_at)


def counts(meeting: Meeting) -> dict[str, int]:
    total, flagged = db.session.execute(
        select(func.count(), func.count(DeskScan.flag)).where(DeskScan.meeting_id == meeting.id)).one()
    return {"scans": total or 0, "flagged": flagged or 0}
