"""ID numbers (checked, encrypted, masked, never logged) and hostile input to every field and upload."""

from __future__ import annotations

import io
import json
import logging

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.services import storage
from app.services.registration import decide, forms, idnumbers, query
from app.services.registration.errors import RegistrationError
from app.services.registration.submit import Caller, submit
from app.services.registration.uploads import Upload
from models import AuditLog
from models.registrations import Registration
from tests.registration.conftest import id_number, person


def _png(size=(40, 50)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 40), (10, 100, 30)).save(out, "JPEG")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_gb11643_checksum():
    good = id_number("19800229", "123")
    assert idnumbers.is_valid(good)
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert not idnumbers.is_valid(bad_check)
    assert not idnumbers.is_valid(id_number("19810229", "123"))  # no 29 Feb in 1981
    assert not idnumbers.is_valid("11010519900101123")  # 17 chars
    assert idnumbers.normalize(" 1101０５19900101123x ") == "11010519900101123X"
    assert idnumbers.is_valid("11010519491231002X")  # a published example


def test_id_stored_encrypted_masked_digested(db, app, reg_meeting, code_form):
    meeting, unit = reg_meeting
    number = id_number("19850615", "321")
    out = submit(meeting, code_form, [person(id_number=number)], caller=Caller("h5:id"), invite_code="HY2026AB",
                 unit_code=unit.code)
    reg = out.registrations[0]
    assert reg.id_masked == f"{number[:6]}********{number[-4:]}"
    assert number not in (reg.id_cipher or "") and reg.id_cipher.startswith("v1:")
    assert idnumbers.decrypt(reg.id_cipher, app.config["SECRET_KEY"]) == number
    assert reg.id_digest == idnumbers.digest(number, app.config["SECRET_KEY"])
    assert idnumbers.digest(number, "another key") != reg.id_digest
    # the same person again (another phone): found by the digest, refused, nothing written
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [person(id_number=number.lower())], caller=Caller("h5:id"),
               invite_code="HY2026AB", unit_code=unit.code)
    assert exc.value.errors[0]["code"] == "id_registered"
    assert number not in json.dumps(exc.value.errors, ensure_ascii=False) and number not in str(exc.value)


def test_reveal_only_to_the_owner(db, factory, reg_meeting, code_form):
    meeting, unit = reg_meeting
    number = id_number()
    out = submit(meeting, code_form, [person(id_number=number)], caller=Caller("h5:rv"), invite_code="HY2026AB",
                 unit_code=unit.code)
    reg = out.registrations[0]
    with pytest.raises(RegistrationError) as exc:
        query.reveal_id(reg, None)
    assert exc.value.code == "id_not_yours"
    decide.approve(meeting, [reg.id], actor="t")
    with pytest.raises(RegistrationError):
        query.reveal_id(reg, factory.contact(unit))
    owner = reg.contact_id
    from models import Contact
    assert query.reveal_id(reg, db.session.get(Contact, owner)) == number


def test_id_number_never_logged_nor_audited_nor_exported(db, app, reg_meeting, code_form, caplog):
    meeting, unit = reg_meeting
    number = id_number("19770707", "777")
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # every statement and its parameters
    db.session.connection()._echo = True  # the test's connection was opened before: echo it from now
    out = submit(meeting, code_form, [person(id_number=number, name="身份证测试")], caller=Caller("h5:log"),
                 invite_code="HY2026AB", unit_code=unit.code)
    with pytest.raises(RegistrationError) as exc:  # refused twice: the message never quotes it
        submit(meeting, code_form, [person(id_number=number)], caller=Caller("h5:log"), invite_code="HY2026AB",
               unit_code=unit.code)
    decide.approve(meeting, [out.registrations[0].id], actor="t")
    headers, rows = query.export_rows(meeting, query.Filters())
    data, _name, _n = query.export_file(meeting, query.Filters(), actor="t")
    db.session.flush()
    assert any("INSERT INTO registrations" in r.getMessage() for r in caplog.records)  # we did capture SQL
    for record in caplog.records:
        assert number not in record.getMessage()
    assert number not in str(exc.value) and number not in repr(exc.value.errors)
    audit = " ".join(json.dumps(d, ensure_ascii=False) for d in db.session.scalars(select(AuditLog.data)))
    assert number not in audit
    assert number not in json.dumps(rows, ensure_ascii=False, default=str)
    assert f"{number[:6]}********{number[-4:]}" in json.dumps(rows, ensure_ascii=False, default=str)
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert all(number.encode() not in z.read(n) for n in z.namelist())


# -- hostile input ------------------------------------------------------------------------------

HOSTILE = [
    ("name", "x" * 33, "text_too_long"),
    ("name", "张\x00三", "text_control_chars"),
    ("name", "张\u202e三", "text_control_chars"),
    ("name", "<script>alert(1)</script>", "text_markup"),
    ("title", "y" * 65, "text_too_long"),
    ("title", "<img src=x onerror=1>", "text_markup"),
    ("phone", "1380013800", "phone_invalid"),
    ("phone", "010-12345678", "phone_invalid"),
    ("phone", "<script>", "text_markup"),
    ("gender", "其他", "choice_invalid"),
    ("ethnicity", "火星族", "choice_invalid"),
    ("id_number", "110105199001011235", "id_invalid"),
    ("id_number", "abc", "id_invalid"),
    ("arrival", "2026-02-30", "date_invalid"),
    ("arrival", "明天", "date_invalid"),
    ("arrival", "1999-01-01", "date_out_of_range"),
    ("departure", "2026/12/03", "date_invalid"),
    ("diet", ["清真", "生肉"], "choice_invalid"),
    ("needs_room", "maybe", "bool_invalid"),
    ("accessible", "2", "bool_invalid"),
    ("plate", "ABC", "plate_invalid"),
    ("plate", "京A<123>", "text_markup"),
    ("group", "\x1b[31m红", "text_control_chars"),
    ("c1", "z" * 201, "text_too_long"),
    ("c2", "丙", "choice_invalid"),
    ("c3", "2026-1-32", "date_invalid"),
    ("nonsense", "value", "unknown_field"),
]


