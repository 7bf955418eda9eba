"""The service card on a phone (390×844) in real Chromium: it fits, its numbers are tap-to-call,
its venue has a map link; screenshots go to test-artifacts/service-card-*.png to be looked at."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width


@pytest.fixture
def card_meeting(committed_db):
    from app.services.cards import store
    from app.services.meetings.sessions import set_agenda
    from app.services.timeutil import local
    from models import OrganizerRight
    from tests.factories import Factory

    f = Factory(committed_db)
    unit = f.unit("RDCW", "省人大常委会办公厅")
    m = f.meeting("CARDWEB", title="省第十四届人民代表大会第三次会议", venue="省人民大会堂", hours=3)
    zhang = f.contact(unit, name="张建国", phone="13800138001")
    f.invitee(m, zhang, group_name="杭州代表团", seat="3 排 12 号")
    start = local(m.starts_at)
    rows = [("全体会议（开幕）", "大礼堂", 0), ("分组讨论政府工作报告", "3 楼第二会议室", 50), ("午餐", "2 楼宴会厅", 110),
            ("代表团全体会议", "3 楼第二会议室", 140), ("闭幕", "大礼堂", 175)]
    set_agenda(m, [{"time": f"{(start + timedelta(minutes=d)):%H:%M}", "title": t, "place": p} for t, p, d in rows],
               actor="test")
    store.set_fields(m, "meeting", None, {"map_url": "https://map.example/venue", "duty_phone": "0571-8700 1234",
                                          "meal_name": "午餐", "meal_time": "11:50–13:00"}, actor="test")
    store.set_fields(m, "group", "杭州代表团", {"room": "3 楼第二会议室", "meal_place": "2 楼宴会厅",
                                            "liaison_name": "周晓燕", "liaison_phone": "139 0571 2233",
                                            "bus_route": "西湖宾馆 → 省人民大会堂", "bus_time": "07:40"}, actor="test")
    store.set_fields(m, "person", zhang.id, {"meal_table": "12", "bus_car": "3 号车", "hotel_name": "西湖宾馆",
                                             "hotel_room": "1208"}, actor="test")
    identity = f.identity(zhang)
    owner = f.contact(unit, name="会务王")
    from models import Organizer
    committed_db.session.add(Organizer(meeting_id=m.id, contact_id=owner.id, right=OrganizerRight.OWNER))
    owner_identity = f.identity(owner)
    committed_db.session.commit()
    return m.code, identity.id, owner_identity.id


def _context(app, browser, live_server, identity_id, viewport):
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})
    context = browser.new_context(viewport=viewport, device_scale_factor=2 if viewport is PHONE else 1,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE, locale="zh-CN")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context


@pytest.mark.browser
def test_the_service_card_on_a_phone(app, live_server, browser, card_meeting):
    code, identity_id, owner_id = card_meeting
    context = _context(app, browser, live_server, identity_id, PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}")
            if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)
    page.goto(f"{live_server}/m/{code}")
    card = page.locator("#service-card")
    assert card.is_visible() and page.inner_text("#svc-seat") == "3 排 12 号"
    assert page.get_attribute("#svc-liaison", "href") == "tel:13905712233"
    assert page.get_attribute("#svc-duty", "href") == "tel:057187001234"
    assert page.get_attribute("#svc-map", "href") == "https://map.example/venue"
    assert "下一项" in page.inner_text("#svc-next")
    assert fits_width(page), "the card scrolls sideways at 390 px"
    box = card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "service-card-390.png"))  # the first screen, as the phone shows it
    page.screenshot(path=str(ARTIFACTS / "service-card-390-full.png"), full_page=True)
    page.click("button:has-text('签到')")  # the meeting page's own button (presence: scan or link)
    page.wait_for_url("**/done**")
    assert "座位 3 排 12 号" in page.inner_text("#card-line")
    page.screenshot(path=str(ARTIFACTS / "service-card-done-390.png"))
    assert not errors, errors
    context.close()

    context = _context(app, browser, live_server, owner_id, DESKTOP)
    page = context.new_page()
    page.goto(f"{live_server}/admin/{code}/cards")
    page.click("#group summary")
    page.screenshot(path=str(ARTIFACTS / "service-card-console-1366.png"), full_page=True)
    page.goto(f"{live_server}/admin/{code}/cards/people")
    page.click("text=查看服务卡")
    assert "张建国" in page.inner_text("#resolved") and "个人" in page.inner_text("#resolved")
    page.screenshot(path=str(ARTIFACTS / "service-card-console-person-1366.png"), full_page=True)
    context.close()
