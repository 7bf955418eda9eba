"""A meeting's organizers: the list with the organizing unit's implicit owners, adding, changing a
right, removing, the guard against locking oneself out, and who may do it."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.meetings import organizers as svc
from models import AuditLog, Organizer, OrganizerRight
from tests.console.conftest import login_as


def right_of(db, meeting, contact) -> str | None:
    return db.session.scalar(select(Organizer.right).where(Organizer.meeting_id == meeting.id,
                                                           Organizer.contact_id == contact.id))


# -- service ---------------------------------------------------------------------------------------

def test_list_shows_meeting_organizers_and_the_units_owners(db, console):
    people = svc.list_organizers(console.meeting)
    assert [(o["name"], o["right"]) for o in people["explicit"]] == [("会务李", "staff"), ("只读赵", "viewer")]
    assert [(o["name"], o["right"]) for o in people["implicit"]] == [("主办王", "owner")]


def test_set_change_and_remove_are_audited(db, console):
    meeting = console.meeting
    svc.set_organizer(meeting, console.stranger, OrganizerRight.VIEWER, actor="contact:1")
    svc.set_organizer(meeting, console.stranger, OrganizerRight.OWNER, actor="contact:1")
    assert right_of(db, meeting, console.stranger) == "owner"
    svc.remove_organizer(meeting, console.stranger, actor="contact:1")
    assert right_of(db, meeting, console.stranger) is None
    log = db.session.scalars(select(AuditLog).where(AuditLog.target == f"contact:{console.stranger.id}")
                             .order_by(AuditLog.id)).all()
    assert [(e.action, e.data.get("right"), e.data.get("before")) for e in log] == [
        ("organizer.set", "viewer", None), ("organizer.set", "owner", "viewer"), ("organizer.remove", None, "owner")]
    with pytest.raises(svc.OrganizerError) as err:
        svc.remove_organizer(meeting, console.stranger, actor="test")
    assert err.value.code == "organizer_not_found"
    with pytest.raises(svc.OrganizerError) as err:
        svc.set_organizer(meeting, console.stranger, "admin", actor="test")
    assert err.value.code == "right_invalid"


def test_an_owner_cannot_demote_or_remove_themselves(db, console):
    meeting = console.meeting
    svc.set_organizer(meeting, console.stranger, OrganizerRight.OWNER, actor="test")
    db.session.commit()
    for attempt in (lambda: svc.set_organizer(meeting, console.stranger, OrganizerRight.STAFF, actor="x",
                                              acting=console.stranger),
                    lambda: svc.remove_organizer(meeting, console.stranger, actor="x", acting=console.stranger)):
        with pytest.raises(svc.OrganizerError) as err:
            attempt()
        assert err.value.code == "self_lockout" and "管理会务人员" in err.value.message
        db.session.rollback()
        assert right_of(db, meeting, console.stranger) == "owner"
    # Another owner may; a unit organizer keeps owning the meeting through the unit.
    svc.set_organizer(meeting, console.stranger, OrganizerRight.STAFF, actor="x", acting=console.owner)
    svc.set_organizer(meeting, console.owner, OrganizerRight.VIEWER, actor="x", acting=console.owner)
    svc.remove_organizer(meeting, console.owner, actor="x", acting=console.owner)
    assert svc.organizer_right(meeting, console.owner) == "owner"


# -- HTTP ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("who,read,write", [("owner", 200, 302), ("staff", 200, 403), ("viewer", 200, 403),
                                            ("outsider", 403, 403), ("stranger", 403, 403)])
def test_who_may_read_and_change(client, db, console, who, read, write):
    login_as(client, console, who)
    code = console.meeting.code
    assert client.get(f"/admin/{code}/organizers").status_code == read
    res = client.post(f"/admin/{code}/organizers/set", data={"phone": console.people[0].phone, "right": "viewer"})
    assert res.status_code == write
    res = client.post(f"/admin/{code}/organizers/remove", data={"contact_id": console.viewer.id})
    assert res.status_code == write
    if write == 403:
        assert right_of(db, console.meeting, console.people[0]) is None
        assert right_of(db, console.meeting, console.viewer) == "viewer"


def test_page_lists_both_kinds_and_owner_controls(client, console):
    login_as(client, console, "owner")
    html = client.get(f"/admin/{console.meeting.code}/organizers").get_data(as_text=True)
    for text in ("会务李", "只读赵", "主办单位负责人（区委办公室）", "主办王", "添加会务人员", "移除",
                 console.staff.phone):
        assert text in html, text
    login_as(client, console, "viewer")
    html = client.get(f"/admin/{console.meeting.code}/organizers").get_data(as_text=True)
    assert "添加会务人员" not in html and "organizers/remove" not in html and "organizers/set" not in html
    assert console.staff.phone not in html


def test_owner_adds_by_phone_or_pick_changes_and_removes(client, db, console):
    login_as(client, console, "owner")
    code = console.meeting.code
    res = client.post(f"/admin/{code}/organizers/set", data={"phone": console.people[0].phone, "right": "viewer"})
    assert res.status_code == 302
    assert "权限已设为“只读”" in client.get(res.headers["Location"]).get_data(as_text=True)
    client.post(f"/admin/{code}/organizers/set", data={"contact_id": console.stranger.id, "right": "owner"})
    assert right_of(db, console.meeting, console.stranger) == "owner"
    client.post(f"/admin/{code}/organizers/set", data={"contact_id": console.staff.id, "right": "viewer"})
    assert right_of(db, console.meeting, console.staff) == "viewer"
    client.post(f"/admin/{code}/organizers/remove", data={"contact_id": console.viewer.id})
    assert right_of(db, console.meeting, console.viewer) is None
    actors = {e.actor for e in db.session.scalars(select(AuditLog).where(
        AuditLog.action.in_(["organizer.set", "organizer.remove"]), AuditLog.actor != "test"))}
    assert actors == {f"contact:{console.owner.id}"}


@pytest.mark.parametrize("data,message", [
    ({"phone": "12345"}, "手机号格式不正确"),
    ({"phone": "13999999999"}, "通讯录中找不到"),
    ({}, "请先搜索并选择人员"),
    ({"contact_id": "999999"}, "通讯录中找不到该人员"),
    ({"phone": "", "contact_id": "x", "right": "boss"}, "请先搜索并选择人员"),
])
def test_bad_input_is_shown_and_nothing_changes(client, db, console, data, message):
    login_as(client, console, "owner")
    before = db.session.scalars(select(Organizer.contact_id).where(Organizer.meeting_id == console.meeting.id)).all()
    res = client.post(f"/admin/{console.meeting.code}/organizers/set", data=data)
    assert res.status_code == 302
    assert message in client.get(res.headers["Location"]).get_data(as_text=True)
    after = db.session.scalars(select(Organizer.contact_id).where(Organizer.meeting_id == console.meeting.id)).all()
    assert sorted(after) == sorted(before)


def test_a_meeting_owner_is_told_why_they_cannot_demote_themselves(client, db, console):
    svc.set_organizer(console.meeting, console.stranger, OrganizerRight.OWNER, actor="test")
    db.session.commit()
    login_as(client, console, "stranger")
    res = client.post(f"/admin/{console.meeting.code}/organizers/set",
                      data={"contact_id": console.stranger.id, "right": "staff"})
    assert "修改后您将无法再管理会务人员" in client.get(res.headers["Location"]).get_data(as_text=True)
    assert right_of(db, console.meeting, console.stranger) == "owner"
    res = client.post(f"/admin/{console.meeting.code}/organizers/remove", data={"contact_id": console.stranger.id})
    assert right_of(db, console.meeting, console.stranger) == "owner"
    assert not db.session.scalars(select(AuditLog).where(AuditLog.actor == f"contact:{console.stranger.id}")).all()
