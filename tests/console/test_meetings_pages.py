"""The console's meeting pages over HTTP: the list, create, settings, state buttons, copy, sessions
and agenda, for the owner, staff, viewer and an outsider (who organizes for another unit)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.services.meetings.meetings import get_meeting
from app.services.signin.write import sign_in
from app.services.timeutil import local
from models import AuditLog, Meeting, MeetingSession, MeetingState
from tests.console.conftest import login_as
from tests.factories import ANCHOR


def _audit(db, action: str, meeting_id: int) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.action == action,
                                                          AuditLog.meeting_id == meeting_id)))


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _settings_form(meeting: Meeting, **changes) -> dict:
    form = {"title": meeting.title, "unit": meeting.organizing_unit.code if meeting.organizing_unit else "",
            "starts_date": local(meeting.starts_at).strftime("%Y-%m-%d"),
            "starts_time": local(meeting.starts_at).strftime("%H:%M"),
            "ends_date": local(meeting.ends_at).strftime("%Y-%m-%d"),
            "ends_time": local(meeting.ends_at).strftime("%H:%M"),
            "venue": meeting.venue, "intro": meeting.intro, "admission": meeting.admission,
            "presence": meeting.presence, "late_after_minutes": str(meeting.late_after_minutes),
            "rotating_qr_was": "1" if meeting.rotating_qr else "0"}
    if meeting.rotating_qr:
        form["rotating_qr"] = "1"
    if meeting.mask_names:
        form["mask_names"] = "1"
    form.update(changes)
    return form


# -- who may do what --------------------------------------------------------------------------------
def _routes(code: str) -> list[tuple[str, str, dict]]:
    return [
        ("get", f"/admin/{code}/settings", {}),
        ("post", f"/admin/{code}/settings", {"title": "改名"}),
        ("get", f"/admin/{code}/sessions", {}),
        ("post", f"/admin/{code}/sessions", {"starts_date": "2026-11-23", "starts_time": "14:00",
                                             "ends_time": "17:00"}),
        ("post", f"/admin/{code}/sessions/1", {"title": "改名"}),
        ("post", f"/admin/{code}/sessions/1/remove", {}),
        ("post", f"/admin/{code}/agenda", {"title": ["议程"]}),
        ("post", f"/admin/{code}/state/publish", {}),
        ("post", f"/admin/{code}/state/close", {}),
        ("post", f"/admin/{code}/state/archive", {}),
        ("post", f"/admin/{code}/state/reopen", {}),
        ("post", f"/admin/{code}/state/close_signin", {}),
        ("get", f"/admin/{code}/copy", {}),
        ("post", f"/admin/{code}/copy", {"starts_date": "2027-01-05", "starts_time": "09:00"}),
    ]


def test_outsider_is_refused_on_every_route(client, console, db):
    login_as(client, console, "outsider")
    before = _count(db, AuditLog)
    for method, url, data in _routes(console.meeting.code):
        res = getattr(client, method)(url, data=data)
        assert res.status_code == 403, (method, url, res.status_code)
    assert _count(db, AuditLog) == before
    assert get_meeting(console.meeting.code).title == "区委常委扩大会议"


@pytest.mark.parametrize("who", ["staff", "viewer"])
def test_staff_and_viewer_read_but_cannot_change(client, console, db, who):
    login_as(client, console, who)
    code = console.meeting.code
    settings = client.get(f"/admin/{code}/settings")
    assert settings.status_code == 200
    html = settings.get_data(as_text=True)
    assert "只能查看设置" in html and "<fieldset class=\"plain\" disabled>" in html
    assert "保存设置" not in html and "发布会议" not in html and "结束会议" not in html
    sessions = client.get(f"/admin/{code}/sessions").get_data(as_text=True)
    assert "添加场次" not in sessions and "保存议程" not in sessions and "第 1 场" in sessions
    for method, url, data in _routes(code):
        if method == "post":
            assert client.post(url, data=data).status_code == 403, url
    assert client.get(f"/admin/{code}/copy").status_code == 403


def test_owner_edits_settings_of_a_published_meeting_and_is_told_nobody_was_notified(client, console, db):
    login_as(client, console, "owner")
    meeting = console.meeting
    page = client.get(f"/admin/{meeting.code}/settings").get_data(as_text=True)
    assert "系统不会自动通知参会人员" in page and "保存设置" in page and "结束会议" in page
    later = local(meeting.starts_at + timedelta(hours=1))
    res = client.post(f"/admin/{meeting.code}/settings", data=_settings_form(
        meeting, venue="区政府二楼会议室", starts_time=later.strftime("%H:%M"),
        starts_date=later.strftime("%Y-%m-%d"),
        ends_date=local(meeting.ends_at + timedelta(hours=1)).strftime("%Y-%m-%d"),
        ends_time=local(meeting.ends_at + timedelta(hours=1)).strftime("%H:%M")), follow_redirects=True)
    assert res.status_code == 200
    html = res.get_data(as_text=True)
    assert "已保存" in html and "系统不会自动通知参会人员" in html
    assert "已通知" not in html and "已发送" not in html
    m = get_meeting(meeting.code)
    assert m.venue == "区政府二楼会议室"
    changed = _audit(db, "meeting.changed", m.id)
    assert len(changed) == 1 and changed[0].data["after"]["venue"] == "区政府二楼会议室"
    assert changed[0].data["notified"] is False


def test_saving_untouched_forms_changes_nothing(client, console, db):
    meeting = console.meeting
    meeting.intro = "一、传达精神\n二、部署工作"
    # Times off the whole minute (as the factory's usually are; not when it starts a meeting at
    # midnight): the forms show minutes, and saving them untouched must not count as a change.
    odd = timedelta(seconds=17, microseconds=250)
    meeting.starts_at, meeting.ends_at = meeting.starts_at + odd, meeting.ends_at + odd
    for session in meeting.sessions:
        for attr in ("starts_at", "ends_at", "signin_opens_at", "signin_closes_at"):
            setattr(session, attr, getattr(session, attr) + odd)
    db.session.commit()
    login_as(client, console, "owner")
    form = _settings_form(meeting, intro="一、传达精神\r\n二、部署工作")  # as a browser sends a textarea
    res = client.post(f"/admin/{meeting.code}/settings", data=form, follow_redirects=True)
    assert "没有需要保存的修改" in res.get_data(as_text=True)
    s = meeting.sessions[0]
    when = {f"{p}_{k}": local(getattr(s, attr)).strftime(fmt) for p, attr in (
        ("starts", "starts_at"), ("ends", "ends_at"), ("opens", "signin_opens_at"), ("closes", "signin_closes_at"))
        for k, fmt in (("date", "%Y-%m-%d"), ("time", "%H:%M"))}
    client.post(f"/admin/{meeting.code}/sessions/1", data={"title": s.title} | when)
    assert _audit(db, "meeting.update", meeting.id) == [] and _audit(db, "session.update", meeting.id) == []


def test_a_partial_post_changes_only_what_it_names(client, console, db):
    meeting = console.meeting
    meeting.venue, meeting.mask_names = "礼堂", True
    db.session.commit()
    login_as(client, console, "owner")
    assert client.post(f"/admin/{meeting.code}/settings", data={"title": "区委常委会"}).status_code == 302
    m = get_meeting(meeting.code)
    assert (m.title, m.venue, m.mask_names) == ("区委常委会", "礼堂", True)
    assert set(_audit(db, "meeting.update", m.id)[0].data["changes"]) == {"title"}


def test_refused_settings_show_what_was_typed_and_write_nothing(client, console, db):
    login_as(client, console, "owner")
    meeting = console.meeting
    res = client.post(f"/admin/{meeting.code}/settings", data=_settings_form(
        meeting, venue="新地点", late_after_minutes="九十"))
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert "迟到判定须为 0–240 之间的整数" in html and 'value="新地点"' in html
    assert get_meeting(meeting.code).venue == meeting.venue
    assert _audit(db, "meeting.update", meeting.id) == []


def test_settings_switch_on_the_rotating_code_with_scan_only(client, console, db):
    login_as(client, console, "owner")
    meeting = console.meeting
    res = client.post(f"/admin/{meeting.code}/settings", data=_settings_form(meeting, presence="scan"),
                      follow_redirects=True)
    assert "已同时开启大屏动态二维码" in res.get_data(as_text=True)
    m = get_meeting(meeting.code)
    assert m.presence == "scan" and m.rotating_qr is True
    # Unticked on purpose afterwards: it stays off.
    res = client.post(f"/admin/{meeting.code}/settings",
                      data={k: v for k, v in _settings_form(m).items() if k != "rotating_qr"})
    assert res.status_code == 302
    assert get_meeting(meeting.code).rotating_qr is False


# -- the list ---------------------------------------------------------------------------------------
def test_list_shows_only_meetings_with_a_right_and_the_new_button_to_unit_organizers(client, console, factory, db):
    other = factory.meeting("ZZB1", title="组织部务会")
    other.unit_id = console.other_unit.id
    db.session.commit()
    login_as(client, console, "owner")
    html = client.get("/admin").get_data(as_text=True)
    assert "区委常委扩大会议" in html and "组织部务会" not in html
    assert "新建会议" in html
    login_as(client, console, "staff")
    html = client.get("/admin").get_data(as_text=True)
    assert "区委常委扩大会议" in html and "会务人员" in html
    assert "新建会议" not in html
    login_as(client, console, "outsider")
    html = client.get("/admin").get_data(as_text=True)
    assert "组织部务会" in html and "区委常委扩大会议" not in html


def test_list_counts_invitees_signins_and_sessions(client, console, db):
    meeting = console.meeting
    sign_in(meeting, meeting.sessions[0], console.people[0], method="scan", check_window=False)
    login_as(client, console, "owner")
    html = client.get("/admin").get_data(as_text=True)
    nums = re.findall(r"<dt>(应邀|已签到|场次)[^<]*(?:<small>[^<]*</small>)?</dt><dd>(\d+)</dd>", html)
    assert nums == [("应邀", "4"), ("已签到", "1"), ("场次", "1")]


def test_stranger_sees_a_helpful_empty_list_and_cannot_create(client, console):
    login_as(client, console, "stranger")
    res = client.get("/admin")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "您目前没有可以管理的会议" in html and "联系系统管理员" in html
    assert "新建会议" not in html
    assert client.get("/admin/new").status_code == 403
    assert client.post("/admin/new", data={"title": "会"}).status_code == 403


def test_search_and_archived_filter(client, console, factory, db):
    old = factory.meeting("OLD1", title="去年的年度总结会", starts_at=ANCHOR - timedelta(days=400))
    old.unit_id = console.unit.id
    old.state = MeetingState.ARCHIVED
    db.session.commit()
    login_as(client, console, "owner")
    assert "去年的年度总结会" not in client.get("/admin").get_data(as_text=True)
    assert "去年的年度总结会" in client.get("/admin?state=archived").get_data(as_text=True)
    found = client.get("/admin?q=常委").get_data(as_text=True)
    assert "区委常委扩大会议" in found
    none = client.get("/admin?q=不存在的会").get_data(as_text=True)
    assert "没有符合条件的会议" in none and "区委常委扩大会议" not in none
    assert "区委常委扩大会议" in client.get("/admin?q=con1").get_data(as_text=True)  # by code, any case
    assert client.get("/admin?q=%25").status_code == 200  # a LIKE wildcard is searched as text


def test_query_count_does_not_grow_with_meetings(client, console, factory, db):
    from sqlalchemy import event

    login_as(client, console, "owner")

    def queries() -> int:
        db.session.commit()  # each count starts from the same state: nothing loaded
        seen = []
        engine = db.session.get_bind()

        def count(*_args):
            seen.append(1)

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert client.get("/admin").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    one = queries()
    for i in range(6):
        m = factory.meeting(f"QC{i}", title=f"会议{i}", starts_at=ANCHOR + timedelta(days=i + 1))
        m.unit_id = console.unit.id
        factory.invitee(m, console.people[0])
    assert queries() == one


# -- create -----------------------------------------------------------------------------------------
def test_create_a_meeting_lands_on_its_settings(client, console, db):
    login_as(client, console, "owner")
    assert "区委办公室" in client.get("/admin/new").get_data(as_text=True)
    res = client.post("/admin/new", data={"title": "  全区安全生产工作会议 ", "unit": "BGS",
                                          "starts_date": "2026-12-10", "starts_time": "09:30",
                                          "ends_time": "11:30", "venue": "三楼会议室", "admission": "units"})
    assert res.status_code == 302
    code = res.headers["Location"].split("/")[2]
    assert res.headers["Location"] == f"/admin/{code}/settings"
    m = get_meeting(code)
    assert m.title == "全区安全生产工作会议" and m.unit_id == console.unit.id and m.state == "draft"
    assert m.admission == "units" and len(m.sessions) == 1
    assert local(m.starts_at).strftime("%Y-%m-%d %H:%M") == "2026-12-10 09:30"
    assert local(m.ends_at).strftime("%Y-%m-%d %H:%M") == "2026-12-10 11:30"
    assert re.fullmatch(r"[A-Z2-9]{6}", code)
    created = _audit(db, "meeting.create", m.id)
    assert created[0].actor == f"contact:{console.owner.id}"
    assert client.get(f"/admin/{code}/settings").status_code == 200


@pytest.mark.parametrize(("changes", "message"), [
    ({"title": " "}, "请填写会议名称"),
    ({"unit": "ZZB"}, "不是“区委组织部”的会议组织者"),
    ({"unit": ""}, "请选择主办单位"),
    ({"starts_time": "25:00"}, "时间格式不正确"),
    ({"ends_time": "08:00"}, "结束时间必须晚于开始时间"),
    ({"code": "login"}, "系统保留字"),
    ({"code": "CON1"}, "会议代码已存在"),
    ({"code": "坏代码"}, "会议代码只能包含"),
    ({"admission": "everyone"}, "签到范围只能是"),
])
def test_create_refusals_keep_the_form_and_write_nothing(client, console, db, changes, message):
    login_as(client, console, "owner")
    before = _count(db, Meeting)
    data = {"title": "全区会议", "unit": "BGS", "starts_date": "2026-12-10", "starts_time": "09:30",
            "ends_time": "11:30", "venue": "礼堂"} | changes
    res = client.post("/admin/new", data=data)
    assert res.status_code == 422
    html = res.get_data(as_text=True)
    assert message in html and 'value="礼堂"' in html
    assert _count(db, Meeting) == before


# -- state and copy ---------------------------------------------------------------------------------
def test_state_buttons_walk_the_lifecycle_and_archived_leaves_the_list(client, console, db):
    login_as(client, console, "owner")
    code = console.meeting.code
    res = client.post(f"/admin/{code}/state/publish", follow_redirects=True)
    assert "会议当前为“已发布”" in res.get_data(as_text=True)
    res = client.post(f"/admin/{code}/state/close", follow_redirects=True)
    assert "会议已结束" in res.get_data(as_text=True)
    assert get_meeting(code).state == "closed"
    client.post(f"/admin/{code}/state/archive")
    assert get_meeting(code).state == "archived"
    assert "区委常委扩大会议" not in client.get("/admin").get_data(as_text=True)
    settings = client.get(f"/admin/{code}/settings").get_data(as_text=True)
    assert "已归档" in settings and "保存设置" not in settings


def test_close_signin_button(client, console, db):
    login_as(client, console, "owner")
    code = console.meeting.code
    res = client.post(f"/admin/{code}/state/close_signin", follow_redirects=True)
    assert "已截止签到（1 个场次）" in res.get_data(as_text=True)
    session = get_meeting(code).sessions[0]
    assert session.signin_closes_at <= session.ends_at


def test_copy_page_makes_a_draft_for_the_owner(client, console, db):
    login_as(client, console, "owner")
    code = console.meeting.code
    page = client.get(f"/admin/{code}/copy").get_data(as_text=True)
    assert "同时复制参会人员名单（4 人" in page
    res = client.post(f"/admin/{code}/copy", data={"starts_date": "2027-01-05", "starts_time": "09:00",
                                                   "unit": "BGS", "with_invitees": "1"})
    assert res.status_code == 302
    new_code = res.headers["Location"].split("/")[2]
    copy = get_meeting(new_code)
    assert copy.title == "区委常委扩大会议（副本）" and copy.state == "draft"
    assert local(copy.starts_at).strftime("%Y-%m-%d %H:%M") == "2027-01-05 09:00"
    res = client.post(f"/admin/{code}/copy", data={"starts_date": "", "starts_time": ""})
    assert res.status_code == 422 and "请填写新会议的开始时间" in res.get_data(as_text=True)


# -- sessions and agenda ----------------------------------------------------------------------------
def test_owner_adds_edits_and_removes_sessions(client, console, db):
    login_as(client, console, "owner")
    meeting = console.meeting
    code = meeting.code
    day = local(meeting.starts_at).strftime("%Y-%m-%d")
    res = client.post(f"/admin/{code}/sessions", data={"title": "下午全体会议", "starts_date": day,
                                                       "starts_time": "23:00", "ends_time": "23:50"},
                      follow_redirects=True)
    assert "已添加第 2 场：下午全体会议" in res.get_data(as_text=True)
    m = get_meeting(code)
    second = m.sessions[1]
    assert second.signin_opens_at == second.starts_at - timedelta(hours=2)
    assert second.signin_closes_at == second.ends_at
    res = client.post(f"/admin/{code}/sessions/2", data={
        "title": "下午第二次全体会议", "starts_date": day, "starts_time": "22:00", "ends_time": "23:30",
        "opens_date": day, "opens_time": "21:00", "closes_date": day, "closes_time": "23:30"},
        follow_redirects=True)
    assert "已保存第 2 场" in res.get_data(as_text=True)
    assert get_meeting(code).sessions[1].title == "下午第二次全体会议"
    bad = client.post(f"/admin/{code}/sessions/2", data={"starts_date": day, "starts_time": "22:00",
                                                         "ends_time": "21:00"}, follow_redirects=True)
    assert "场次结束时间必须晚于开始时间" in bad.get_data(as_text=True)
    res = client.post(f"/admin/{code}/sessions/2/remove", follow_redirects=True)
    assert "已删除第 2 场" in res.get_data(as_text=True)
    assert [s.position for s in get_meeting(code).sessions] == [1]
    res = client.post(f"/admin/{code}/sessions/1/remove", follow_redirects=True)
    assert "不能删除最后一场" in res.get_data(as_text=True)
    assert client.post(f"/admin/{code}/sessions/9/remove").status_code == 404


def test_session_with_signins_cannot_be_removed_over_http(client, console, db):
    meeting = console.meeting
    session = MeetingSession(position=2, title="下午", starts_at=meeting.starts_at, ends_at=meeting.ends_at,
                             signin_opens_at=meeting.starts_at - timedelta(hours=2), signin_closes_at=meeting.ends_at)
    meeting.sessions.append(session)
    db.session.flush()
    sign_in(meeting, session, console.people[0], method="scan", check_window=False)
    login_as(client, console, "owner")
    page = client.get(f"/admin/{meeting.code}/sessions").get_data(as_text=True)
    assert "已签到 1 人" in page and "已有签到记录，不能删除" in page
    res = client.post(f"/admin/{meeting.code}/sessions/2/remove", follow_redirects=True)
    assert "已有 1 条签到记录，不能删除" in res.get_data(as_text=True)
    assert len(get_meeting(meeting.code).sessions) == 2


def test_agenda_editor_saves_rows_in_order_and_keeps_them_on_error(client, console, db):
    login_as(client, console, "owner")
    code = console.meeting.code
    rows = {"time": ["9:00", "", "1030", ""], "title": ["开幕", "分组讨论", "总结讲话", ""],
            "speaker": ["王书记", "", "李区长", ""], "place": ["", "各分会场", "", ""]}
    res = client.post(f"/admin/{code}/agenda", data=rows, follow_redirects=True)
    assert "议程已保存（3 项）" in res.get_data(as_text=True)
    assert get_meeting(code).agenda == [
        {"time": "09:00", "title": "开幕", "speaker": "王书记", "place": ""},
        {"time": "", "title": "分组讨论", "speaker": "", "place": "各分会场"},
        {"time": "10:30", "title": "总结讲话", "speaker": "李区长", "place": ""}]
    bad = {"time": ["9:00", "晚上"], "title": ["开幕式改", "闭幕"], "speaker": ["", ""], "place": ["", ""]}
    res = client.post(f"/admin/{code}/agenda", data=bad)
    html = res.get_data(as_text=True)
    assert res.status_code == 422 and "议程第 2 行" in html and 'value="开幕式改"' in html
    assert get_meeting(code).agenda[0]["title"] == "开幕"


def test_attendee_page_shows_the_agenda_place(client, console, db, factory):
    from app.services.meetings.sessions import set_agenda

    set_agenda(console.meeting, [{"time": "09:00", "title": "开幕", "speaker": "王书记", "place": "大礼堂"}],
               actor="test")
    db.session.commit()
    login_as(client, console, "owner")
    html = client.get(f"/m/{console.meeting.code}").get_data(as_text=True)
    assert "开幕" in html and "大礼堂" in html
