"""The roster logistics reads: a registrant is of the unit they registered under."""

from __future__ import annotations

from app.services.logistics.people import roster
from app.services.registration import decide, forms
from app.services.registration.submit import Caller, submit


def test_a_registrant_added_to_the_registration_unit_keeps_their_own_unit(db, factory):
    meeting = factory.meeting(title="全区经济工作会议")
    unit = factory.unit("FGJX", "区发展和改革局")
    form = forms.create_form(meeting, actor="t", title="代表报名", role="代表", access="code", invite_code="HY2026AB",
                             needs_approval=True, published=True,
                             fields=[{"key": k, "required": True} for k in ("name", "phone", "gender")])
    out = submit(meeting, form, [{"name": "陈国栋", "phone": "13600100001", "gender": "男"},
                                 {"name": "林晓红", "phone": "13600100002", "gender": "女"}],
                 caller=Caller("h5:test"), invite_code="HY2026AB", unit_code="FGJX")
    decide.approve(meeting, [r.id for r in out.registrations], actor="test")
    db.session.flush()
    people = roster(meeting.id)
    assert [(p.name, p.unit_name, p.unit_id, p.gender, p.role) for p in people] == [
        ("林晓红", "区发展和改革局", unit.id, "女", "代表"), ("陈国栋", "区发展和改革局", unit.id, "男", "代表")]
