"""Sign-in desks: staff scanners at the door, each with a token issued from the console.

A desk token is scoped to one meeting and revocable; only its SHA-256 is stored, so it is shown once
(as the scanner's link). The scanner fetches its meeting's data with it (:func:`bundle`: the people,
the revoked codes, the public key) and keeps them for when the network fails; what it scans is
merged by :mod:`app.services.signin.desk_sync`.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.signin import personal_codes
from app.services.timeutil import local
from models import (
    Admission,
    Contact,
    Desk,
    DeskScan,
    Invitee,
    Leave,
    Meeting,
    MeetingSession,
    MeetingUnit,
    SignIn,
    Unit,
)

TOKEN_PREFIX = "dk_"
#: How the scanner names a sign-in's channel (已签到 … by whom): a desk's by the desk's name.
CHANNELS = {"scan": "公众号扫码", "h5": "网页", "mp": "小程序", "proxy": "会务组代签", "manual": "现场签到",
            "desk": "签到台"}
NAME_MAX = 64
#: A desk's clock is trusted for its scans' times; a desk reporting its last-seen at most this often
#: keeps a burst of syncs from writing the desk's row each time.
SEEN_EVERY_S = 30


class DeskError(DomainError):
    messages = {
        "desk_unauthorized": "签到台凭证无效，请向会务组重新获取签到台链接",
        "desk_revoked": "此签到台已被会务组停用，请向会务组重新获取签到台链接",
        "desk_not_found": "找不到该签到台",
        "name_missing": "请填写签到台名称",
        "too_long": "签到台名称过长，请控制在 64 字以内",
    }
    statuses = {"desk_unauthorized": 401, "desk_revoked": 401, "desk_not_found": 404}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedDesk:
    desk: Desk
    #: The token itself: shown once, in the scanner's link.
    token: str


def issue_desk(meeting: Meeting, *, name: str, actor: Contact) -> IssuedDesk:
    """A new desk for ``meeting``. :raise DeskError: ``name_missing``, ``too_long``."""
    name = (name or "").strip()
    if not name:
        raise DeskError("name_missing")
    if len(name) > NAME_MAX:
        raise DeskError("too_long")
    token = TOKEN_PREFIX + secrets.token_urlsafe(24)
    desk = Desk(meeting_id=meeting.id, name=name, token_hash=_hash(token), created_by_contact_id=actor.id)
    db.session.add(desk)
    db.session.flush()
    audit.record(f"contact:{actor.id}", "door.desk_issue", meeting_id=meeting.id, target=f"desk:{desk.id}",
                 name=name)
    return IssuedDesk(desk, token)


def desks_of(meeting: Meeting) -> list[Desk]:
    return list(db.session.scalars(select(Desk).where(Desk.meeting_id == meeting.id).order_by(Desk.id)))


def revoke_desk(meeting: Meeting, desk_id: int, *, actor: Contact, now: datetime | None = None) -> Desk:
    """Stop a desk (a lost phone): its token no longer fetches or syncs. Scans it synced stay.
    :raise DeskError: ``desk_not_found``."""
    desk = db.session.scalar(select(Desk).where(Desk.id == desk_id, Desk.meeting_id == meeting.id))
    if desk is None:
        raise DeskError("desk_not_found")
    if desk.revoked_at is None:
        desk.revoked_at = now or datetime.now(UTC)
        desk.revoked_by_contact_id = actor.id
        db.session.flush()
        audit.record(f"contact:{actor.id}", "door.desk_revoke", meeting_id=meeting.id, target=f"desk:{desk.id}")
    return desk


def desk_for_token(token: str | None, *, now: datetime | None = None) -> Desk:
    """The desk holding ``token``. :raise DeskError: ``desk_unauthorized`` (none), ``desk_revoked``."""
    token = (token or "").strip()
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        raise DeskError("desk_unauthorized")
    desk = db.session.scalar(select(Desk).where(Desk.token_hash == _hash(token)))
    if desk is None:
        raise DeskError("desk_unauthorized")
    if desk.revoked_at is not None:
        raise DeskError("desk_revoked")
    now = now or datetime.now(UTC)
    if desk.last_seen_at is None or (now - desk.last_seen_at).total_seconds() > SEEN_EVERY_S:
        desk.last_seen_at = now
    return desk


# -- what a scanner keeps for offline work -------------------------------------------------------------
def people_at_door(meeting: Meeting) -> list[dict]:
    """Everyone a desk may meet: the invitees (any status) and, for admission ``units``, the listed
    units' active people, with unit, 职务, seat and whether they are on leave."""
    people: dict[int, dict] = {}
    rows = db.session.execute(
        select(Contact.id, Contact.name, Unit.name, Contact.title, Contact.active, Invitee.seat, Invitee.role,
               Invitee.status)
        .join(Contact, Contact.id == Invitee.contact_id).join(Unit, Unit.id == Contact.unit_id)
        .where(Invitee.meeting_id == meeting.id)
    ).all()
    for cid, name, unit, title, active, seat, role, status in rows:
        people[cid] = {"id": cid, "name": name, "unit": unit, "title": title or "", "seat": seat or "",
                       "role": role or "", "status": status if active else "inactive", "leave": False}
    if meeting.admission == Admission.UNITS:
        rows = db.session.execute(
            select(Contact.id, Contact.name, Unit.name, Contact.title)
            .join(Unit, Unit.id == Contact.unit_id).join(MeetingUnit, MeetingUnit.unit_id == Unit.id)
            .where(MeetingUnit.meeting_id == meeting.id, Contact.active.is_(True))
        ).all()
        for cid, name, unit, title in rows:
            people.setdefault(cid, {"id": cid, "name": name, "unit": unit, "title": title or "", "seat": "",
                                    "role": "", "status": "approved", "leave": False})
    for (cid,) in db.session.execute(select(Leave.contact_id).where(Leave.meeting_id == meeting.id)):
        if cid in people:
            people[cid]["leave"] = True
    return sorted(people.values(), key=lambda p: p["id"])


