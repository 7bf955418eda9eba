"""An approved registrant binds their WeChat at the first scan through the normal flow (scan →
bind link → unit + name + phone) and is signed in: added to the 报名人员 unit, or found in their own."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.registration import decide
from app.services.registration.submit import Caller, submit
from models import SignIn, WechatIdentity
from tests.h5.conftest import form_value, reply_link, scan
from tests.registration.conftest import person


def _bind_by_scan(client, sim, meeting, openid: str, *, unit_text: str, name: str, phone: str):
    reply = scan(sim, openid, meeting)
    assert "首次签到需核对身份" in reply.text
    page = client.get(reply_link(reply.text)).get_data(as_text=True)
    return client.post("/m/bind", data={"t": form_value(page, "t"), "unit_text": unit_text, "name": name,
                                        "phone": phone})


@pytest.mark.parametrize("typed_unit", ["own_name", "own_alias", "registration_unit"])
def test_new_registrant_binds_at_first_scan(db, client, sim, factory, reg_meeting, code_form, typed_unit):
    meeting, unit = reg_meeting
    out = submit(meeting, code_form, [person(name="赵报名", phone="13722223333")], caller=Caller("h5:bind"),
                 invite_code="HY2026AB", unit_code=unit.code)
    decide.approve(meeting, [out.registrations[0].id], actor="t")
    reg = out.registrations[0]
    unit_text = {"own_name": unit.name, "own_alias": "发改局",
                 "registration_unit": f"{meeting.title}报名人员"}[typed_unit]
    res = _bind_by_scan(client, sim, meeting, f"o-reg-{typed_unit}", unit_text=unit_text, name="赵报名",
                        phone="13722223333")
    assert res.status_code == 302 and res.headers["Location"].startswith(f"/m/{meeting.code}/done")
    identity = db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == f"o-reg-{typed_unit}"))
    assert identity.contact_id == reg.contact_id
    assert db.session.scalar(select(SignIn.contact_id)) == reg.contact_id


def test_registrant_already_in_own_unit_binds_as_themself(db, client, sim, factory, reg_meeting, code_form):
    meeting, unit = reg_meeting
    known = factory.contact(unit, name="钱在册", phone="13733334444")
    out = submit(meeting, code_form, [person(name="钱在册", phone="13733334444")], caller=Caller("h5:bind2"),
                 invite_code="HY2026AB", unit_code=unit.code)
    decide.approve(meeting, [out.registrations[0].id], actor="t")
    assert out.registrations[0].contact_id == known.id
    res = _bind_by_scan(client, sim, meeting, "o-known", unit_text="发改局", name="钱在册", phone="13733334444")
    assert res.status_code == 302
    assert db.session.scalar(select(SignIn.contact_id)) == known.id


def test_open_form_outsider_binds_with_the_unit_they_typed(db, client, sim, reg_meeting):
    from app.services.registration import forms
    meeting, _unit = reg_meeting
    form = forms.create_form(meeting, actor="t", title="公开报名", access="open", published=True)
    out = submit(meeting, form, [person(name="孙外来", phone="13744445555", unit="某某科技有限公司")],
                 caller=Caller("h5:open"))
    decide.approve(meeting, [out.registrations[0].id], actor="t")
    res = _bind_by_scan(client, sim, meeting, "o-outsider", unit_text="某某科技有限公司", name="孙外来",
                        phone="13744445555")
    assert res.status_code == 302
    assert db.session.scalar(select(SignIn.contact_id)) == out.registrations[0].contact_id


def test_pending_registrant_is_not_on_the_list(db, client, sim, reg_meeting, code_form):
    meeting, unit = reg_meeting
    submit(meeting, code_form, [person(name="周待审", phone="13755556666")], caller=Caller("h5:p"),
           invite_code="HY2026AB", unit_code=unit.code)
    res = _bind_by_scan(client, sim, meeting, "o-pending", unit_text=unit.name, name="周待审", phone="13755556666")
    assert db.session.scalar(select(SignIn.id)) is None
    assert res.status_code >= 400 or "/done" not in res.headers.get("Location", "")
