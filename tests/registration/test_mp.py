"""报名 in the mini program: forms with their fields, a batch submitted (per-person errors in JSON),
an upload checked by content, my registrations with refusal reasons; the ID number never in full."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import func, select

from app.services.registration import decide, forms
from models.registrations import Registration
from tests.mp.conftest import API, bearer, token_for
from tests.registration.conftest import ALL_STANDARD, id_number


@pytest.fixture
def mp(app, db, factory, reg_meeting, code_form):
    meeting, unit = reg_meeting
    identity = factory.identity(mp_openid="mp-reg-1", oa_openid=None)
    other = factory.identity(mp_openid="mp-reg-2", oa_openid=None)
    return {"meeting": meeting, "unit": unit, "form": code_form, "auth": bearer(token_for(app, identity)),
            "other": bearer(token_for(app, other))}


def test_forms_list_describes_fields(client, mp):
    res = client.get(f"{API}/meetings/{mp['meeting'].code}/registration/forms", headers=mp["auth"])
    assert res.status_code == 200
    (item,) = res.json["items"]
    assert item["title"] == "代表报名" and item["access"] == "code" and item["open"] and item["unit_fixed"]
    keys = {f["key"]: f for f in item["fields"]}
    assert "unit" not in keys and keys["gender"]["options"] == ["男", "女"] and keys["phone"]["required"]
    assert "invite_code" not in item  # the code is on the letter, not in the API


def test_submit_batch_then_mine(client, db, mp):
    meeting, unit, form = mp["meeting"], mp["unit"], mp["form"]
    number = id_number()
    body = {"invite_code": "hy2026ab", "unit_code": unit.code,
            "people": [{"name": "钱一", "phone": "13500001111", "id_number": number, "needs_room": True,
                        "diet": ["素食"], "gender": "男"},
                       {"name": "钱二", "phone": "13500002222"}]}
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}", json=body, headers=mp["auth"])
    assert res.status_code == 200, res.json
    assert res.json["status"] == "pending" and len(res.json["registrations"]) == 2
    assert number not in res.get_data(as_text=True)
    assert res.json["registrations"][0]["id_number_masked"] == f"{number[:6]}********{number[-4:]}"
    first = db.session.get(Registration, res.json["registrations"][0]["id"])
    assert first.submitted_by == "mp:mp-reg-1" and first.diet == ["素食"] and first.needs_room
    decide.refuse(meeting, [first.id], reason="请改由单位统一报名", actor="t")
    db.session.commit()
    mine = client.get(f"{API}/meetings/{meeting.code}/registration/mine", headers=mp["auth"]).json["items"]
    assert {m["name"]: m["status"] for m in mine} == {"钱一": "refused", "钱二": "pending"}
    assert next(m for m in mine if m["name"] == "钱一")["refusal_reason"] == "请改由单位统一报名"
    assert client.get(f"{API}/meetings/{meeting.code}/registration/mine", headers=mp["other"]).json["items"] == []


def test_batch_errors_in_json_nothing_written(client, db, mp):
    meeting, unit, form = mp["meeting"], mp["unit"], mp["form"]
    body = {"invite_code": "HY2026AB", "unit_code": unit.code,
            "people": [{"name": "好", "phone": "13500003333"}, {"name": "<b>坏</b>", "phone": "1", "gender": "?"}]}
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}", json=body, headers=mp["auth"])
    assert res.status_code == 400
    err = res.json["error"]
    assert err["code"] == "batch_invalid" and "报名信息有误" in err["message"]
    assert {(e["index"], e["field"], e["code"]) for e in err["errors"]} == {
        (1, "name", "text_markup"), (1, "phone", "phone_invalid"), (1, "gender", "choice_invalid")}
    assert db.session.scalar(select(func.count()).select_from(Registration)) == 0
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}",
                      json=dict(body, invite_code="WRONG"), headers=mp["auth"])
    assert res.status_code == 403 and res.json["error"]["code"] == "invite_code_invalid"
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}",
                      json={"people": "x"}, headers=mp["auth"])
    assert res.status_code == 422 and res.json["error"]["code"] == "invalid_input"
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/99999", json=body, headers=mp["auth"])
    assert res.status_code == 404 and res.json["error"]["code"] == "form_not_found"


def test_upload_then_submit_with_its_key(app, client, db, mp, reg_meeting):
    meeting, unit = mp["meeting"], mp["unit"]
    form = forms.create_form(meeting, actor="t", title="带照片", invite_code="PHOTO234", published=True,
                             fields=ALL_STANDARD + [{"key": "c1", "label": "附件", "kind": "file"}])
    db.session.commit()
    url = f"{API}/meetings/{meeting.code}/registration/files"
    bad = client.post(url, data={"kind": "photo", "file": (io.BytesIO(b"%PDF-1.4 x"), "a.jpg")},
                      headers=mp["auth"], content_type="multipart/form-data")
    assert bad.status_code == 400 and bad.json["error"]["code"] == "file_type_invalid"
    png = io.BytesIO()
    Image.new("RGB", (20, 20)).save(png, "PNG")
    res = client.post(url, data={"kind": "photo", "file": (io.BytesIO(png.getvalue()), "me.png")},
                      headers=mp["auth"], content_type="multipart/form-data")
    assert res.status_code == 200 and res.json["kind"] == "png"
    key = res.json["key"]
    body = {"invite_code": "PHOTO234", "unit_code": unit.code,
            "people": [{"name": "孙照", "phone": "13500004444", "photo": key}]}
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}", json=body, headers=mp["auth"])
    assert res.status_code == 200, res.json
    assert db.session.get(Registration, res.json["registrations"][0]["id"]).photo == key
    # a key naming a file of the wrong kind for the field (a PDF as the photo) is refused
    pdf = client.post(url, data={"kind": "file", "file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "a.pdf")},
                      headers=mp["auth"], content_type="multipart/form-data").json["key"]
    body["people"] = [{"name": "孙二", "phone": "13500005555", "photo": pdf}]
    res = client.post(f"{API}/meetings/{meeting.code}/registration/forms/{form.id}", json=body, headers=mp["auth"])
    assert res.status_code == 400 and res.json["error"]["errors"][0]["code"] == "file_type_invalid"


def test_needs_a_token(client, mp):
    res = client.get(f"{API}/meetings/{mp['meeting'].code}/registration/forms")
    assert res.status_code == 401 and res.json["error"]["code"] == "unauthorized"