@pytest.fixture
def full_form(reg_meeting):
    meeting, _unit = reg_meeting
    from tests.registration.conftest import ALL_STANDARD
    custom = [{"key": "c1", "label": "备注", "kind": "text"},
              {"key": "c2", "label": "是否发言", "kind": "choice", "options": ["甲", "乙"]},
              {"key": "c3", "label": "出生日期", "kind": "date"},
              {"key": "c4", "label": "推荐信", "kind": "file"}]
    return forms.create_form(meeting, actor="test", title="全字段", invite_code="FULL2345", fields=ALL_STANDARD + custom,
                             published=True)


@pytest.mark.parametrize("key,value,code", HOSTILE, ids=[f"{k}-{c}-{i}" for i, (k, _v, c) in enumerate(HOSTILE)])
def test_hostile_field_refused_nothing_written(db, reg_meeting, full_form, key, value, code):
    meeting, unit = reg_meeting
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, full_form, [person(), person(**{key: value})], caller=Caller(f"h5:{key}{code}"),
               invite_code="FULL2345", unit_code=unit.code)
    assert exc.value.code == "batch_invalid"
    assert [(e["index"], e["code"]) for e in exc.value.errors] == [(1, code)]
    assert all("\u4e00" <= ch <= "\u9fff" for ch in exc.value.errors[0]["message"][:1]) or exc.value.errors[0]["message"]
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_dates_reversed(db, reg_meeting, full_form):
    meeting, unit = reg_meeting
    from app.services.timeutil import local
    day = local(meeting.starts_at).date()
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, full_form, [person(arrival=day.isoformat(), departure=(day.replace(day=1)).isoformat()
                                           if day.day > 1 else "2000-01-01")],
               caller=Caller("h5:dates"), invite_code="FULL2345", unit_code=unit.code)
    assert {e["code"] for e in exc.value.errors} & {"dates_reversed", "date_out_of_range"}


UPLOADS = [
    ("photo", Upload("me.jpg", b""), "file_empty"),
    ("photo", Upload("me.jpg", PDF), "file_type_invalid"),
    ("photo", Upload("me.png", b"MZ\x90\x00" + b"\x00" * 100), "file_type_invalid"),
    ("photo", Upload("me.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 50), "file_corrupt"),
    ("photo", Upload("me.jpg", _png()), "file_extension_mismatch"),
    ("photo", Upload("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024)), "file_too_large"),
    ("c4", Upload("letter.pdf", b"#!/bin/sh\nrm -rf /\n"), "file_type_invalid"),
    ("c4", Upload("letter.docx", PDF), "file_extension_mismatch"),
    ("c4", Upload("letter.html", b"<html><script>alert(1)</script></html>"), "file_type_invalid"),
    ("c4", "not-a-key/../../etc/passwd", "file_missing"),
    ("c4", "0" * 64, "file_missing"),
    ("name", Upload("x.png", _png()), "file_not_expected"),
]


@pytest.mark.parametrize("key,value,code", UPLOADS, ids=[f"{k}-{c}-{i}" for i, (k, _v, c) in enumerate(UPLOADS)])
def test_hostile_upload_refused_nothing_written(db, reg_meeting, full_form, key, value, code, tmp_path):
    meeting, unit = reg_meeting
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, full_form, [person(**{key: value})], caller=Caller(f"h5:up{code}"), invite_code="FULL2345",
               unit_code=unit.code)
    assert [(e["index"], e["field"], e["code"]) for e in exc.value.errors] == [(0, key, code)]
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    if isinstance(value, Upload) and value.data:
        assert not storage.get_storage().exists(storage.sha256_hex(value.data))


def test_good_uploads_are_stored(db, reg_meeting, full_form):
    meeting, unit = reg_meeting
    photo, letter = _jpeg(), PDF
    out = submit(meeting, full_form, [person(photo=Upload("证件照.JPG", photo), c4=Upload("推荐信.pdf", letter),
                                             c2="甲", c3="1990-05-06", c1="无")],
                 caller=Caller("h5:good"), invite_code="FULL2345", unit_code=unit.code)
    reg = out.registrations[0]
    assert reg.photo == storage.sha256_hex(photo) and storage.get_storage().exists(reg.photo)
    assert reg.answers == {"c1": "无", "c2": "甲", "c3": "1990-05-06", "c4": storage.sha256_hex(letter)}


def test_batch_shapes_refused(db, reg_meeting, full_form):
    meeting, unit = reg_meeting
    for people, code in (([], "batch_empty"), ("x", "batch_empty"), ([person() for _ in range(51)], "batch_too_large")):
        with pytest.raises(RegistrationError) as exc:
            submit(meeting, full_form, people, caller=Caller(f"h5:shape{code}"), invite_code="FULL2345",
                   unit_code=unit.code)
        assert exc.value.code == code
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, full_form, ["not a dict"], caller=Caller("h5:shape2"), invite_code="FULL2345",
               unit_code=unit.code)
    assert {e["field"] for e in exc.value.errors} == {"name", "phone"}
