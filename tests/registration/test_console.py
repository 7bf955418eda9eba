"""The console's 报名 pages: list with filters, bulk decisions, tags, the export job; the forms editor;
who may do what (the same rule as tests/console/test_authorization_matrix.py, for these routes)."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from app import jobs
from app.services import storage
from app.services.registration import forms
from app.services.registration.submit import Caller, submit
from models import Job
from models.registrations import Registration, RegistrationForm
from tests.console.conftest import build_console, login_as
from tests.console.test_authorization_matrix import LEVEL, NEEDS, console_routes
from tests.registration.conftest import ALL_STANDARD, id_number, person


@pytest.fixture
def setup(db, factory):
    data = build_console(factory, code="REGC1")
    form = forms.create_form(data.meeting, actor="t", title="代表报名", invite_code="CONS2345", fields=ALL_STANDARD,
                             published=True)
    out = submit(data.meeting, form, [person(name="甲代表", gender="女", needs_room="1", id_number=id_number()),
                                      person(name="乙代表"), person(name="丙代表", diet=["素食"])],
                 caller=Caller("h5:console"), invite_code="CONS2345", unit_code=data.unit.code)
    db.session.commit()
    return data, form, out.registrations


def test_registration_routes_authorized_by_rule(app, client, setup):
    data, form, regs = setup
    routes = [r for r in console_routes(app, data.meeting.code, {"form_id": form.id, "registration_id": regs[0].id})
              if r[0].startswith("console_registration.")]
    assert {r[0] for r in routes} == {k for k in NEEDS if k.startswith("console_registration.")}
    for who in LEVEL:
        login_as(client, data, who)
        for endpoint, method, url in routes:
            status = getattr(client, method.lower())(url, headers={"Accept": "application/json"}).status_code
            allowed = LEVEL[who] >= NEEDS[endpoint]
            assert status < 500 and (status == 403) != allowed, (who, method, url, status)


def test_list_filters_and_masked_id(client, setup):
    data, _form, regs = setup
    login_as(client, data, "staff")
    page = client.get(f"/admin/{data.meeting.code}/registration").get_data(as_text=True)
    assert "甲代表" in page and "乙代表" in page and "待审核" in page
    assert regs[0].id_masked in page
    page = client.get(f"/admin/{data.meeting.code}/registration?gender=女").get_data(as_text=True)
    assert "甲代表" in page and "乙代表" not in page
    page = client.get(f"/admin/{data.meeting.code}/registration?diet=素食").get_data(as_text=True)
    assert "丙代表" in page and "甲代表" not in page
    res = client.get(f"/admin/{data.meeting.code}/registration?status=evil")
    assert res.status_code == 200 and "状态筛选不正确" in res.get_data(as_text=True)


def test_bulk_approve_refuse_and_tag(client, db, setup):
    data, _form, regs = setup
    login_as(client, data, "staff")
    url = f"/admin/{data.meeting.code}/registration/decide"
    res = client.post(url, data={"action": "refuse", "ids": [regs[1].id], "reason": ""})
    assert res.status_code == 302
    assert "请填写不通过的原因" in client.get(res.headers["Location"]).get_data(as_text=True)
    client.post(url, data={"action": "refuse", "ids": [regs[1].id], "reason": "名额已满"})
    client.post(url, data={"action": "approve", "ids": [regs[0].id, regs[2].id]})
    client.post(url, data={"action": "tag", "ids": [regs[0].id], "tag": "主席团"})
    rows = {r.id: r for r in db.session.scalars(select(Registration))}
    assert rows[regs[0].id].status == "approved" and rows[regs[0].id].contact_id is not None
    assert rows[regs[1].id].status == "refused" and rows[regs[1].id].decision_note == "名额已满"
    assert rows[regs[0].id].tags == ["主席团"]
    res = client.post(url, data={"action": "approve", "ids": ["999999"]})  # not this meeting's: 404, nothing done
    assert res.status_code == 404 and "找不到该报名记录" in res.get_data(as_text=True)


def test_export_job_masks_the_id(app, client, db, setup):
    data, _form, regs = setup
    login_as(client, data, "staff")
    res = client.post(f"/admin/{data.meeting.code}/registration/export?status=pending")
    assert res.status_code == 302 and "job=" in res.headers["Location"]
    job = db.session.scalar(select(Job).where(Job.kind == "registration_export"))
    assert job.args[1] == {"status": "pending"}
    result = jobs.run_job(job.func, *job.args)
    assert result["rows"] == 3
    number = None
    from app.services.registration import idnumbers
    number = idnumbers.decrypt(regs[0].id_cipher, app.config["SECRET_KEY"])
    book = openpyxl.load_workbook(io.BytesIO(storage.get_storage().read(result["sha"])))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    assert regs[0].id_masked in cells and number not in " ".join(cells)
    assert "甲代表" in cells and "身份证号（脱敏）" in cells
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "job-progress" in page


def test_forms_editor_create_publish_update(client, db, setup):
    data, form, _regs = setup
    login_as(client, data, "owner")
    page = client.get(f"/admin/{data.meeting.code}/registration/forms").get_data(as_text=True)
    assert "代表报名" in page and "CONS2345" in page and f"/r/{data.meeting.code}" in page
    res = client.post(f"/admin/{data.meeting.code}/registration/forms", data={
        "title": "媒体报名", "role": "媒体", "access": "open", "cap": "20", "deadline": "2030-01-02T18:00",
        "ask_gender": "1", "req_gender": "1", "ask_id_number": "1", "c_label_1": "所属媒体", "c_kind_1": "text",
        "c_req_1": "1", "c_label_2": "采访类型", "c_kind_2": "choice", "c_options_2": "文字，摄影、摄像"})
    assert res.status_code == 302
    media = db.session.scalar(select(RegistrationForm).where(RegistrationForm.title == "媒体报名"))
    assert (media.role, media.access, media.cap, media.published, media.needs_approval) == ("媒体", "open", 20, False, True)
    keys = [f["key"] for f in media.fields]
    assert keys[:3] == ["name", "unit", "phone"] or set(keys) >= {"name", "phone", "unit", "gender", "id_number", "c1", "c2"}
    assert media.fields[-1]["options"] == ["文字", "摄影", "摄像"]
    assert media.deadline.isoformat().startswith("2030-01-02T10:00")  # 18:00 Beijing time
    client.post(f"/admin/{data.meeting.code}/registration/forms/{media.id}/publish", data={"publish": "1"})
    assert media.published
    res = client.post(f"/admin/{data.meeting.code}/registration/forms/{media.id}", data={
        "title": "媒体报名", "role": "媒体", "access": "open", "cap": "abc"})
    assert "人数上限须为" in client.get(res.headers["Location"]).get_data(as_text=True)
    assert media.cap == 20


def test_group_and_rank_follow_to_the_invitee(client, db, setup):
    from models import Invitee

    data, _form, regs = setup
    login_as(client, data, "staff")
    url = f"/admin/{data.meeting.code}/registration/decide"
    client.post(url, data={"action": "approve", "ids": [regs[0].id]})
    client.post(url, data={"action": "group", "ids": [regs[0].id, regs[1].id], "group": "第二代表团"})
    client.post(url, data={"action": "rank", "ids": [regs[0].id], "rank": "3"})
    res = client.post(url, data={"action": "rank", "ids": [regs[1].id], "rank": "-1"})
    assert "排序须为" in client.get(res.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    first, second = db.session.get(Registration, regs[0].id), db.session.get(Registration, regs[1].id)
    assert (first.group_name, first.rank, second.group_name, second.rank) == ("第二代表团", 3, "第二代表团", 100)
    invitee = db.session.scalar(select(Invitee).where(Invitee.contact_id == first.contact_id))
    assert invitee.group_name == "第二代表团"
    from app.services.logistics.people import roster
    person = next(p for p in roster(data.meeting.id) if p.contact_id == first.contact_id)
    assert (person.group, person.rank, person.registration_id) == ("第二代表团", 3, first.id)


def test_forms_editor_refuses_hostile_input_writing_nothing(client, db, setup):
    data, _form, _regs = setup
    login_as(client, data, "owner")
    url = f"/admin/{data.meeting.code}/registration/forms"
    cases = [({"title": "<script>alert(1)</script>"}, "报名表名称不能超过"),
             ({"title": "甲", "deadline": "明天"}, "截止时间格式不正确"),
             ({"title": "乙", "access": "everyone"}, "报名方式只能是"),
             ({"title": "丙", "role": "皇帝"}, "参会身份不正确"),
             ({"title": "丁", "invite_code": "a b"}, "邀请码须为"),
             ({"title": "戊", "c_label_1": "选项", "c_kind_1": "choice", "c_options_1": ""}, "选项须为"),
             ({"title": "己", "c_label_1": "x\x07y", "c_kind_1": "text"}, "字段名称须为"),
             ({"title": "庚", "c_label_1": "文件", "c_kind_1": "exe"}, "自定义字段类型只能是"),
             ({"title": "代表报名"}, "已有同名的报名表")]
    before = db.session.scalar(select(func.count()).select_from(RegistrationForm))
    for values, message in cases:
        res = client.post(url, data={"role": "代表", "access": "code", **values})
        assert res.status_code == 302, values
        assert message in client.get(res.headers["Location"]).get_data(as_text=True), values
    assert db.session.scalar(select(func.count()).select_from(RegistrationForm)) == before


def test_detail_shows_answers_and_serves_files(client, db, setup):
    from PIL import Image

    from app.services.registration.uploads import Upload

    data, _form, _regs = setup
    png = io.BytesIO()
    Image.new("RGB", (24, 30), (0, 90, 200)).save(png, "PNG")
    form = forms.create_form(data.meeting, actor="t", title="带附件", invite_code="FILE2345", published=True,
                             fields=ALL_STANDARD + [{"key": "c1", "label": "推荐信", "kind": "file"},
                                                    {"key": "c2", "label": "发言题目", "kind": "text"}])
    reg = submit(data.meeting, form, [person(name="附件人", photo=Upload("me.png", png.getvalue()),
                                             c1=Upload("信.pdf", b"%PDF-1.4\n%%EOF\n"), c2="<不是标签>"[1:-1])],
                 caller=Caller("h5:files"), invite_code="FILE2345", unit_code=data.unit.code).registrations[0]
    db.session.commit()
    login_as(client, data, "staff")
    base = f"/admin/{data.meeting.code}/registration/{reg.id}"
    page = client.get(base).get_data(as_text=True)
    assert "附件人" in page and "推荐信" in page and "不是标签" in page and "查看文件" in page
    photo = client.get(f"{base}/files/photo")
    assert photo.status_code == 200 and photo.mimetype == "image/png" and photo.data == png.getvalue()
    letter = client.get(f"{base}/files/c1")
    assert letter.status_code == 200 and letter.mimetype == "application/pdf"
    assert "attachment" in letter.headers["Content-Disposition"]
    assert client.get(f"{base}/files/c2").status_code == 404  # a text answer is no file
    assert client.get(f"{base}/files/../../etc").status_code == 404
    other = _regs[0].id
    assert client.get(f"/admin/{data.meeting.code}/registration/{other}/files/photo").status_code == 404
