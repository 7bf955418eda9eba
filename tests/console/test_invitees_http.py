"""The invitees page over HTTP: who may read and change it, and each form and JSON action."""

from __future__ import annotations

import io
import re
from urllib.parse import unquote

import openpyxl
import pytest
from sqlalchemy import func, select

from app import jobs
from app.services.live import headcount
from models import AuditLog, Invitee
from tests.console.conftest import login_as

JSON = {"Accept": "application/json"}


def invitee_of(db, meeting, contact) -> Invitee | None:
    return db.session.scalar(select(Invitee).where(Invitee.meeting_id == meeting.id,
                                                   Invitee.contact_id == contact.id))


def count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Invitee))


def xlsx(rows) -> bytes:
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def routes(console):
    code = console.meeting.code
    some = invitee_of_first = console.people[0].id
    return [
        ("get", f"/admin/{code}/invitees", {}, "view"),
        ("get", f"/admin/{code}/invitees?status=unbound&page=2&q=参会", {}, "view"),
        ("get", f"/admin/{code}/directory.json?q=参会", {}, "invitees"),
        ("get", f"/admin/{code}/invitees/template.xlsx", {}, "invitees"),
        ("post", f"/admin/{code}/invitees/add", {"json": {"contact_ids": [console.stranger.id]}}, "invitees"),
        ("post", f"/admin/{code}/invitees/units", {"data": {"unit_ids": [console.unit.id]}}, "invitees"),
        ("post", f"/admin/{code}/invitees/paste", {"data": {"text": console.stranger.phone, "do": "add"}}, "invitees"),
        ("post", f"/admin/{code}/invitees/import", {"data": {"file": (io.BytesIO(b"x"), "a.csv")}}, "invitees"),
        ("get", f"/admin/{code}/invitees/import/abcdefghijkl", {}, "invitees"),
        ("post", f"/admin/{code}/invitees/import/abcdefghijkl", {}, "invitees"),
        ("post", f"/admin/{code}/invitees/remove", {"data": {"ids": [some]}}, "invitees"),
        ("post", f"/admin/{code}/invitees/update", {"data": {"ids": [invitee_of_first], "role": "领导"}}, "invitees"),
    ]


@pytest.mark.parametrize("who", ["owner", "staff", "viewer", "outsider", "stranger"])
def test_who_may_read_and_change(client, db, console, who):
    login_as(client, console, who)
    allowed = {"owner": {"view", "invitees"}, "staff": {"view"}, "viewer": {"view"}}.get(who, set())
    before = count(db)
    for method, url, kw, action in routes(console):
        kw = {k: (dict(v) if isinstance(v, dict) else v) for k, v in kw.items()}
        res = getattr(client, method)(url, headers=JSON if "json" in kw else {}, **kw)
        if action in allowed:
            assert res.status_code in (200, 302), (who, url, res.status_code)
        else:
            assert res.status_code == 403, (who, url, res.status_code)
    if "invitees" not in allowed:
        assert count(db) == before
        assert db.session.scalar(select(func.count()).select_from(AuditLog)
                                 .where(AuditLog.action.in_(["meeting.invite", "meeting.uninvite", "invitee.update"]),
                                        AuditLog.actor != "test")) == 0


def test_a_visitor_without_a_session_is_sent_to_log_in(client, console):
    res = client.get(f"/admin/{console.meeting.code}/invitees")
    assert res.status_code == 302 and "/admin/login" in res.headers["Location"]


def test_unknown_meeting_is_404(client, console):
    login_as(client, console, "owner")
    assert client.get("/admin/NOPE/invitees").status_code == 404


def test_owner_page_shows_the_list_counts_and_the_add_tools(client, db, console):
    login_as(client, console, "owner")
    html = client.get(f"/admin/{console.meeting.code}/invitees").get_data(as_text=True)
    for text in ("参会人员", "按单位添加", "从通讯录选人", "粘贴名单", "上传名单表格", "未绑定微信 4 人", "移出名单",
                 console.people[0].name, console.people[0].phone, "invitees.js"):
        assert text in html, text
    assert re.search(r"全部 <b>4</b>", html) and re.search(r"未签到 <b>4</b>", html)


def test_viewer_reads_masked_phones_and_no_controls(client, console):
    login_as(client, console, "viewer")
    html = client.get(f"/admin/{console.meeting.code}/invitees").get_data(as_text=True)
    phone = console.people[0].phone
    assert console.people[0].name in html and phone not in html and f"{phone[:3]}****{phone[-4:]}" in html
    assert "按单位添加" not in html and "移出名单" not in html and 'name="ids"' not in html


