"""The door page over HTTP: who may see and act (staff yes; viewer and outsiders no), forms that
post/redirect/get, errors shown on the page with nothing half-written, everything escaped."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.identity.binding import bind, get_or_create_identity
from models import Admission, Contact, Invitee, Leave, SignIn, WechatIdentity
from tests.console.conftest import login_as

ACTIONS = [("guest", {"name": "来宾", "phone": "13912345678"}),
           ("walk-ins/1/approve", {}), ("walk-ins/1/refuse", {"reason": "不符"}),
           ("unbind", {"contact_id": "1", "reason": "换手机", "confirmed": "1"}),
           ("leave", {"contact_id": "1", "reason": "出差", "approver": "王主任"}), ("leave/1/cancel", {})]


def _flashes(client, res) -> str:
    assert res.status_code == 302
    return client.get(res.headers["Location"]).get_data(as_text=True)


@pytest.mark.parametrize("who", ["viewer", "outsider", "stranger"])
def test_only_staff_and_owners_reach_the_door(client, console, who):
    code = console.meeting.code
    login_as(client, console, who)
    assert client.get(f"/admin/{code}/door").status_code == 403
    for path, form in ACTIONS:
        assert client.post(f"/admin/{code}/door/{path}", data=form).status_code == 403, path
    assert client.get(f"/admin/{code}/log").status_code == (200 if who == "viewer" else 403)


def test_anonymous_visitors_are_sent_to_log_in(client, console):
    assert client.get(f"/admin/{console.meeting.code}/door").status_code == 302
    assert client.post(f"/admin/{console.meeting.code}/door/guest").status_code == 302


@pytest.mark.parametrize("who", ["staff", "owner"])
def test_staff_see_the_door_page(client, console, who):
    login_as(client, console, who)
    html = client.get(f"/admin/{console.meeting.code}/door").get_data(as_text=True)
    for text in ("待审核", "添加临时人员", "解绑微信", "请假", "现场处理", 'name="csrf_token"'):
        assert text in html
    assert "参会0" in html  # the leave picker lists the expected people


def test_guest_form_signs_in_and_redirects_back(db, client, console):
    login_as(client, console, "staff")
    res = client.post(f"/admin/{console.meeting.code}/door/guest",
                      data={"name": "<b>周</b>来宾", "phone": "13912345678", "unit_text": "<i>市财政局</i>",
                            "role": "列席"})
    assert res.headers["Location"].endswith("#guest")
    page = _flashes(client, res)
    assert "&lt;b&gt;周&lt;/b&gt;来宾 已签到（第 1 位）" in page and "<b>周</b>" not in page
    guest = db.session.scalar(select(Contact).where(Contact.phone == "13912345678"))
    assert db.session.scalar(select(SignIn.method).where(SignIn.contact_id == guest.id)) == "manual"


def test_guest_of_a_closed_meeting_is_refused_and_nothing_is_kept(db, client, console):
    console.meeting.state = "closed"
    db.session.commit()
    login_as(client, console, "staff")
    page = _flashes(client, client.post(f"/admin/{console.meeting.code}/door/guest",
                                        data={"name": "来宾", "phone": "13912345678"}))
    assert "会议已结束" in page
    assert db.session.scalar(select(func.count()).select_from(Contact).where(Contact.phone == "13912345678")) == 0
    assert db.session.scalar(select(func.count()).select_from(Invitee).where(
        Invitee.meeting_id == console.meeting.id)) == 4


def test_bad_guest_input_is_a_message_not_an_error_page(db, client, console):
    login_as(client, console, "staff")
    page = _flashes(client, client.post(f"/admin/{console.meeting.code}/door/guest",
                                        data={"name": "来宾", "phone": "12345"}))
    assert "请填写正确的 11 位手机号" in page


def test_walk_ins_are_listed_approved_and_refused_from_the_page(db, client, console, factory):
    meeting = console.meeting
    meeting.admission = Admission.APPROVAL
    a = factory.contact(console.other_unit, name="申请甲", phone="13700000001")
    b = factory.contact(console.other_unit, name="申请乙", phone="13700000002")
    requests = [Invitee(meeting_id=meeting.id, contact_id=c.id, status="pending") for c in (a, b)]
    db.session.add_all(requests)
    db.session.commit()
    login_as(client, console, "staff")
    html = client.get(f"/admin/{meeting.code}/door").get_data(as_text=True)
    assert "申请甲" in html and "137****0001" in html and "13700000001" not in html

    page = _flashes(client, client.post(f"/admin/{meeting.code}/door/walk-ins/{requests[1].id}/refuse",
                                        data={"reason": ""}))
    assert "请填写拒绝原因" in page
    page = _flashes(client, client.post(f"/admin/{meeting.code}/door/walk-ins/{requests[1].id}/refuse",
                                        data={"reason": "非受邀单位"}))
    assert "已拒绝 申请乙" in page
    page = _flashes(client, client.post(f"/admin/{meeting.code}/door/walk-ins/{requests[0].id}/approve"))
    assert "已通过" in page and "申请甲 已签到" in page
    statuses = dict(db.session.execute(select(Invitee.contact_id, Invitee.status).where(
        Invitee.id.in_([r.id for r in requests]))).all())
    assert statuses == {a.id: "approved", b.id: "rejected"}


def test_unbind_from_the_page_needs_the_tick(db, client, console):
    person = console.people[0]
    identity = get_or_create_identity(oa_openid="o-person")
    bind(identity, unit_text=person.unit.name, name=person.name, phone=person.phone, ip=None)
    db.session.commit()
    login_as(client, console, "staff")
    found = client.get(f"/admin/{console.meeting.code}/door?q={person.name}").get_data(as_text=True)
    assert "已绑定微信" in found and "已当面核对身份" in found
    url = f"/admin/{console.meeting.code}/door/unbind"
    page = _flashes(client, client.post(url, data={"contact_id": person.id, "reason": "换手机", "q": person.name}))
    assert "勾选「已核对身份」" in page
    assert db.session.get(WechatIdentity, identity.id).contact_id == person.id
    res = client.post(url, data={"contact_id": person.id, "reason": "换手机", "confirmed": "1", "q": person.name})
    assert "#unbind" in res.headers["Location"] and "q=" in res.headers["Location"]
    page = _flashes(client, res)
    assert f"已解除 {person.name} 的微信绑定" in page and "未绑定微信" in page
    assert db.session.get(WechatIdentity, identity.id).contact_id is None


def test_leave_from_the_page(db, client, console):
    person = console.people[2]
    login_as(client, console, "staff")
    url = f"/admin/{console.meeting.code}/door/leave"
    assert "请填写批准人" in _flashes(client, client.post(url, data={"contact_id": person.id, "reason": "出差"}))
    assert "找不到该人员" in _flashes(client, client.post(url, data={"contact_id": "x", "reason": "出差",
                                                                   "approver": "王主任"}))
    page = _flashes(client, client.post(url, data={"contact_id": person.id, "reason": "<script>出差</script>",
                                                   "approver": "王主任"}))
    assert f"已登记 {person.name} 请假" in page and "&lt;script&gt;出差&lt;/script&gt;" in page
    numbers = client.get(f"/admin/{console.meeting.code}/numbers.json").json
    assert (numbers["expected"], numbers["leave"]) == (3, 1) and numbers["on_leave"][0]["id"] == person.id
    page = _flashes(client, client.post(f"/admin/{console.meeting.code}/door/leave/{person.id}/cancel"))
    assert f"已取消 {person.name} 的请假" in page
    assert db.session.scalar(select(func.count()).select_from(Leave)) == 0
