"""The unit office pages over HTTP: login, rate limit, CSRF, upload, report, confirm, history."""

from __future__ import annotations

import io
import re
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from app import jobs
from app.services.contacts.units import add_unit_account
from models import Contact, ContactImport

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "contacts"
PASSWORD = "correct horse battery"


@pytest.fixture
def office(db, factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["XX局"])
    add_unit_account(unit, "fgj_office", PASSWORD, actor="test")
    db.session.commit()  # a refused request rolls back; the account must outlive it
    return unit


def log_in(client, username="fgj_office", password=PASSWORD, **environ):
    return client.post("/units/login", data={"username": username, "password": password}, **environ)


def upload(client, name="directory_full.xlsx", **form):
    data = {"file": (io.BytesIO((FIXTURES / name).read_bytes()), name), **form}
    return client.post("/units/upload", data=data, content_type="multipart/form-data")


def checked(app, response):
    """Let the job worker read the upload (the request only stored it), then hand back the response."""
    assert response.status_code == 302, response.text
    assert jobs.run_pending(app) is True
    return response


def test_pages_need_a_login(client, office):
    response = client.get("/units/history")
    assert response.status_code == 302 and "/units/login" in response.location


def test_login_wrong_password_is_generic_and_right_one_works(client, office):
    bad = log_in(client, password="wrong-password")
    assert bad.status_code == 401 and "用户名或密码错误" in bad.text
    unknown = log_in(client, username="nobody")
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text
    ok = log_in(client)
    assert ok.status_code == 302
    with client.session_transaction() as s:
        assert s["unit_account_id"] and "identity_id" not in s
    assert "区发展和改革局" in client.get("/units/").text
    client.post("/units/logout")
    assert client.get("/units/").status_code == 302


def test_login_rate_limited_per_username(client, office):
    for i in range(5):
        failed = log_in(client, password="wrong-password")
        assert failed.status_code == 401
        assert ("还可尝试 2 次" in failed.text) == (i == 2) and ("还可尝试 1 次" in failed.text) == (i == 3)
    limited = log_in(client)  # even the right password, from this address, until the window passes
    assert limited.status_code == 429 and "登录失败次数过多" in limited.text
    # A stranger's typing elsewhere does not lock the office out: its own address still gets in.
    assert log_in(client, environ_base={"REMOTE_ADDR": "10.7.7.7"}).status_code == 302


def test_login_rate_limited_per_ip(client, office):
    for i in range(30):
        log_in(client, username=f"guess{i}", password="x", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert log_in(client, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 429
    assert log_in(client, environ_base={"REMOTE_ADDR": "10.1.1.1"}).status_code == 302


def test_csrf_refused_when_enabled(app, client, office, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    response = log_in(client)
    assert response.status_code == 400 and "页面已过期" in response.text
    page = client.get("/units/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    ok = client.post("/units/login", data={"username": "fgj_office", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 302


def test_template_download(client, office):
    log_in(client)
    response = client.get("/units/template.xlsx")
    assert response.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert list(rows[0]) == ["序号", "姓名", "手机号码", "单位", "职务", "部门", "备注"]
    assert rows[1][1:3] == ("张三", "13800138000")


def test_upload_report_confirm_history(app, client, db, office):
    log_in(client)
    response = upload(client)
    assert response.status_code == 302
    waiting = client.get(response.location).text
    assert "正在检查文件" in waiting and 'id="job-progress"' in waiting and 'http-equiv="refresh"' in waiting
    checked(app, response)
    report = client.get(response.location).text
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert "检查结果（尚未导入）" in report and "确认导入" in report
    assert '<tr class="bad"><td>第 10 行</td><td class="msg">缺少姓名</td></tr>' in report
    assert "name_missing" not in report and "phone_invalid" not in report  # Chinese only, no codes
    assert "与第 4 行手机号重复" in report and "阿卜杜·热合曼" in report
    import_id = int(response.location.rsplit("/", 1)[1])

    applied = client.post(f"/units/imports/{import_id}/apply")
    assert applied.status_code == 302
    history = client.get(applied.location).text
    assert "导入已完成" in history and "directory_full.xlsx" in history and "已导入" in history
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 7

    again = client.get(checked(app, upload(client)).location).text
    assert "与现有通讯录一致，无需更改" in again


def test_a_previewed_import_can_be_discarded_and_then_never_applied(app, client, db, office):
    log_in(client)
    location = checked(app, upload(client)).location
    assert "放弃本次导入" in client.get(location).text
    import_id = int(location.rsplit("/", 1)[1])

    discarded = client.post(f"/units/imports/{import_id}/discard")
    assert discarded.status_code == 302
    history = client.get(discarded.location).text
    assert "已放弃该次导入" in history and "已放弃" in history
    refused = client.post(f"/units/imports/{import_id}/apply")
    assert refused.status_code == 409 and "该导入已处理（已放弃）" in refused.text
    assert client.post(f"/units/imports/{import_id}/discard").status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0
    assert "放弃本次导入" not in client.get(location).text


def test_bad_file_shows_the_reason_and_writes_no_contact(app, client, db, office):
    log_in(client)
    data = {"file": (io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8), "通讯录.csv")}
    response = checked(app, client.post("/units/upload", data=data, content_type="multipart/form-data"))
    page = client.get(response.location)
    assert page.status_code == 200 and "文件无法读取" in page.text and "文件内容不是表格" in page.text
    assert "确认导入" not in page.text
    assert db.session.scalar(select(ContactImport.status)) == "failed"
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 0


def test_empty_file_is_refused_in_the_request(client, db, office):
    log_in(client)
    data = {"file": (io.BytesIO(b"\r\n"), "通讯录.csv")}
    response = client.post("/units/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and "文件是空的" in response.text
    assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 0


def test_another_units_import_is_forbidden(app, client, db, factory, office):
    other = factory.unit("JYJ", "区教育局")
    add_unit_account(other, "jyj_office", PASSWORD, actor="test")
    log_in(client)
    response = checked(app, upload(client))
    import_id = int(response.location.rsplit("/", 1)[1])
    job_id = db.session.get(ContactImport, import_id).report["job_id"]
    client.post("/units/logout")
    log_in(client, username="jyj_office")
    assert client.get(f"/units/imports/{import_id}").status_code == 403
    assert client.post(f"/units/imports/{import_id}/apply").status_code == 403
    assert client.post(f"/units/imports/{import_id}/discard").status_code == 403
    assert db.session.get(ContactImport, import_id).status == "previewed"
    assert "directory_full.xlsx" not in client.get("/units/history").text
    assert client.get(f"/jobs/{job_id}.json").status_code == 404  # nor its job's progress


def test_user_data_is_escaped(app, client, db, office):
    log_in(client)
    csv = "姓名,手机号码,职务\n<script>alert(1)</script>,13800138000,<b>x</b>\n".encode()
    data = {"file": (io.BytesIO(csv), "<i>名单</i>.csv")}
    page = client.get(checked(app, client.post("/units/upload", data=data,
                                               content_type="multipart/form-data")).location).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page and "<i>名单" not in page


def test_upload_over_the_size_limit_is_refused(client, db, office):
    log_in(client)
    data = {"file": (io.BytesIO(b"a" * (21 * 1024 * 1024)), "big.csv")}
    response = client.post("/units/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 413 and "文件过大" in response.text
    assert db.session.scalar(select(func.count()).select_from(ContactImport)) == 0
