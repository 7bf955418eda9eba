"""The unit office's upload runs in a job (issue 21.10) and the fixes of issue 16: add-or-update by
default, a confirmed replacement, another unit's rows refused, the template's example row skipped."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from app import jobs
from app.services.contacts import importer
from app.services.contacts.units import add_unit_account
from models import Contact, ContactImport, Job
from tests.contacts_import.test_web import PASSWORD, checked, log_in


@pytest.fixture
def office(db, factory):
    unit = factory.unit("CZJ", "区财政局", aliases=["财政局"])
    for i in range(9):
        factory.contact(unit, name=f"老员工{i}", phone=f"1390000{i:04d}")
    account = add_unit_account(unit, "czj_office", PASSWORD, actor="test")
    db.session.commit()
    return unit, account


def csv_file(*rows: str, name: str = "名单.csv") -> dict:
    text = "姓名,手机号码,单位,职务\n" + "".join(f"{r}\n" for r in rows)
    return {"file": (io.BytesIO(text.encode("utf-8")), name)}


def post(client, data: dict, **form):
    return client.post("/units/upload", data={**data, **form}, content_type="multipart/form-data")


def active(db, unit) -> int:
    return db.session.scalar(select(func.count()).select_from(Contact)
                             .where(Contact.unit_id == unit.id, Contact.active.is_(True)))


def test_the_request_stores_the_file_and_a_job_reads_it(app, client, db, office, monkeypatch):
    unit, account = office
    calls = []
    real = importer.read_directory
    monkeypatch.setattr(importer, "read_directory", lambda *a, **k: calls.append(1) or real(*a, **k))
    log_in(client, username="czj_office")
    response = post(client, csv_file("新人甲,13700000001,区财政局,科员"))
    assert response.status_code == 302 and calls == []  # answered before anything was parsed
    record = db.session.scalar(select(ContactImport))
    assert record.status == "checking"
    job = db.session.get(Job, record.report["job_id"])
    assert (job.kind, job.state, job.actor, job.unit_id) == ("contacts_import", "queued",
                                                             f"unit_account:{account.id}", unit.id)
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "queued"

    checked(app, response)
    assert calls == [1]
    db.session.expire_all()
    assert db.session.get(ContactImport, record.id).status == "previewed"
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done" and status["done"] == status["total"] == 1
    page = client.get(response.location).text
    assert "检查结果（尚未导入）" in page and 'http-equiv="refresh"' not in page


def test_add_or_update_is_the_default_and_deactivates_no_one(app, client, db, office):
    unit, _ = office
    log_in(client, username="czj_office")
    page = client.get("/units/").text
    assert 'value="upsert" checked' in page and "全量替换" in page
    response = checked(app, post(client, csv_file("新人甲,13700000001,区财政局,科员", "新人乙,13700000002,,科员")))
    report = client.get(response.location).text
    assert "新增和更新" in report and 'id="deactivated-count"' not in report and "确认停用" not in report
    import_id = int(response.location.rsplit("/", 1)[1])
    assert client.post(f"/units/imports/{import_id}/apply").status_code == 302
    assert active(db, unit) == 11  # nine kept, two added


def test_replacing_the_roster_highlights_the_number_and_asks_to_confirm(app, client, db, office):
    unit, _ = office
    log_in(client, username="czj_office")
    response = checked(app, post(client, csv_file("新人甲,13700000001,区财政局,科员", "新人乙,13700000002,,科员"),
                                 mode="replace"))
    report = client.get(response.location).text
    assert "全量替换" in report
    assert '<li class="danger" id="deactivated-count">停用<b>9</b></li>' in report
    assert '<b class="big">9</b>' in report and 'name="confirm_deactivate"' in report
    import_id = int(response.location.rsplit("/", 1)[1])

    refused = client.post(f"/units/imports/{import_id}/apply")
    assert refused.status_code == 422 and "全量替换将停用 9 人，请勾选确认后再导入" in refused.text
    assert active(db, unit) == 9 and db.session.get(ContactImport, import_id).status == "previewed"

    done = client.post(f"/units/imports/{import_id}/apply", data={"confirm_deactivate": "1"})
    assert done.status_code == 302
    assert active(db, unit) == 2


def test_a_row_naming_another_unit_is_refused_in_chinese(app, client, db, office):
    unit, _ = office
    log_in(client, username="czj_office")
    response = checked(app, post(client, csv_file("本单位,13700000001,财政局预算科,科员",
                                                  "外单位,13700000002,区教育局,科员")))
    report = client.get(response.location).text
    assert "第 3 行" in report and "该行的单位是“区教育局”，不是本单位（区财政局）" in report
    assert "unit_mismatch" not in report
    import_id = int(response.location.rsplit("/", 1)[1])
    client.post(f"/units/imports/{import_id}/apply")
    phones = set(db.session.scalars(select(Contact.phone).where(Contact.unit_id == unit.id)))
    assert "13700000001" in phones and "13700000002" not in phones


def test_the_templates_example_row_is_skipped_and_said_so(app, client, db, office):
    unit, _ = office
    log_in(client, username="czj_office")
    ws_bytes = client.get("/units/template.xlsx").data
    wb = openpyxl.load_workbook(io.BytesIO(ws_bytes))
    wb.active.append([2, "真人", "13700000009", "区财政局", "科员", "办公室", None])
    out = io.BytesIO()
    wb.save(out)
    response = checked(app, post(client, {"file": (io.BytesIO(out.getvalue()), "通讯录模板.xlsx")}))
    report = client.get(response.location).text
    assert "第 2 行：模板中的示例行（张三 / 13800138000），已跳过" in report
    import_id = int(response.location.rsplit("/", 1)[1])
    client.post(f"/units/imports/{import_id}/apply")
    phones = set(db.session.scalars(select(Contact.phone).where(Contact.unit_id == unit.id)))
    assert "13700000009" in phones and "13800138000" not in phones


def test_a_large_confirmation_is_applied_by_a_job(app, client, db, office, monkeypatch):
    unit, _ = office
    monkeypatch.setattr(importer, "INLINE_APPLY_ROWS", 5)  # this unit's nine people are "large"
    log_in(client, username="czj_office")
    response = checked(app, post(client, csv_file("新人甲,13700000001,区财政局,科员")))
    import_id = int(response.location.rsplit("/", 1)[1])
    applying = client.post(f"/units/imports/{import_id}/apply")
    assert applying.status_code == 302 and applying.location.endswith(f"/units/imports/{import_id}")
    assert active(db, unit) == 9  # nothing written in the request
    page = client.get(applying.location).text
    assert "正在写入通讯录" in page and 'http-equiv="refresh"' in page and "确认导入" not in page
    assert jobs.run_pending(app) is True
    db.session.expire_all()
    assert db.session.get(ContactImport, import_id).status == "applied" and active(db, unit) == 10
    assert "导入结果" in client.get(applying.location).text


def test_a_failed_apply_job_is_said_on_the_report(app, client, db, office, monkeypatch):
    unit, _ = office
    monkeypatch.setattr(importer, "INLINE_APPLY_ROWS", 5)
    log_in(client, username="czj_office")
    response = checked(app, post(client, csv_file("新人甲,13700000001,区财政局,科员")))
    import_id = int(response.location.rsplit("/", 1)[1])
    client.post(f"/units/imports/{import_id}/apply")

    def broken(*args, **kwargs):
        raise importer.ContactImportError("nothing_to_import")

    monkeypatch.setattr(importer, "apply", broken)
    jobs.run_pending(app)
    page = client.get(f"/units/imports/{import_id}").text
    assert "导入未完成，通讯录未作修改：文件中没有可导入的行" in page and "确认导入" in page
    assert active(db, unit) == 9
