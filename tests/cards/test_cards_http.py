"""The service card over HTTP: the console's pages (edit per scope, the spreadsheet through its job,
one person's card), the attendee's meeting page (their own card only) and the mini program's
endpoint with its OpenAPI entry."""

from __future__ import annotations

import io
import re

import openpyxl
from sqlalchemy import func, select

from app import jobs
from app.services.cards import store
from app.web.auth import SESSION_KEY
from miniprogram_api import openapi_document
from models import ServiceCard
from tests.console.conftest import login_as
from tests.console.test_invitees_http import xlsx
from tests.mp.conftest import API, bearer, token_for


def flashes(client) -> list[str]:
    with client.session_transaction() as s:
        return [m for _c, m in s.pop("_flashes", [])]


# -- console ------------------------------------------------------------------------------------------

def test_owner_edits_the_meeting_and_a_group(client, db, factory, console):
    factory.invitee(console.meeting, console.people[0], group_name="第一代表团")
    db.session.commit()
    code = console.meeting.code
    login_as(client, console, "owner")
    page = client.get(f"/admin/{code}/cards").get_data(as_text=True)
    assert "全体参会人员" in page and "第一代表团" in page and "下载表格模板" in page and 'class="on">服务卡' in page

    res = client.post(f"/admin/{code}/cards/save", data={"scope": "meeting", "key": "", "meal_name": "午餐",
                                                         "meal_place": "2 楼宴会厅", "duty_phone": "0571-88880000"})
    assert res.status_code == 302 and flashes(client) == ["已保存全体参会人员的服务卡"]
    client.post(f"/admin/{code}/cards/save", data={"scope": "group", "key": "第一代表团", "seat": "一团区域",
                                                   "liaison_name": "周联络", "liaison_phone": "13900001234"})
    assert store.scope_fields(console.meeting, "group", "第一代表团")["liaison_name"] == "周联络"
    # The form holds every field: a blank one clears it at this scope.
    client.post(f"/admin/{code}/cards/save", data={"scope": "meeting", "key": "", "meal_name": "午餐"})
    assert store.scope_fields(console.meeting, "meeting") == {"meal_name": "午餐"}

    person = client.get(f"/admin/{code}/cards/people/{console.people[0].id}").get_data(as_text=True)
    assert "一团区域" in person and "按分组" in person and "周联络" in person


def test_bad_input_is_shown_on_the_page_and_writes_nothing(client, db, console):
    login_as(client, console, "owner")
    code = console.meeting.code
    res = client.post(f"/admin/{code}/cards/save", data={"scope": "meeting", "key": "", "seat": "A",
                                                         "duty_phone": "请找值班室"})
    assert res.status_code == 302 and "不是电话号码" in flashes(client)[0]
    client.post(f"/admin/{code}/cards/save", data={"scope": "group", "key": "没有这个组", "seat": "A"})
    assert "没有分组“没有这个组”" in flashes(client)[0]
    client.post(f"/admin/{code}/cards/save", data={"scope": "planet", "key": "", "seat": "A"})
    assert flashes(client) == ["设置范围不正确"]
    assert db.session.scalar(select(func.count()).select_from(ServiceCard)) == 0
    assert client.get(f"/admin/{code}/cards/people/999999").status_code == 404


def test_staff_and_viewers_read_but_do_not_write(client, db, console):
    code = console.meeting.code
    for who in ("staff", "viewer"):
        login_as(client, console, who)
        page = client.get(f"/admin/{code}/cards").get_data(as_text=True)
        assert "只能查看服务卡" in page and "上传并检查" not in page
        assert client.post(f"/admin/{code}/cards/save", data={"scope": "meeting", "seat": "A"}).status_code == 403
        assert client.post(f"/admin/{code}/cards/people/{console.people[0].id}",
                           data={"seat": "A"}).status_code == 403
    login_as(client, console, "stranger")
    assert client.get(f"/admin/{code}/cards").status_code == 403


