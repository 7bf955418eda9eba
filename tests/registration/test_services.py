"""Registration services: access modes, deadline, cap, all-or-nothing batches, approval."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.services.registration import decide, forms, query
from app.services.registration.errors import RegistrationError
from app.services.registration.submit import Caller, submit
from models import AuditLog, Contact, Invitee, Unit
from models.registrations import Registration
from tests.factories import clock
from tests.registration.conftest import person


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Registration))


def test_code_form_batch_of_five_fixes_the_unit(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    people = [person(unit="随便写的单位") for _ in range(5)]
    out = submit(meeting, code_form, people, caller=Caller("h5:office"), invite_code="hy2026ab", unit_code=unit.code)
    assert out.status == "pending" and len(out.registrations) == 5
    assert {r.unit_id for r in out.registrations} == {unit.id}
    assert {r.unit_name for r in out.registrations} == {unit.name}
    assert len({r.batch for r in out.registrations}) == 1


@pytest.mark.parametrize("code,unit_code", [("WRONG123", None), ("HY2026AB", "NOPE"), ("", "")])
def test_code_form_refuses_wrong_code_or_unit(db, reg_meeting, code_form, code, unit_code):
    meeting, unit = reg_meeting
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [person()], caller=Caller("h5:x"), invite_code=code,
               unit_code=unit.code if unit_code is None else unit_code)
    assert exc.value.code == "invite_code_invalid" and exc.value.status == 403
    assert _count(db) == 0


def test_invitees_form_needs_an_invitee(db, factory, reg_meeting):
    meeting, unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="受邀", access="invitees", published=True)
    stranger = factory.contact(unit)
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, form, [person()], caller=Caller("contact:x", contact=stranger))
    assert exc.value.code == "not_invitee"
    with pytest.raises(RegistrationError):
        submit(meeting, form, [person()], caller=Caller("h5:anon"))
    invited = factory.contact(unit)
    factory.invitee(meeting, invited)
    out = submit(meeting, form, [person()], caller=Caller(f"contact:{invited.id}", contact=invited))
    assert out.registrations[0].unit_id == unit.id


def test_open_form_is_always_pending_and_asks_the_unit(db, reg_meeting):
    meeting, _unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="公开", access="open", needs_approval=False,
                             published=True)
    assert form.needs_approval is True
    assert "unit" in [f["key"] for f in form.fields]
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, form, [person()], caller=Caller("h5:o"))
    assert exc.value.errors[0]["field"] == "unit" and exc.value.errors[0]["code"] == "required"
    out = submit(meeting, form, [person(unit="某某科技有限公司")], caller=Caller("h5:o"))
    assert out.status == "pending" and out.registrations[0].unit_id is None
    assert out.registrations[0].unit_name == "某某科技有限公司"


def test_draft_form_and_deadline(db, reg_meeting):
    meeting, unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="草稿", invite_code="DRAFT123")
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, form, [person()], caller=Caller("h5:d"), invite_code="DRAFT123", unit_code=unit.code)
    assert exc.value.code == "form_closed"
    forms.publish_form(form, meeting, actor="test")
    forms.update_form(form, meeting, actor="test", deadline=clock() - timedelta(minutes=1))
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, form, [person()], caller=Caller("h5:d"), invite_code="DRAFT123", unit_code=unit.code)
    assert exc.value.code == "deadline_passed"
    forms.update_form(form, meeting, actor="test", deadline=clock() + timedelta(hours=1))
    submit(meeting, form, [person()], caller=Caller("h5:d"), invite_code="DRAFT123", unit_code=unit.code)


def test_batch_all_or_nothing_with_every_error(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    people = [person(), person(phone="12345"), person(gender="未知", arrival="2026-13-01"), person()]
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, people, caller=Caller("h5:b"), invite_code="HY2026AB", unit_code=unit.code)
    assert exc.value.code == "batch_invalid" and exc.value.status == 400
    got = {(e["index"], e["field"], e["code"]) for e in exc.value.errors}
    assert got == {(1, "phone", "phone_invalid"), (2, "gender", "choice_invalid"), (2, "arrival", "date_invalid")}
    assert all(e["message"] for e in exc.value.errors)
    assert _count(db) == 0


def test_duplicate_phone_in_batch_and_meeting(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    first = person()
    submit(meeting, code_form, [first], caller=Caller("h5:p"), invite_code="HY2026AB", unit_code=unit.code)
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [person(), dict(first, name="另一个人")], caller=Caller("h5:p"),
               invite_code="HY2026AB", unit_code=unit.code)
    assert [(e["index"], e["code"]) for e in exc.value.errors] == [(1, "phone_registered")]
    assert first["phone"] in exc.value.errors[0]["message"]
    same = person()
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [same, dict(same, name="重复")], caller=Caller("h5:p"),
               invite_code="HY2026AB", unit_code=unit.code)
    assert [(e["index"], e["code"]) for e in exc.value.errors] == [(1, "phone_duplicate")]
    assert _count(db) == 1


def test_cap(db, reg_meeting):
    meeting, unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="限额", invite_code="CAP12345", cap=3, published=True)
    submit(meeting, form, [person(), person()], caller=Caller("h5:c"), invite_code="CAP12345", unit_code=unit.code)
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, form, [person(), person()], caller=Caller("h5:c"), invite_code="CAP12345",
               unit_code=unit.code)
    assert exc.value.code == "cap_reached" and "剩余 1" in exc.value.message
    out = submit(meeting, form, [person()], caller=Caller("h5:c"), invite_code="CAP12345", unit_code=unit.code)
    # A refused registration gives its place back.
    decide.refuse(meeting, [out.registrations[0].id], reason="名额调整", actor="test")
    submit(meeting, form, [person()], caller=Caller("h5:c"), invite_code="CAP12345", unit_code=unit.code)


def test_rate_limited_per_caller(db, reg_meeting, code_form, monkeypatch):
    meeting, unit = reg_meeting
    monkeypatch.setattr("app.services.registration.submit.PER_CALLER", 2)
    for _ in range(2):
        with pytest.raises(RegistrationError):
            submit(meeting, code_form, [person()], caller=Caller("h5:spam"), invite_code="BAD00000",
                   unit_code=unit.code)
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [person()], caller=Caller("h5:spam"), invite_code="HY2026AB", unit_code=unit.code)
    assert exc.value.code == "rate_limited" and exc.value.status == 429
    submit(meeting, code_form, [person()], caller=Caller("h5:other"), invite_code="HY2026AB", unit_code=unit.code)


def test_approval_adds_contact_to_registration_unit_and_invites(db, factory, reg_meeting, code_form):
    meeting, unit = reg_meeting
    known = factory.contact(unit, name="王五", phone="13911112222")
    out = submit(meeting, code_form, [person(name="王五", phone="13911112222", group="第一代表团"),
                                      person(name="新人", group="第一代表团")],
                 caller=Caller("h5:a"), invite_code="HY2026AB", unit_code=unit.code)
    ids = [r.id for r in out.registrations]
    assert decide.approve(meeting, ids, actor="contact:1") == {"approved": 2, "skipped": 0}
    first, second = out.registrations
    assert first.contact_id == known.id and first.status == "approved"
    added = db.session.get(Contact, second.contact_id)
    reg_unit = db.session.get(Unit, added.unit_id)
    assert reg_unit.registration_meeting_id == meeting.id
    assert reg_unit.code == f"R{meeting.code}" and reg_unit.name == f"{meeting.title}报名人员"
    assert unit.name in reg_unit.aliases and "发改局" in reg_unit.aliases
    for reg in out.registrations:
        inv = db.session.scalar(select(Invitee).where(Invitee.meeting_id == meeting.id,
                                                      Invitee.contact_id == reg.contact_id))
        assert (inv.role, inv.group_name, inv.status) == ("代表", "第一代表团", "approved")
    # again: nothing changes, the same unit serves the next approval
    assert decide.approve(meeting, ids, actor="contact:1") == {"approved": 0, "skipped": 2}
    assert decide.registration_unit(meeting).id == reg_unit.id


def test_auto_approval_when_form_needs_none(db, reg_meeting):
    meeting, unit = reg_meeting
    form = forms.create_form(meeting, actor="test", title="免审", invite_code="AUTO2345", needs_approval=False,
                             published=True, role="列席")
    out = submit(meeting, form, [person()], caller=Caller("h5:auto"), invite_code="AUTO2345", unit_code=unit.code)
    assert out.status == "approved" and out.registrations[0].contact_id is not None
    inv = db.session.scalar(select(Invitee).where(Invitee.contact_id == out.registrations[0].contact_id))
    assert inv.role == "列席"


def test_refuse_tag_and_filters(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    out = submit(meeting, code_form, [person(gender="女", needs_room="1", diet=["清真"], arrival=None),
                                      person(gender="男"), person(name="张三丰")],
                 caller=Caller("h5:f"), invite_code="HY2026AB", unit_code=unit.code)
    a, b, c = out.registrations
    with pytest.raises(RegistrationError) as exc:
        decide.refuse(meeting, [b.id], reason="  ", actor="t")
    assert exc.value.code == "refuse_reason_missing"
    for bad, code in (("x" * 201, "refuse_reason_too_long"), ("<script>", "refuse_reason_invalid"),
                      ("原因\x00", "refuse_reason_invalid")):
        with pytest.raises(RegistrationError) as exc:
            decide.refuse(meeting, [b.id], reason=bad, actor="t")
        assert exc.value.code == code
    for bad, code in (("", "tag_invalid"), ("<b>", "tag_invalid"), ("x" * 17, "tag_invalid")):
        with pytest.raises(RegistrationError) as exc:
            decide.tag(meeting, [b.id], bad, actor="t")
        assert exc.value.code == code
    decide.refuse(meeting, [b.id], reason="非本单位人员", actor="t")
    assert b.status == "refused" and b.decision_note == "非本单位人员"
    decide.tag(meeting, [a.id, c.id], "主席团", actor="t")
    decide.tag(meeting, [c.id], "主席团", actor="t", remove=True)
    F = query.Filters.parse
    assert [r.id for r in query.list_registrations(meeting, F({"status": "refused"})).rows] == [b.id]
    assert [r.id for r in query.list_registrations(meeting, F({"tag": "主席团"})).rows] == [a.id]
    assert [r.id for r in query.list_registrations(meeting, F({"gender": "女"})).rows] == [a.id]
    assert [r.id for r in query.list_registrations(meeting, F({"needs_room": "1"})).rows] == [a.id]
    assert [r.id for r in query.list_registrations(meeting, F({"diet": "清真"})).rows] == [a.id]
    assert [r.id for r in query.list_registrations(meeting, F({"q": "张三"})).rows] == [c.id]
    assert [r.id for r in query.list_registrations(meeting, F({"q": c.phone[-6:]})).rows] == [c.id]
    assert query.list_registrations(meeting, F({"unit": unit.name[:4]})).total == 3
    assert query.list_registrations(meeting, F({"form_id": str(code_form.id)})).total == 3
    for bad in ({"status": "x"}, {"gender": "?"}, {"arrival": "2026-02-30"}, {"form_id": "1e9"}, {"diet": "肉"}):
        with pytest.raises(RegistrationError):
            F(bad)


def test_decisions_only_on_own_meeting(db, factory, reg_meeting, code_form):
    meeting, unit = reg_meeting
    out = submit(meeting, code_form, [person()], caller=Caller("h5:m"), invite_code="HY2026AB", unit_code=unit.code)
    other = factory.meeting()
    with pytest.raises(RegistrationError) as exc:
        decide.approve(other, [out.registrations[0].id], actor="t")
    assert exc.value.code == "registration_not_found"
    with pytest.raises(RegistrationError):
        forms.get_form(other, code_form.id)


def test_form_checks(db, reg_meeting):
    meeting, _unit = reg_meeting
    forms.create_form(meeting, actor="test", title="甲", invite_code="SAME2345")
    cases = [
        (dict(title=""), "form_title_missing"), (dict(title="x" * 65), "form_title_too_long"),
        (dict(title="甲"), "form_title_taken"), (dict(title="乙", invite_code="same-2345"), "form_code_taken"),
        (dict(title="丙", role="老板"), "form_role_invalid"), (dict(title="丁", access="all"), "form_access_invalid"),
        (dict(title="戊", invite_code="短"), "form_code_invalid"), (dict(title="己", cap=0), "form_cap_invalid"),
        (dict(title="庚", fields=[{"key": "c1", "kind": "choice", "label": "选项", "options": []}]),
         "form_fields_invalid"),
        (dict(title="辛", fields=[{"key": "evil"}]), "form_fields_invalid"),
        (dict(title="壬", fields=[{"key": "c1", "kind": "text", "label": "<b>"}]), "form_fields_invalid"),
    ]
    for kwargs, code in cases:
        with pytest.raises(RegistrationError) as exc:
            forms.create_form(meeting, actor="test", **kwargs)
        assert exc.value.code == code, kwargs
    generated = forms.create_form(meeting, actor="test", title="生成码")
    assert len(generated.invite_code) == 8 and not set(generated.invite_code) & set("01OIL")
    assert [f["key"] for f in generated.fields][:2] == ["name", "unit"] or "phone" in [f["key"] for f in generated.fields]


def test_audit_rows_written(db, reg_meeting, code_form):
    meeting, unit = reg_meeting
    out = submit(meeting, code_form, [person()], caller=Caller("h5:au"), invite_code="HY2026AB", unit_code=unit.code)
    decide.approve(meeting, [out.registrations[0].id], actor="contact:9")
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.meeting_id == meeting.id)))
    assert {"registration.form_create", "registration.submit", "registration.approve"} <= actions


def test_phone_taken_between_check_and_insert(db, reg_meeting, code_form, monkeypatch):
    """Another form's submission registers the phone after our check: the unique key refuses ours,
    answered with the phone, and nothing of our batch is written."""
    from app.services.registration import submit as submit_module

    meeting, unit = reg_meeting
    other = forms.create_form(meeting, actor="t", title="另一表", invite_code="OTHR2345", published=True)
    real = submit_module._check_batch

    def racing(*args, **kwargs):
        out = real(*args, **kwargs)
        monkeypatch.setattr(submit_module, "_check_batch", real)
        submit(meeting, other, [person(phone="13987654321")], caller=Caller("h5:racer"), invite_code="OTHR2345",
               unit_code=unit.code)
        return out

    monkeypatch.setattr(submit_module, "_check_batch", racing)
    with pytest.raises(RegistrationError) as exc:
        submit(meeting, code_form, [person(), person(phone="13987654321")], caller=Caller("h5:slow"),
               invite_code="HY2026AB", unit_code=unit.code)
    assert exc.value.code == "phone_registered" and "13987654321" in exc.value.message
    assert _count(db) == 1  # the racer's only
