"""Personal codes: a QR per invitee that a staff scanner verifies with no network.

A code is a signed token, short enough for a robust QR in alphanumeric mode::

    "HY" + base32(payload ‖ Ed25519 signature)      (130 characters, no padding)
    payload = version:u8 meeting_id:u32 contact_id:u32 expires:u32 (unix s) key_id:u8 generation:u16

The signature is Ed25519 (asymmetric): the scanner holds only the public key, so a stolen scanner
cannot make codes. The private key is ``DOOR_SIGNING_KEY`` (production refuses to start without
it, app/config.py); development and the demo make one once under instance/.

A code is withdrawn by revoking its generation (:func:`revoke`): the revocation list, which the
scanner syncs, names (person, generation); the person's next code is of the next generation.

:func:`check_code` is the one reading of a code; the scanner's script (static/desk/scanner.js)
reads it the same way, in the same order, and the server decides again at sync.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.config import INSTANCE_DIR, door_key_seed
from app.extensions import db
from app.services import audit
from app.services.codes.qr_images import qr_png
from app.services.errors import DomainError
from models import Admission, CodeRevocation, Contact, Invitee, Meeting, MeetingUnit

PREFIX = "HY"
VERSION = 1
_PAYLOAD = struct.Struct(">BIIIBH")
SIGNATURE_LEN = 64
CODE_LEN = len(PREFIX) + (_PAYLOAD.size + SIGNATURE_LEN) * 8 // 5
#: A code stays valid this long after its meeting ends (a late sync, a meeting that runs over).
VALID_AFTER_END = timedelta(days=1)
DEV_KEY_FILE = "door_signing_key"
REASON_MAX = 200
#: Verified codes a process remembers (a large meeting's people, a few times over).
VERIFIED_KEPT = 50_000


class CodeError(DomainError):
    messages = {
        "forged": "无效的签到码",
        "other_meeting": "非本会议的签到码",
        "revoked": "签到码已撤销",
        "expired": "签到码已过期",
        "reason_missing": "请填写撤销原因",
        "too_long": "撤销原因过长，请控制在 200 字以内",
        "not_listed": "该人员不在本次会议的参会名单中",
        "already_revoked": "该签到码刚刚已被撤销，请刷新页面",
    }
    statuses = {"not_listed": 404, "already_revoked": 409}


# -- the key ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    public_raw: bytes

    @property
    def key_id(self) -> int:
        """One byte naming the key in each code (a scanner that holds several picks the right one)."""
        return hashlib.sha256(self.public_raw).digest()[0]

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()


@cache
def _key_from_seed(seed: bytes) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    return SigningKey(private, private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))


def signing_key() -> SigningKey:
    """The configured key, else the development key under instance/ (made on first use)."""
    configured = current_app.config.get("DOOR_SIGNING_KEY") or ""
    if configured:
        seed = door_key_seed(configured)
        if seed is None:
            raise RuntimeError("DOOR_SIGNING_KEY is not the base64 of 32 bytes")
        return _key_from_seed(seed)
    return _key_from_seed(_dev_seed(Path(current_app.config.get("INSTANCE_DIR") or INSTANCE_DIR)))


def _dev_seed(folder: Path) -> bytes:
    path = folder / DEV_KEY_FILE
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{DEV_KEY_FILE}.{os.getpid()}"
        tmp.write_text(base64.b64encode(os.urandom(32)).decode())
        try:  # two processes making it at once: the first link wins, both read the winner
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    seed = door_key_seed(path.read_text())
    if seed is None:
        raise RuntimeError(f"{path} does not hold the base64 of 32 bytes")
    return seed


# -- making and reading codes -------------------------------------------------------------------------
@dataclass(frozen=True)
class CodeData:
    meeting_id: int
    contact_id: int
    expires_at: datetime
    key_id: int
    generation: int


def expiry_of(meeting: Meeting) -> datetime:
    return meeting.ends_at + VALID_AFTER_END


def encode(data: CodeData, key: SigningKey) -> str:
    payload = _PAYLOAD.pack(VERSION, data.meeting_id, data.contact_id, int(data.expires_at.timestamp()),
                            data.key_id, data.generation)
    return PREFIX + base64.b32encode(payload + key.private.sign(payload)).decode()


def decode(code: str, key: SigningKey) -> CodeData:
    """The code's data if ``key`` signed it. :raise CodeError: ``forged`` (unreadable, or not ours)."""
    text = (code or "").strip().upper()
    if len(text) != CODE_LEN or not text.startswith(PREFIX):
        raise CodeError("forged")
    data = _verified(text, key.public_raw)
    if data is None:
        raise CodeError("forged")
    return data