def test_staff_reads_full_phones_but_cannot_change(client, console):
    login_as(client, console, "staff")
    html = client.get(f"/admin/{console.meeting.code}/invitees").get_data(as_text=True)
    assert console.people[0].phone in html and "粘贴名单" not in html


def test_filters_and_pages_in_the_query_string(client, db, factory, console):
    for i in range(60):
        factory.invitee(console.meeting, factory.contact(console.unit, name=f"翻页{i:02d}"))
    login_as(client, console, "owner")
    html = client.get(f"/admin/{console.meeting.code}/invitees?q=翻页&page=2").get_data(as_text=True)
    assert "第 2 / 2 页，共 60 人" in html and html.count('type="checkbox" name="ids"') == 10
    assert "上一页" in html and "q=%E7%BF%BB%E9%A1%B5" in html  # the page links keep the query
    res = client.get(f"/admin/{console.meeting.code}/invitees?status=bogus")
    assert res.status_code == 400


def test_directory_json_is_masked_and_marks_who_is_invited(client, console):
    login_as(client, console, "owner")
    data = client.get(f"/admin/{console.meeting.code}/directory.json?q=参会", headers=JSON).get_json()
    assert len(data["results"]) == 4 and all(r["invited"] for r in data["results"])
    assert all(re.fullmatch(r"\d{3}\*{4}\d{4}", r["phone"]) for r in data["results"])


def test_add_from_the_directory_by_json(client, db, console):
    login_as(client, console, "owner")
    url = f"/admin/{console.meeting.code}/invitees/add"
    res = client.post(url, json={"contact_ids": [console.stranger.id], "role": "媒体"}, headers=JSON)
    assert res.status_code == 200 and res.get_json()["added"] == 1 and res.get_json()["total"] == 5
    assert invitee_of(db, console.meeting, console.stranger).role == "媒体"
    log = db.session.scalar(select(AuditLog).where(AuditLog.action == "meeting.invite", AuditLog.actor != "test"))
    assert log.actor == f"contact:{console.owner.id}"
    bad = client.post(url, json={"contact_ids": [console.owner.id], "role": "嘉宾"}, headers=JSON)
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "role_invalid"
    assert invitee_of(db, console.meeting, console.owner) is None
    for junk in ({"contact_ids": "x"}, {"contact_ids": ["x", None, {}]}, {}):
        empty = client.post(url, json=junk, headers=JSON)
        assert empty.status_code == 400 and empty.get_json()["error"]["code"] == "nothing_selected"
    odd = client.post(url, json={"contact_ids": [str(console.owner.id)], "group_name": 12}, headers=JSON)
    assert odd.status_code == 200 and invitee_of(db, console.meeting, console.owner).group_name == "12"


def test_add_whole_units_by_form(client, db, console):
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/invitees/units",
                      data={"unit_ids": [console.unit.id], "role": "列席", "group_name": "办公室组"})
    assert res.status_code == 302
    assert invitee_of(db, console.meeting, console.viewer).role == "列席"
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "已添加 4 人（另有 2 人已在名单中）" in page


def test_paste_check_shows_ambiguity_and_adds_nothing(client, db, factory, console):
    a = factory.contact(console.unit, name="同名")
    factory.contact(console.other_unit, name="同名")
    login_as(client, console, "owner")
    url = f"/admin/{console.meeting.code}/invitees/paste"
    before = count(db)
    html = client.post(url, data={"text": f"同名\n{console.stranger.phone}", "do": "check"}).get_data(as_text=True)
    assert "可识别 1 行" in html and "无法确定 1 行" in html and "通讯录中有 2 位“同名”" in html
    assert "仅添加可识别的 1 人" in html and count(db) == before
    res = client.post(url, data={"text": f"同名\n{console.stranger.phone}", "do": "add"})
    assert res.status_code == 302 and count(db) == before
    assert "无法确定是谁" in client.get(res.headers["Location"]).get_data(as_text=True)
    client.post(url, data={"text": f"同名\n{console.stranger.phone}", "do": "add_partial"})
    assert invitee_of(db, console.meeting, console.stranger) is not None and invitee_of(db, console.meeting, a) is None


