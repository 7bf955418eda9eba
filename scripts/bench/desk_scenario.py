"""A door's day offline, for the property test (tests/door/test_sync_property.py) and the benchmark
(scripts/bench/bench_desk_sync.py): many people, desks scanning them in any order, a few bad codes.

:func:`seed` puts people on a meeting in bulk; :func:`make_scans` makes each desk's queue (device
times in the past, some people at several desks, some several times at one desk, revoked, forged and
other-meeting codes); :func:`expected` is the merge's answer computed here without the database
(one sign-in per person at their earliest valid scan); :func:`outcome` reads what the database says.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.services.signin import desks as desk_service
from app.services.signin import personal_codes
from app.services.signin.desk_sync import ScanIn
from models import Contact, DeskScan, Invitee, Meeting, SignIn, Unit


@dataclass
class World:
    meeting: Meeting
    people: list[int]
    desks: list  # models.Desk
    codes: dict[int, str]
    revoked_codes: dict[int, str]
    other_codes: dict[int, str]


def seed(meeting: Meeting, other: Meeting, *, people: int, desks: int, actor: Contact, revoked: int = 10,
         tag: str = "") -> World:
    """``people`` invitees of ``meeting`` in one unit (bulk SQL), ``desks`` desks, everyone's code,
    ``revoked`` of them revoked (their old code kept to scan), and codes of ``other``."""
    unit = db.session.execute(sa.insert(Unit).returning(Unit.id), [
        {"code": f"DS{tag}{meeting.id}", "name": f"离线压测单位{tag}{meeting.id}", "aliases": []}]).scalar_one()
    ids = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
        {"unit_id": unit, "name": f"离线{i:05d}", "phone": f"136{meeting.id % 1000:03d}{i:05d}", "tags": []}
        for i in range(people)]).scalars().all()
    db.session.execute(sa.insert(Invitee), [{"meeting_id": meeting.id, "contact_id": c, "status": "approved"}
                                            for c in ids])
    db.session.execute(sa.insert(Invitee), [{"meeting_id": other.id, "contact_id": c, "status": "approved"}
                                            for c in ids[:20]])
    key = personal_codes.signing_key()
    expires = personal_codes.expiry_of(meeting)

    def code(m: Meeting, cid: int, gen: int = 0) -> str:
        return personal_codes.encode(personal_codes.CodeData(m.id, cid, expires, key.key_id, gen), key)

    codes = {c: code(meeting, c) for c in ids}
    revoked_codes = {}
    for c in ids[:revoked]:
        revoked_codes[c] = codes[c]
        contact = db.session.get(Contact, c)
        personal_codes.revoke(meeting, contact, reason="压测撤销", actor=actor)
        codes[c] = code(meeting, c, 1)
    other_codes = {c: code(other, c) for c in ids[:20]}
    made = [desk_service.issue_desk(meeting, name=f"{i + 1}号台", actor=actor).desk for i in range(desks)]
    db.session.flush()
    return World(meeting, list(ids), made, codes, revoked_codes, other_codes)


def make_scans(world: World, *, n: int, seed: int = 19, now: datetime | None = None) -> dict[int, list[ScanIn]]:
    """``n`` scans spread over the desks: each desk's queue in its own time order, as a device has
    it. Times are whole milliseconds (a browser's clock), all in the past hour."""
    rnd = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    start = now - timedelta(hours=1)
    queues: dict[int, list[ScanIn]] = {d.id: [] for d in world.desks}
    valid = world.people[len(world.revoked_codes):]
    for i in range(n):
        desk = world.desks[i % len(world.desks)]
        roll = rnd.random()
        if roll < 0.004:
            text = rnd.choice(list(world.revoked_codes.values()))
        elif roll < 0.008:
            text = rnd.choice(list(world.other_codes.values()))
        elif roll < 0.010:
            text = "HY" + "".join(rnd.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(128))
        else:
            text = world.codes[rnd.choice(valid)]
        at = start + timedelta(milliseconds=rnd.randrange(0, 3_500_000))
        queues[desk.id].append(ScanIn(f"d{desk.id}-{i:05d}", text, at, 1, "签到成功"))
    for q in queues.values():
        q.sort(key=lambda s: s.at)
    return queues


def expected(world: World, queues: dict[int, list[ScanIn]]) -> dict[int, datetime]:
    """contact id -> the time of their one sign-in: their earliest scan of a valid code."""
    valid = {code: cid for cid, code in world.codes.items()}
    out: dict[int, datetime] = {}
    for q in queues.values():
        for s in q:
            cid = valid.get(s.code)
            if cid is not None and (cid not in out or s.at < out[cid]):
                out[cid] = s.at
    return out


def outcome(meeting_id: int) -> tuple[dict[int, datetime], dict[tuple[int, str], str | None], int]:
    """What the database holds: (contact id -> live sign-in time, (desk, scan id) -> flag, how many
    live sign-ins in all, duplicates included if any)."""
    live = db.session.execute(sa.select(SignIn.contact_id, SignIn.signed_at).where(
        SignIn.meeting_id == meeting_id, SignIn.revoked_at.is_(None))).all()
    scans = db.session.execute(sa.select(DeskScan.desk_id, DeskScan.scan_id, DeskScan.flag).where(
        DeskScan.meeting_id == meeting_id)).all()
    return dict(live), {(d, s): f for d, s, f in scans}, len(live)