def bundle(desk: Desk, *, now: datetime | None = None) -> dict:
    """Everything the scanner needs to decide at the door with no network."""
    now = now or datetime.now(UTC)
    meeting = db.session.get(Meeting, desk.meeting_id)
    key = personal_codes.signing_key()
    positions = {s.id: s.position for s in meeting.sessions}
    signed = db.session.execute(
        select(SignIn.session_id, SignIn.contact_id, SignIn.signed_at, SignIn.method)
        .where(SignIn.meeting_id == meeting.id, SignIn.revoked_at.is_(None))
    ).all()
    # Which desk made a desk's sign-in: the desk whose scan has its time (the earliest scan).
    by_desk = {(sid, cid): name for sid, cid, name in db.session.execute(
        select(DeskScan.session_id, DeskScan.contact_id, Desk.name).join(Desk, Desk.id == DeskScan.desk_id)
        .join(SignIn, (SignIn.session_id == DeskScan.session_id) & (SignIn.contact_id == DeskScan.contact_id)
              & (SignIn.signed_at == DeskScan.scanned_at) & SignIn.revoked_at.is_(None))
        .where(DeskScan.meeting_id == meeting.id, DeskScan.flag.is_(None)))}
    return {
        "desk": {"id": desk.id, "name": desk.name},
        "meeting": {"id": meeting.id, "code": meeting.code, "title": meeting.title, "venue": meeting.venue or "",
                    "sessions": [_session(s) for s in meeting.sessions]},
        "keys": [{"id": key.key_id, "public_key": key.public_b64}],
        "people": people_at_door(meeting),
        "revoked": sorted([c, g] for c, g in personal_codes.revoked_pairs(meeting.id)),
        "signed": [{"contact_id": cid, "session": positions.get(sid), "at": at.isoformat(),
                    "by": by_desk.get((sid, cid)) or CHANNELS.get(method, method)}
                   for sid, cid, at, method in signed],
        "server_time": now.isoformat(),
    }


def _session(s: MeetingSession) -> dict:
    return {"position": s.position, "title": s.title, "starts_at": s.starts_at.isoformat(),
            "opens_at": s.signin_opens_at.isoformat(), "closes_at": s.signin_closes_at.isoformat(),
            "label": f"{s.title}（{local(s.starts_at).strftime('%m-%d %H:%M')}）"}
