"""The H5 registration pages (/r/<code>): forms list, a unit office's batch, inline errors, result,
my registrations, CSRF."""

from __future__ import annotations

import io

from sqlalchemy import func, select

from app.services.registration import decide, forms
from models.registrations import Registration
from tests.registration.conftest import id_number


def _post_batch(client, meeting, form, unit, people, **extra):
    data = {"invite_code": "HY2026AB", "unit_code": unit.code, **extra}
    for i, p in enumerate(people):
        for key, value in p.items():
            data[f"p-{i}-{key}"] = value
    return client.post(f"/r/{meeting.code}/f/{form.id}", data=data, content_type="multipart/form-data")


def test_forms_list_and_form_page(client, reg_meeting, code_form):
    meeting, _unit = reg_meeting
    forms.create_form(meeting, actor="t", title="草稿不显示", invite_code="DRAFT999")
    page = client.get(f"/r/{meeting.code}").get_data(as_text=True)
    assert "代表报名" in page and "草稿不显示" not in page and "我的报名" in page
    res = client.get(f"/r/{meeting.code}/f/{code_form.id}")
    body = res.get_data(as_text=True)
    assert res.status_code == 200
    assert 'name="invite_code"' in body and 'name="unit_code"' in body and 'name="p-0-name"' in body
    assert 'id="person-template"' in body and 'name="p-__i__-phone"' in body
    assert 'name="p-0-unit"' not in body  # the unit number fixes the unit
    assert 'name="csrf_token"' in body and "registration_form.js" in body


def test_unit_office_registers_five_then_sees_them(client, db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    people = [{"name": f"代表{i}", "phone": f"1360000{i:04d}", "gender": "女" if i % 2 else "男",
               "needs_room": "1", "diet": "清真" if i == 0 else ""} for i in range(5)]
    res = _post_batch(client, meeting, code_form, unit, people)
    assert res.status_code == 302 and "/done/" in res.headers["Location"]
    done = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "报名已提交" in done and "共 5 人" in done and "待审核" in done and "代表4" in done
    rows = db.session.scalars(select(Registration).order_by(Registration.id)).all()
    assert len(rows) == 5 and rows[0].diet == ["清真"] and all(r.needs_room for r in rows)
    assert {r.submitted_by for r in rows} == {rows[0].submitted_by} and rows[0].submitted_by.startswith("h5:")
    decide.refuse(meeting, [rows[1].id], reason="人数超出分配名额", actor="t")
    mine = client.get(f"/r/{meeting.code}/mine").get_data(as_text=True)
    assert "代表0" in mine and "未通过原因：人数超出分配名额" in mine
    # another browser sees none of it, and cannot open the batch
    other = client.application.test_client()
    assert "代表0" not in other.get(f"/r/{meeting.code}/mine").get_data(as_text=True)
    assert other.get(res.headers["Location"]).status_code == 404


def test_inline_errors_in_chinese_nothing_written(client, db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    people = [{"name": "好人", "phone": "13600001111"},
              {"name": "<script>alert(1)</script>", "phone": "123", "id_number": id_number()[:-1] + "Z"}]
    res = _post_batch(client, meeting, code_form, unit, people)
    body = res.get_data(as_text=True)
    assert res.status_code == 400
    assert "报名信息有误" in body and "手机号格式不正确" in body and "不能包含 &lt; 或 &gt;" in body
    assert "不是有效的居民身份证号" in body
    assert "<script>alert(1)</script>" not in body  # echoed escaped, never as markup
    assert 'value="好人"' in body  # the good person's values stay typed
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_wrong_code_and_upload_checks(client, db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    res = _post_batch(client, meeting, code_form, unit, [{"name": "甲", "phone": "13600002222"}], invite_code="NOPE")
    assert res.status_code == 403 and "邀请码或单位编号不正确" in res.get_data(as_text=True)
    data = {"invite_code": "HY2026AB", "unit_code": unit.code, "p-0-name": "乙", "p-0-phone": "13600003333",
            "p-0-photo": (io.BytesIO(b"%PDF-1.4 fake"), "photo.jpg")}
    res = client.post(f"/r/{meeting.code}/f/{code_form.id}", data=data, content_type="multipart/form-data")
    assert res.status_code == 400 and "证件照只接受 JPG、PNG 图片" in res.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0


def test_unknown_form_and_meeting(client, reg_meeting, code_form, factory):
    meeting, _unit = reg_meeting
    other = factory.meeting()
    assert client.get(f"/r/{other.code}/f/{code_form.id}").status_code == 404
    assert client.get("/r/NOSUCH").status_code == 404
    assert client.get(f"/r/{meeting.code}/f/99999999999").status_code == 404
    assert client.get(f"/r/{meeting.code}/done/zzz").status_code == 404


def test_csrf_required(app, client, reg_meeting, code_form, monkeypatch):
    meeting, unit = reg_meeting
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    res = _post_batch(client, meeting, code_form, unit, [{"name": "丙", "phone": "13600004444"}])
    assert res.status_code == 400 and "页面已过期" in res.get_data(as_text=True)


def test_invitees_form_and_own_id_reveal(app, client, db, factory, reg_meeting):
    from app.web.auth import SESSION_KEY

    meeting, unit = reg_meeting
    form = forms.create_form(meeting, actor="t", title="受邀报名", access="invitees", needs_approval=False,
                             published=True, fields=[{"key": "id_number", "required": True}])
    me = factory.contact(unit, name="吴受邀", phone="13600005555")
    factory.invitee(meeting, me)
    identity = factory.identity(me)
    db.session.commit()
    # not logged in (a plain browser): refused, nothing written
    res = client.post(f"/r/{meeting.code}/f/{form.id}", data={"p-0-name": "吴受邀", "p-0-phone": "13600005555",
                                                              "p-0-id_number": id_number()})
    assert res.status_code == 403 and "仅限受邀人员" in res.get_data(as_text=True)
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id
    number = id_number("19880808")
    res = client.post(f"/r/{meeting.code}/f/{form.id}", data={"p-0-name": "吴受邀", "p-0-phone": "13600005555",
                                                              "p-0-id_number": number})
    assert res.status_code == 302
    reg = db.session.scalar(select(Registration))
    assert reg.status == "approved" and reg.contact_id == me.id and reg.submitted_by == f"wx:{identity.oa_openid}"
    page = client.get(f"/r/{meeting.code}/mine").get_data(as_text=True)
    assert number not in page and reg.id_masked in page and "显示本人完整身份证号" in page
    res = client.post(f"/r/{meeting.code}/mine/{reg.id}/id")
    assert number in res.get_data(as_text=True) and res.headers["Cache-Control"] == "no-store"
    # someone else (another browser, even knowing the id) never sees it
    other = app.test_client()
    res = other.post(f"/r/{meeting.code}/mine/{reg.id}/id")
    assert res.status_code == 403 and number not in res.get_data(as_text=True)