def test_spreadsheet_report_then_confirm(app, client, db, factory, console):
    new = factory.contact(console.unit, name="表格新人", phone="13955550001")
    data = xlsx([["单位", "姓名", "手机", "身份", "分组", "座位", "备注"],
                 ["区委办公室", "表格新人", "13955550001", "领导", "一组", "1排1座", ""],
                 ["区委办公室", "查无", "13955559999", "", "", "", ""]])
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/invitees/import",
                      data={"file": (io.BytesIO(data), "名单.xlsx")}, content_type="multipart/form-data")
    assert res.status_code == 302 and "/invitees/import/job/" in res.headers["Location"]
    assert invitee_of(db, console.meeting, new) is None
    # The request only stored the file: a job checks it while the page shows its progress.
    waiting = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "正在检查名单表格" in waiting and 'http-equiv="refresh"' in waiting
    assert jobs.run_pending(app) is True
    res = client.get(res.headers["Location"])
    assert res.status_code == 302 and "/invitees/import/" in res.headers["Location"]
    report = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "检查结果（尚未导入）" in report and "第 3 行" in report and "通讯录中找不到手机号 13955559999" in report
    assert "contact_not_found" not in report  # Chinese messages, never codes
    assert "表格新人" in report and "确认导入" in report
    done = client.post(res.headers["Location"])
    assert done.status_code == 302
    assert invitee_of(db, console.meeting, new).seat == "1排1座"
    assert "新增 1 人" in client.get(done.headers["Location"]).get_data(as_text=True)


def test_a_hostile_file_is_refused_with_its_message(app, client, db, console):
    login_as(client, console, "owner")
    before = count(db)
    res = client.post(f"/admin/{console.meeting.code}/invitees/import",
                      data={"file": (io.BytesIO(b"%PDF-1.4 nope"), "名单.xlsx")}, content_type="multipart/form-data")
    jobs.run_pending(app)
    res = client.get(res.headers["Location"])  # the job's page, once the job has failed
    assert res.status_code == 302 and res.headers["Location"].endswith("/invitees")
    assert "文件内容不是表格" in client.get(res.headers["Location"]).get_data(as_text=True)
    missing = client.post(f"/admin/{console.meeting.code}/invitees/import", data={})
    assert "请选择要上传的名单文件" in client.get(missing.headers["Location"]).get_data(as_text=True)
    assert count(db) == before


def test_an_expired_report_says_so(client, console):
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/invitees/import/abcdefghijkl")
    assert "检查结果已过期" in client.get(res.headers["Location"]).get_data(as_text=True)


def test_remove_and_update_by_form_go_back_to_the_same_list(client, db, console):
    login_as(client, console, "owner")
    rows = [invitee_of(db, console.meeting, p) for p in console.people]
    back = f"/admin/{console.meeting.code}/invitees?q=参会&page=1"
    res = client.post(f"/admin/{console.meeting.code}/invitees/update",
                      data={"ids": [rows[0].id, rows[1].id], "group_name": "二组", "role": "", "seat": "",
                            "back": back})
    assert unquote(res.headers["Location"]) == back
    for row in rows[:2]:
        db.session.refresh(row)
    assert (rows[0].group_name, rows[0].role, rows[1].group_name) == ("二组", "代表", "二组")
    client.post(f"/admin/{console.meeting.code}/invitees/update",
                data={"ids": [rows[0].id], "single": "1", "role": "领导", "group_name": "", "seat": "A1", "note": ""})
    db.session.refresh(rows[0])
    assert (rows[0].role, rows[0].group_name, rows[0].seat) == ("领导", None, "A1")
    res = client.post(f"/admin/{console.meeting.code}/invitees/remove",
                      data={"ids": [rows[2].id], "back": "https://evil.example/"})
    assert res.headers["Location"].endswith(f"/admin/{console.meeting.code}/invitees")
    assert invitee_of(db, console.meeting, console.people[2]) is None
    assert "签到记录仍保留" in client.get(res.headers["Location"]).get_data(as_text=True)


def test_live_numbers_follow_a_change_made_on_the_page(client, db, console):
    session = console.meeting.sessions[0]
    assert headcount.numbers(console.meeting, session).expected == 4
    login_as(client, console, "owner")
    client.post(f"/admin/{console.meeting.code}/invitees/add", json={"contact_ids": [console.stranger.id]}, headers=JSON)
    assert headcount.numbers(console.meeting, session).expected == 5