def test_the_spreadsheet_goes_through_a_job_and_a_report(app, client, db, console):
    code = console.meeting.code
    a, b = console.people[0], console.people[2]
    login_as(client, console, "owner")
    template = client.get(f"/admin/{code}/cards/template.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(template.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:5] == ["单位", "姓名", "手机", "座位", "会场"] and "值班室电话" in header and "分组" not in header
    assert [c.value for c in sheet[2]][:4] == ["区委办公室", "张三", "13800138000", "3 排 12 号"]

    rows = [header, [None] * len(header), [None] * len(header), [None] * len(header)]
    rows[1][:4] = [a.unit.name, a.name, a.phone, "3 排 12 号"]
    rows[2][:4] = ["区委办公室", "不在名单", "13999990000", "1 排"]
    rows[3][:4] = [b.unit.name, b.name, None, "3 排 13 号"]  # found by unit and name
    res = client.post(f"/admin/{code}/cards/import", data={"file": (io.BytesIO(xlsx(rows)), "服务卡.xlsx")},
                      content_type="multipart/form-data")
    job_url = res.headers["Location"]
    assert res.status_code == 302 and "/cards/import/job/" in job_url
    assert "正在检查服务卡表格" in client.get(job_url).get_data(as_text=True)
    assert jobs.run_pending(app) is True
    report_url = client.get(job_url).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert "检查结果（尚未导入）" in report and "第 3 行" in report and "不在本次会议的参会名单中" in report
    assert db.session.scalar(select(func.count()).select_from(ServiceCard)) == 0  # nothing before the confirmation
    assert client.post(report_url).status_code == 302
    assert flashes(client) == ["服务卡已导入：新建 2 人，更新 0 人，1 行有问题未导入"]
    assert store.scope_fields(console.meeting, "person", b.id) == {"seat": "3 排 13 号"}
    assert client.post(report_url).status_code == 302 and "已过期" in flashes(client)[0]  # applied once

    missing = client.post(f"/admin/{code}/cards/import", data={}, content_type="multipart/form-data")
    assert missing.status_code == 302 and flashes(client) == ["请选择要上传的表格文件"]


def test_the_person_page_edits_only_that_person(client, db, console):
    code = console.meeting.code
    who = console.people[1]
    login_as(client, console, "owner")
    client.post(f"/admin/{code}/cards/people/{who.id}", data={"hotel_room": "1208", "seat": ""})
    assert store.scope_fields(console.meeting, "person", who.id) == {"hotel_room": "1208"}
    listing = client.get(f"/admin/{code}/cards/people?q={who.name}").get_data(as_text=True)
    assert "房间号：1208" in listing and console.people[0].name not in listing


# -- the attendee -------------------------------------------------------------------------------------

def log_in(client, factory, contact):
    identity = factory.identity(contact)
    factory.db.session.commit()
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id
    return identity


def test_the_meeting_page_shows_only_the_visitors_own_card(client, db, factory, cards):
    m = cards.meeting
    store.set_fields(m, "meeting", None, {"duty_phone": "0571-88880000", "map_url": "https://map.example/x"},
                     actor="t")
    store.set_fields(m, "person", cards.zhang.id, {"hotel_room": "1208", "liaison_phone": "139 0000 1234"},
                     actor="t")
    log_in(client, factory, cards.zhang)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "我的服务卡" in page and "A-01" in page and "1208" in page
    assert 'href="tel:13900001234"' in page and 'href="tel:057188880000"' in page
    assert 'href="https://map.example/x"' in page

    log_in(client, factory, cards.li)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "我的服务卡" in page and "1208" not in page and "A-01" not in page and "tel:057188880000" in page

    outsider = factory.contact(name="局外人")
    log_in(client, factory, outsider)
    page = client.get(f"/m/{m.code}").get_data(as_text=True)
    assert "我的服务卡" not in page and "tel:" not in page


# -- the mini program ----------------------------------------------------------------------------------

def test_the_mini_program_gets_the_callers_card(app, client, db, factory, cards):
    m = cards.meeting
    store.set_fields(m, "person", cards.zhang.id, {"liaison_phone": "13900001234", "meal_place": "2 楼"},
                     actor="t")
    zhang = factory.identity(cards.zhang, mp_openid="mp-zhang")
    res = client.get(f"{API}/meetings/{m.code}/card", headers=bearer(token_for(app, zhang)))
    assert res.status_code == 200, res.json
    body = res.json
    by_key = {f["key"]: f for f in body["fields"]}
    assert by_key["seat"]["value"] == "A-01" and by_key["liaison_phone"]["tel"] == "tel:13900001234"
    assert by_key["venue"]["value"] == "区行政中心" and by_key["seat"]["section"] == "座位与分组"
    assert body["headline"].startswith("座位 A-01 · 用餐 2 楼") and len(body["agenda"]) == 4

    li = factory.identity(cards.li, mp_openid="mp-li")
    other = client.get(f"{API}/meetings/{m.code}/card", headers=bearer(token_for(app, li))).json
    assert "A-01" not in str(other) and "13900001234" not in str(other)

    unbound = factory.identity(None, mp_openid="mp-nobody")
    res = client.get(f"{API}/meetings/{m.code}/card", headers=bearer(token_for(app, unbound)))
    assert res.status_code == 403 and res.json["error"]["code"] == "identity_not_bound"
    outsider = factory.identity(factory.contact(name="局外人"), mp_openid="mp-out")
    res = client.get(f"{API}/meetings/{m.code}/card", headers=bearer(token_for(app, outsider)))
    assert res.status_code == 403 and res.json["error"]["code"] == "not_participant"
    assert client.get(f"{API}/meetings/NOPE/card", headers=bearer(token_for(app, zhang))).status_code == 404
    assert client.get(f"{API}/meetings/{m.code}/card").status_code == 401


def test_the_card_is_in_the_openapi_document():
    op = openapi_document()["paths"][f"{API}/meetings/{{code}}/card"]["get"]
    assert op["security"] == [{"bearer": []}] and {"200", "403", "404"} <= set(op["responses"])
    assert re.search(r"ServiceCardOut", str(op["responses"]["200"]))


def test_no_card_where_organizers_set_nothing(client, db, factory):
    meeting = factory.meeting("PLAIN", venue="区政府三楼")
    person = factory.contact()
    factory.invitee(meeting, person)
    log_in(client, factory, person)
    page = client.get("/m/PLAIN").get_data(as_text=True)
    assert "区政府三楼" in page and "我的服务卡" not in page


def test_the_sign_in_result_page_carries_the_headline(client, db, factory, cards):
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in
    from models import SignInMethod

    m = cards.meeting
    store.set_fields(m, "meeting", None, {"meal_name": "午餐", "meal_place": "2 楼宴会厅"}, actor="t")
    sign_in(m, get_session(m, 1), cards.zhang, method=SignInMethod.H5, now=m.starts_at)  # the fixture's fixed day
    log_in(client, factory, cards.zhang)
    page = client.get(f"/m/{m.code}/done").get_data(as_text=True)
    assert "座位 A-01<br>午餐 2 楼宴会厅" in page and "查看我的服务卡" in page


def test_the_template_uploaded_as_it_is_imports_nothing(app, client, db, console):
    code = console.meeting.code
    login_as(client, console, "owner")
    template = client.get(f"/admin/{code}/cards/template.xlsx").data
    res = client.post(f"/admin/{code}/cards/import", data={"file": (io.BytesIO(template), "服务卡模板.xlsx")},
                      content_type="multipart/form-data")
    jobs.run_pending(app)
    report = client.get(client.get(res.headers["Location"]).headers["Location"]).get_data(as_text=True)
    assert "模板中的示例行" in report and "表格中没有可导入的行" in report


def test_the_mini_programs_sign_in_result_carries_the_headline(app, client, db, factory, cards):
    m = cards.meeting
    store.set_fields(m, "meeting", None, {"meal_place": "2 楼宴会厅"}, actor="t")
    m.sessions[0].signin_opens_at = m.starts_at.replace(year=2000)  # the fixture's day is fixed: open now
    m.sessions[0].signin_closes_at = m.starts_at.replace(year=2100)
    zhang = factory.identity(cards.zhang, mp_openid="mp-zhang")
    res = client.post(f"{API}/meetings/{m.code}/signin", json={"nonce": "card-test-1"},
                      headers=bearer(token_for(app, zhang)))
    assert res.status_code == 200, res.json
    assert res.json["card_headline"][:2] == ["座位 A-01", "用餐 2 楼宴会厅"]