@lru_cache(maxsize=VERIFIED_KEPT)
def _verified(text: str, public_raw: bytes) -> CodeData | None:
    """The data of a code ``public_raw``'s key signed, else None. Kept per text: a signature that
    verified once always will, and a desk's queue names the same people many times (a resend, the
    same person at several desks), where each verification costs more than the rest of the scan."""
    try:
        raw = base64.b32decode(text[len(PREFIX):])
    except (binascii.Error, ValueError):
        return None
    payload, signature = raw[:_PAYLOAD.size], raw[_PAYLOAD.size:]
    version, meeting_id, contact_id, expires, key_id, generation = _PAYLOAD.unpack(payload)
    if version != VERSION or key_id != hashlib.sha256(public_raw).digest()[0]:
        return None
    try:
        _public_key(public_raw).verify(signature, payload)
    except InvalidSignature:
        return None
    return CodeData(meeting_id, contact_id, datetime.fromtimestamp(expires, UTC), key_id, generation)


@cache
def _public_key(public_raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_raw)


def check_code(code: str, meeting: Meeting, *, at: datetime, revoked: set[tuple[int, int]],
               key: SigningKey | None = None) -> CodeData:
    """Whether ``code`` lets its person in to ``meeting`` at ``at``, by the code alone (who may sign
    in is the sign-in rules' question). ``revoked``: the meeting's (contact id, generation) pairs.

    :raise CodeError: ``forged``, ``other_meeting``, ``revoked``, ``expired``, in that order.
    """
    data = decode(code, key or signing_key())
    if data.meeting_id != meeting.id:
        raise CodeError("other_meeting")
    if (data.contact_id, data.generation) in revoked:
        raise CodeError("revoked")
    if at > data.expires_at:
        raise CodeError("expired")
    return data


# -- the codes of people --------------------------------------------------------------------------------
def generation_of(meeting: Meeting, contact_id: int) -> int:
    """The generation of the person's current code: one past their last revoked one."""
    last = db.session.scalar(select(func.max(CodeRevocation.generation)).where(
        CodeRevocation.meeting_id == meeting.id, CodeRevocation.contact_id == contact_id))
    return 0 if last is None else last + 1


def personal_code(meeting: Meeting, contact: Contact) -> str:
    """The person's current code for ``meeting`` (the same text every time until it is revoked)."""
    key = signing_key()
    return encode(CodeData(meeting.id, contact.id, expiry_of(meeting), key.key_id,
                           generation_of(meeting, contact.id)), key)


def personal_codes_of(meeting: Meeting, contact_ids: list[int]) -> dict[int, str]:
    """Many people's current codes in one read (badge printing: a whole meeting's at once)."""
    last = dict(db.session.execute(
        select(CodeRevocation.contact_id, func.max(CodeRevocation.generation))
        .where(CodeRevocation.meeting_id == meeting.id).group_by(CodeRevocation.contact_id)).all())
    key, expires = signing_key(), expiry_of(meeting)
    return {cid: encode(CodeData(meeting.id, cid, expires, key.key_id, last[cid] + 1 if cid in last else 0), key)
            for cid in contact_ids}


def listed(meeting: Meeting, contact: Contact) -> bool:
    """Whether ``contact`` is on the meeting's list (approved, or of a listed unit): who has a code."""
    status = db.session.scalar(select(Invitee.status).where(Invitee.meeting_id == meeting.id,
                                                            Invitee.contact_id == contact.id))
    if status is not None:
        return status == "approved"
    return meeting.admission == Admission.UNITS and db.session.scalar(
        select(MeetingUnit.unit_id).where(MeetingUnit.meeting_id == meeting.id,
                                          MeetingUnit.unit_id == contact.unit_id)) is not None


def code_for(meeting: Meeting, contact: Contact) -> str:
    """The person's code, if they are on the list. :raise CodeError: ``not_listed``."""
    if not contact.active or not listed(meeting, contact):
        raise CodeError("not_listed")
    return personal_code(meeting, contact)


def personal_code_png(meeting: Meeting, contact: Contact, *, box_px: int = 6, border: int = 4) -> bytes:
    """The code as a PNG, for the badge (issue 18's printing), the meeting page and the mini program."""
    return qr_png(personal_code(meeting, contact), box_px=box_px, border=border)


def revoked_pairs(meeting_id: int) -> set[tuple[int, int]]:
    return {(c, g) for c, g in db.session.execute(select(CodeRevocation.contact_id, CodeRevocation.generation)
                                                  .where(CodeRevocation.meeting_id == meeting_id))}


def revoke(meeting: Meeting, contact: Contact, *, reason: str, actor: Contact) -> CodeRevocation:
    """Withdraw the person's current code (a lost badge, a phone in the wrong hands); their next
    code is a new one. Scanners learn of it at their next sync of the meeting's data.
    :raise CodeError: ``reason_missing``, ``too_long``."""
    reason = (reason or "").strip()
    if not reason:
        raise CodeError("reason_missing")
    if len(reason) > REASON_MAX:
        raise CodeError("too_long")
    row = CodeRevocation(meeting_id=meeting.id, contact_id=contact.id, generation=generation_of(meeting, contact.id),
                         reason=reason, revoked_by_contact_id=actor.id)
    try:
        with db.session.begin_nested():  # two staff revoking the same code at once: it is revoked once
            db.session.add(row)
    except IntegrityError:
        raise CodeError("already_revoked") from None
    audit.record(f"contact:{actor.id}", "door.code_revoke", meeting_id=meeting.id, target=f"contact:{contact.id}",
                 generation=row.generation, reason=reason)
    return row
