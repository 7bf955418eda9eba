"""The exceptions at the door, as services: guests, walk-ins held for approval, unbinding a WeChat,
and 代签 of someone who left the directory."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.identity.binding import IdentityError, bind, get_or_create_identity
from app.services.signin import door
from app.services.signin.rules import SignInError, get_session
from app.services.signin.write import sign_in
from models import (
    Admission,
    AuditLog,
    Contact,
    Invitee,
    SignIn,
    SignInDenial,
    SignInMethod,
    Unit,
    WechatIdentity,
)
from tests.h5.conftest import form_value, reply_link, scan


def _count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_guest_is_added_invited_and_signed_in_once(db, console):
    meeting, staff = console.meeting, console.staff
    session = get_session(meeting)
    done = door.add_guest(meeting, session, name=" 周 来宾 ", phone="139-1234-5678", unit_text="市财政局",
                          role="列席", note="随王局长参会", actor=staff)
    guest = done.contact
    assert done.signin.created and done.signin.seq == 1 and done.existing is None
    assert (guest.unit.code, guest.unit.name, guest.phone, guest.department) == ("LINSHI", "临时人员", "13912345678",
                                                                               "市财政局")
    invitee = db.session.scalar(select(Invitee).where(Invitee.meeting_id == meeting.id,
                                                      Invitee.contact_id == guest.id))
    assert (invitee.status, invitee.role, invitee.note) == ("approved", "列席", "随王局长参会")
    record = db.session.scalar(select(SignIn).where(SignIn.contact_id == guest.id))
    assert (record.method, record.actor_contact_id) == (SignInMethod.MANUAL, staff.id)
    audit = db.session.scalar(select(AuditLog).where(AuditLog.action == "door.guest"))
    assert audit.meeting_id == meeting.id and audit.target == f"contact:{guest.id}" and audit.data["created"]

    # The same guest again (another staff member, a double tap): the same person, still one sign-in.
    again = door.add_guest(meeting, session, name="周来宾", phone="13912345678", actor=console.owner)
    assert again.contact.id == guest.id and not again.signin.created and again.signin.seq == 1
    assert _count(db, SignIn, SignIn.contact_id == guest.id) == 1
    assert _count(db, Contact, Contact.phone == "13912345678") == 1
    assert _count(db, Unit, Unit.code == "LINSHI") == 1


def test_guest_whose_phone_is_in_the_directory_is_that_person(db, console, factory):
    meeting = console.meeting
    known = factory.contact(console.other_unit, name="组织部钱", phone="13600001111")
    done = door.add_guest(meeting, get_session(meeting), name="钱先生", phone="13600001111", actor=console.staff)
    assert done.contact.id == known.id and done.signin.created
    assert "组织部钱" in done.existing and "区委组织部" in done.existing
    assert _count(db, Unit, Unit.code == "LINSHI") == 0
    # An invitee keeps the role they were invited with.
    leader = console.people[0]
    db.session.execute(Invitee.__table__.update().where(Invitee.contact_id == leader.id).values(role="领导"))
    door.add_guest(meeting, get_session(meeting), name=leader.name, phone=leader.phone, role="列席",
                   actor=console.staff)
    assert db.session.scalar(select(Invitee.role).where(Invitee.contact_id == leader.id)) == "领导"


@pytest.mark.parametrize(("fields", "code"), [
    ({"name": "", "phone": "13912345678"}, "guest_name_missing"),
    ({"name": "来宾", "phone": "1391234"}, "guest_phone_invalid"),
    ({"name": "来宾", "phone": "010-12345678"}, "guest_phone_invalid"),
    ({"name": "来宾", "phone": "13912345678", "role": "嘉宾"}, "role_invalid"),
    ({"name": "来宾", "phone": "13912345678", "note": "长" * 201}, "too_long"),
])
def test_guest_bad_input_is_refused_before_anything_is_written(db, console, fields, code):
    before = _count(db, Contact)
    with pytest.raises(door.DoorError) as err:
        door.add_guest(console.meeting, get_session(console.meeting), actor=console.staff, **fields)
    assert err.value.code == code and err.value.message
    assert _count(db, Contact) == before


def test_guest_of_a_closed_meeting_is_refused_as_a_door_error(db, console):
    console.meeting.state = "closed"
    with pytest.raises(door.DoorError) as err:
        door.add_guest(console.meeting, get_session(console.meeting), name="来宾", phone="13912345678",
                       actor=console.staff)
    # Not a recorded refusal: the boundary rolls back the contact and the invitation with it.
    assert err.value.code == "signin_refused" and err.value.message == "会议已结束" and not err.value.commit_anyway


@pytest.fixture
def walk_in(db, console, factory):
    """A person of an "open with approval" meeting who tried to sign in: held for approval."""
    console.meeting.admission = Admission.APPROVAL
    person = factory.contact(console.other_unit, name="路过孙")
    db.session.commit()
    with pytest.raises(SignInError) as err:
        sign_in(console.meeting, get_session(console.meeting), person, method=SignInMethod.H5)
    assert err.value.code == "pending_approval"
    db.session.commit()  # the boundary keeps the recorded refusal and the request it filed
    return person


def test_walk_in_is_listed_then_approved_and_signed_in(db, console, walk_in):
    meeting = console.meeting
    pending = door.pending_walk_ins(meeting)
    assert [p.contact_id for p in pending] == [walk_in.id]
    outcome = door.approve_walk_in(meeting, get_session(meeting), pending[0].id, actor=console.staff, note="核实为联络员")
    assert outcome.created and outcome.record.method == SignInMethod.MANUAL
    invitee = db.session.get(Invitee, pending[0].id)
    assert (invitee.status, invitee.decided_by, invitee.decision_note) == (
        "approved", f"contact:{console.staff.id}", "核实为联络员")
    assert door.pending_walk_ins(meeting) == []
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.action == "door.walk_in_approve"))
    with pytest.raises(door.DoorError) as err:  # the other desk decided a moment later
        door.refuse_walk_in(meeting, invitee.id, actor=console.owner, reason="重复")
    assert err.value.code == "walk_in_decided" and err.value.status == 409


def test_walk_in_refused_keeps_the_reason_and_the_person_hears_it(db, console, walk_in):
    meeting = console.meeting
    request_id = door.pending_walk_ins(meeting)[0].id
    with pytest.raises(door.DoorError) as err:
        door.refuse_walk_in(meeting, request_id, actor=console.staff, reason="  ")
    assert err.value.code == "refuse_reason_missing"
    door.refuse_walk_in(meeting, request_id, actor=console.staff, reason="非本次会议人员")
    invitee = db.session.get(Invitee, request_id)
    assert (invitee.status, invitee.decision_note) == ("rejected", "非本次会议人员")
    db.session.commit()
    with pytest.raises(SignInError) as again:
        sign_in(meeting, get_session(meeting), walk_in, method=SignInMethod.H5)
    assert again.value.code == "approval_rejected"
    with pytest.raises(door.DoorError) as missing:
        door.approve_walk_in(meeting, get_session(meeting), 999999, actor=console.staff)
    assert missing.value.code == "walk_in_not_found"


def test_unbind_needs_confirmation_and_reason_and_keeps_the_identity(db, console):
    person = console.people[0]
    old = get_or_create_identity(oa_openid="o-old-phone")
    bind(old, unit_text=person.unit.name, name=person.name, phone=person.phone, ip=None)
    for confirmed, reason, code in [(False, "换手机", "unbind_unconfirmed"), (True, " ", "unbind_reason_missing")]:
        with pytest.raises(IdentityError) as err:
            door.unbind_person(console.meeting, person.id, actor=console.staff, reason=reason, confirmed=confirmed)
        assert err.value.code == code
    assert old.contact_id == person.id
    door.unbind_person(console.meeting, person.id, actor=console.staff, reason="换手机", confirmed=True)
    kept = db.session.get(WechatIdentity, old.id)
    assert kept is not None and kept.oa_openid == "o-old-phone" and kept.contact_id is None and kept.bound_at is None
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "identity.unbind"))
    assert (entry.actor, entry.meeting_id, entry.target) == (f"contact:{console.staff.id}", console.meeting.id,
                                                           f"contact:{person.id}")
    assert entry.data["identity_id"] == old.id and entry.data["reason"] == "换手机"
    with pytest.raises(IdentityError) as err:
        door.unbind_person(console.meeting, person.id, actor=console.staff, reason="再来", confirmed=True)
    assert err.value.code == "not_bound" and err.value.status == 409


def test_after_unbinding_the_new_wechat_binds_by_the_normal_first_scan(db, client, sim, console):
    person, meeting = console.people[0], console.meeting
    bind(get_or_create_identity(oa_openid="o-old-phone"), unit_text=person.unit.name, name=person.name,
         phone=person.phone, ip=None)
    db.session.commit()
    fields = {"unit_text": person.unit.name, "name": person.name, "phone": person.phone}

    # The new phone's first scan: the binding is refused as a wrong identity is (a stranger must not
    # learn the person is real), and the message says where to go.
    link = reply_link(scan(sim, "o-new-phone", meeting).text)
    refused = client.post("/m/bind", data={"t": form_value(client.get(link).get_data(as_text=True), "t"), **fields})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "换了微信" in text and "签到处" in text

    door.unbind_person(meeting, person.id, actor=console.staff, reason="换手机", confirmed=True)
    db.session.commit()
    sim.clock.advance(2)
    link = reply_link(scan(sim, "o-new-phone", meeting).text)
    res = client.post("/m/bind", data={"t": form_value(client.get(link).get_data(as_text=True), "t"), **fields})
    assert res.status_code == 302 and res.headers["Location"].startswith(f"/m/{meeting.code}/done")
    new = db.session.scalar(select(WechatIdentity).where(WechatIdentity.oa_openid == "o-new-phone"))
    assert new.contact_id == person.id
    assert db.session.scalar(select(SignIn.method).where(SignIn.contact_id == person.id)) == "h5"


def test_proxy_of_a_deactivated_person_tells_the_organizer(db, console):
    person = console.people[1]
    person.active = False
    session = get_session(console.meeting)
    with pytest.raises(SignInError) as staff_side:
        sign_in(console.meeting, session, person, method=SignInMethod.PROXY, actor=console.staff,
                check_window=False)
    assert staff_side.value.code == "contact_inactive"
    assert staff_side.value.message == "该人员已不在通讯录中（已停用），不能代签"
    with pytest.raises(SignInError) as own:  # the person's own attempt still speaks to them
        sign_in(console.meeting, session, person, method=SignInMethod.H5)
    assert own.value.message.startswith("您已不在通讯录中")
    assert _count(db, SignInDenial, SignInDenial.contact_id == person.id) == 2


def test_find_people_matches_invitees_loosely_and_the_directory_exactly(db, console, factory):
    meeting = console.meeting
    invited = console.people[0]
    outsider = factory.contact(console.other_unit, name="参会之外", phone="13511112222")
    assert [p.id for p in door.find_people(meeting, invited.name[:2])] == [p.id for p in console.people]
    tail = door.find_people(meeting, invited.phone[-4:])
    assert invited.id in [p.id for p in tail] and outsider.id not in [p.id for p in tail]
    assert door.find_people(meeting, "参会之") == []  # part of a name outside the meeting: nothing
    found = door.find_people(meeting, "参会之外")
    assert [p.id for p in found] == [outsider.id] and found[0].invitee_status is None
    by_phone = door.find_people(meeting, "135 1111 2222")
    assert [p.id for p in by_phone] == [outsider.id] and by_phone[0].phone_masked == "135****2222"
    staff = door.find_people(meeting, console.staff.name)[0]
    assert staff.bound and staff.bound_at is not None
    assert door.find_people(meeting, "") == [] and door.find_people(meeting, "%") == []
