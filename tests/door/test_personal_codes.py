"""Personal codes: made here, verified with the public key only; forged, expired, revoked and
other-meeting codes are each told apart."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest

from app.services.signin import personal_codes as pc
from app.services.signin.personal_codes import CodeError


def _check(door, code, at=None):
    return pc.check_code(code, door.meeting, at=at or door.meeting.starts_at,
                         revoked=pc.revoked_pairs(door.meeting.id))


def test_a_code_names_its_meeting_and_person_and_fits_an_alphanumeric_qr(door):
    person = door.people[0]
    code = door.codes[person.id]
    assert len(code) == pc.CODE_LEN == 130
    assert set(code) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")  # QR alphanumeric mode
    data = _check(door, code)
    assert (data.meeting_id, data.contact_id, data.generation) == (door.meeting.id, person.id, 0)
    assert data.expires_at == pc.expiry_of(door.meeting).replace(microsecond=0)
    # Stable until revoked: the badge and the phone show the same code.
    assert pc.personal_code(door.meeting, person) == code
    # A wedge scanner may type it in lower case or with a trailing newline.
    assert _check(door, " " + code.lower() + "\n").contact_id == person.id


def test_forged_codes_are_refused(door):
    code = door.codes[door.people[0].id]
    raw = bytearray(base64.b32decode(code[2:]))
    raw[5] ^= 1  # another contact id, the signature unchanged
    tampered = "HY" + base64.b32encode(bytes(raw)).decode()
    # Signed with a key that is not ours (a stolen scanner holds only the public key).
    other_key = pc._key_from_seed(bytes(range(32)))
    data = pc.decode(code, pc.signing_key())
    foreign = pc.encode(pc.CodeData(data.meeting_id, data.contact_id, data.expires_at, pc.signing_key().key_id,
                                    0), other_key)
    for bad in (tampered, foreign, code[:-1], code + "A", "HY" + "1" * 128, "", "https://example.com/x",
                code[:-4] + "AAAA"):
        with pytest.raises(CodeError) as err:
            _check(door, bad)
        assert err.value.code == "forged", bad


def test_other_meeting_expired_and_revoked(door, db):
    person = door.people[0]
    other_code = pc.personal_code(door.other, person)
    with pytest.raises(CodeError) as err:
        _check(door, other_code)
    assert err.value.code == "other_meeting"

    code = door.codes[person.id]
    with pytest.raises(CodeError) as err:
        _check(door, code, at=pc.expiry_of(door.meeting) + timedelta(seconds=1))
    assert err.value.code == "expired"

    pc.revoke(door.meeting, person, reason="胸卡遗失", actor=door.owner)
    with pytest.raises(CodeError) as err:
        _check(door, code)
    assert err.value.code == "revoked"
    # The next code is a new generation, and valid.
    fresh = pc.personal_code(door.meeting, person)
    assert fresh != code and _check(door, fresh).generation == 1
    # Revoking needs a reason.
    with pytest.raises(CodeError) as err:
        pc.revoke(door.meeting, person, reason=" ", actor=door.owner)
    assert err.value.code == "reason_missing"


def test_the_badge_png_holds_the_code(door):
    import io

    import zxingcpp
    from PIL import Image

    person = door.people[1]
    png = pc.personal_code_png(door.meeting, person)
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [r.text for r in found] == [door.codes[person.id]]


def test_a_whole_meetings_codes_at_once_are_each_persons_code(door):
    pc.revoke(door.meeting, door.people[0], reason="重印胸卡", actor=door.owner)
    ids = [p.id for p in door.people]
    assert pc.personal_codes_of(door.meeting, ids) == {p.id: pc.personal_code(door.meeting, p) for p in door.people}
