"""preview/apply on LibreOffice-made fixtures against the real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.services.contacts import importer as svc
from app.services.errors import DomainError
from models import Contact, ContactImport, WechatIdentity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"
#: The fixtures name their unit "XX局"; the units here answer to it (a row naming another unit is refused).
XX = ["XX局"]
FULL = (FIXTURES / "directory_full.xlsx").read_bytes()
ACCEPTED_PHONES = {"13800138000", "13900139000", "13700137000", "13600136000", "13500135000", "13300133000",
                   "13200132000"}


def contacts(db, unit):
    return {c.phone: c for c in db.session.scalars(select(Contact).where(Contact.unit_id == unit.id))}


def test_preview_counts_and_writes_no_contact(db, factory):
    unit = factory.unit(aliases=XX)
    record = svc.preview(unit, FULL, "directory_full.xlsx", actor="tester")
    assert record.status == "previewed"
    assert (record.added, record.updated, record.unchanged, record.deactivated, record.rejected) == (7, 0, 0, 0, 5)
    assert len(record.file_sha256) == 64
    assert [(r["row"], r["code"]) for r in record.report["rejected"]] == [
        (10, "name_missing"), (11, "phone_invalid"), (12, "phone_duplicate_in_file"),
        (13, "landline_not_allowed"), (14, "phone_missing")]
    assert record.report["rejected"][2]["message"] == "与第 4 行手机号重复"
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


@pytest.mark.parametrize("name", ["directory_full.xls", "directory_full_gbk.csv", "directory_full_utf8.csv"])
def test_other_formats_preview_the_same(db, factory, name):
    record = svc.preview(factory.unit(aliases=XX), (FIXTURES / name).read_bytes(), name, actor="tester")
    assert (record.added, record.rejected) == (7, 5)


def test_apply_then_second_import_changes_nothing_and_says_so(db, factory):
    unit = factory.unit(aliases=XX)
    first = svc.apply(svc.preview(unit, FULL, "a.xlsx", actor="t").id, actor="t", unit=unit)
    assert first.status == "applied" and first.applied_at is not None
    assert first.added == 7
    rows = contacts(db, unit)
    assert set(rows) == ACCEPTED_PHONES
    assert rows["13700137000"].name == "阿卜杜·热合曼"

    again = svc.preview(unit, FULL, "a.xlsx", actor="t")
    assert (again.added, again.updated, again.deactivated, again.unchanged) == (0, 0, 0, 7)
    assert again.report["message"] == svc.NO_CHANGES_MESSAGE
    applied = svc.apply(again.id, actor="t", unit=unit)
    assert (applied.added, applied.updated, applied.deactivated) == (0, 0, 0)
    assert applied.report["message"] == "与现有通讯录一致，无需更改"
    assert contacts(db, unit).keys() == rows.keys()


def test_updates_say_what_changed_and_missing_people_are_deactivated_not_deleted(db, factory):
    unit = factory.unit(aliases=XX)
    renamed = factory.contact(unit, name="张叁", phone="13800138000", title="科员")
    leaver = factory.contact(unit, name="离职者", phone="13100131000")
    binding = factory.identity(leaver)
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    assert (record.added, record.updated, record.deactivated) == (6, 1, 1)
    change = record.report["updated"][0]
    assert change["phone"] == "13800138000" and change["changes"]["name"] == ["张叁", "张三"]
    assert record.report["deactivated"] == [{"id": leaver.id, "name": "离职者", "phone": "13100131000"}]

    svc.apply(record.id, actor="t", unit=unit)
    rows = contacts(db, unit)
    assert rows["13800138000"].id == renamed.id and rows["13800138000"].name == "张三"
    assert rows["13100131000"].active is False  # kept, not deleted
    assert db.session.get(WechatIdentity, binding.id).contact_id == leaver.id  # still bound

    # The leaver comes back in a later file: the same row is reactivated.
    csv = "姓名,手机号码\n离职者,13100131000\n".encode()
    back = svc.preview(unit, csv, "back.csv", actor="t")
    assert back.report["updated"][0]["changes"]["active"] == [False, True]
    svc.apply(back.id, actor="t", unit=unit)
    assert contacts(db, unit)["13100131000"].active is True


def test_rejected_row_with_a_known_phone_is_not_deactivated(db, factory):
    unit = factory.unit(aliases=XX)
    factory.contact(unit, name="周九", phone="13400134000")
    # Row 10 of the fixture has this phone but no name: reported, and the person stays active.
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    assert record.deactivated == 0
    svc.apply(record.id, actor="t", unit=unit)
    assert contacts(db, unit)["13400134000"].active is True


def test_phone_of_an_active_contact_in_another_unit_is_rejected(db, factory):
    unit, other = factory.unit(aliases=XX), factory.unit(aliases=XX)
    factory.contact(other, name="别人", phone="13900139000")
    factory.contact(other, name="已停用", phone="13600136000", active=False)
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    row5 = [r for r in record.report["rejected"] if r["row"] == 5]
    assert row5 == [{"row": 5, "code": "phone_in_other_unit", "message": "该手机号已属于其他单位的人员"}]
    assert record.added == 6  # the inactive one in the other unit does not block
    svc.apply(record.id, actor="t", unit=unit)
    assert "13900139000" not in contacts(db, unit)


def test_apply_rechecks_the_directory_as_it_is_now(db, factory):
    unit, other = factory.unit(aliases=XX), factory.unit(aliases=XX)
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    assert record.added == 7
    factory.contact(other, name="抢先", phone="13500135000")  # arrives between preview and confirm
    factory.contact(unit, name="张三", phone="13800138000")
    applied = svc.apply(record.id, actor="t", unit=unit)
    assert (applied.added, applied.updated + applied.unchanged) == (5, 1)
    assert any(r["code"] == "phone_in_other_unit" for r in applied.report["rejected"])
    assert "13500135000" not in contacts(db, unit)


def test_unit_cannot_apply_or_see_another_units_import(db, factory):
    unit, other = factory.unit(aliases=XX), factory.unit(aliases=XX)
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    with pytest.raises(DomainError) as exc:
        svc.apply(record.id, actor="t", unit=other)
    assert exc.value.code == "forbidden"
    with pytest.raises(DomainError) as exc:
        svc.get_import(record.id, unit=other)
    assert exc.value.code == "forbidden"
    assert contacts(db, unit) == {} and contacts(db, other) == {}


def test_an_import_is_applied_once(db, factory):
    unit = factory.unit(aliases=XX)
    record = svc.preview(unit, FULL, "a.xlsx", actor="t")
    svc.apply(record.id, actor="t", unit=unit)
    with pytest.raises(DomainError) as exc:
        svc.apply(record.id, actor="t", unit=unit)
    assert exc.value.code == "import_not_pending"


def test_a_file_with_no_valid_row_never_wipes_the_directory(db, factory):
    unit = factory.unit(aliases=XX)
    factory.contact(unit, phone="13100131000")
    record = svc.preview(unit, "姓名,手机号码\n张三,123\n".encode(), "bad.csv", actor="t")
    assert record.rejected == 1
    with pytest.raises(DomainError) as exc:
        svc.apply(record.id, actor="t", unit=unit)
    assert exc.value.code == "nothing_to_import"
    assert contacts(db, unit)["13100131000"].active


def test_history_newest_first(db, factory):
    unit = factory.unit(aliases=XX)
    a = svc.preview(unit, FULL, "a.xlsx", actor="t")
    b = svc.preview(unit, FULL, "b.xlsx", actor="t")
    assert [r.id for r in svc.history(unit)] == [b.id, a.id]
    assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 2


# --- issue 21.13 and issue 16: one directory, every format, the same import ---------------------------

PARITY = ["parity_lo.xlsx", "parity_lo.xls", "parity_lo_utf8.csv", "parity_lo_gbk.csv", "parity_script_int.xlsx",
          "parity_script_float.xlsx", "parity_script_float.csv"]


@pytest.mark.parametrize("name", PARITY)
def test_every_format_previews_the_same_import(db, factory, name):
    unit = factory.unit(name="区财政局")
    record = svc.preview(unit, (FIXTURES / name).read_bytes(), name, actor="tester", mode="upsert")
    report = record.report
    assert [r[0] for r in report["accepted"]] == [3, 4, 5, 6, 12]
    assert [(r["row"], r["code"]) for r in report["rejected"]] == [
        (7, "phone_damaged"), (8, "phone_damaged"), (9, "phone_invalid"), (10, "phone_duplicate_in_file"),
        (11, "unit_mismatch")]
    assert report["rejected"][-1]["message"] == ("该行的单位是“区教育局”，不是本单位（区财政局），未导入；"
                                                 "请删除该行，由该单位自行上传")
    assert [s["row"] for s in report["skipped"]] == [2]
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_upsert_never_deactivates_and_replace_needs_the_confirmation(db, factory):
    unit = factory.unit(name="区财政局")
    for i in range(3):
        factory.contact(unit, phone=f"1390000{i:04d}")
    data = (FIXTURES / "parity_lo.xlsx").read_bytes()
    upsert = svc.preview(unit, data, "a.xlsx", actor="t", mode="upsert")
    assert upsert.deactivated == 0
    replace = svc.preview(unit, data, "a.xlsx", actor="t", mode="replace")
    assert replace.deactivated == 3
    with pytest.raises(svc.ContactImportError) as refused:
        svc.apply(replace.id, actor="t", unit=unit, confirm_deactivate=False)
    assert refused.value.code == "confirm_deactivate" and "3 人" in refused.value.message
    svc.apply(upsert.id, actor="t", unit=unit, confirm_deactivate=False)  # nothing to confirm
    active = db.session.scalar(select(func.count()).select_from(Contact).where(Contact.active.is_(True)))
    assert active == 3 + 5
    with pytest.raises(svc.ContactImportError):
        svc.preview(unit, data, "a.xlsx", actor="t", mode="everything")
