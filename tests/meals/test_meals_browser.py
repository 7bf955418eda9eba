"""用餐与乘车 in real Chromium, on the office PC (1366 px) and a phone (390 px): the page fits, the
automatic plan runs from its button, a person is moved on the table plan, and the kitchen's export
comes out of its job. Screenshots go to test-artifacts/meals-*.png to be looked at."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width
from tests.cards.test_cards_browser import _context


@pytest.fixture
def meals_meeting(committed_db):
    from app.services.logistics import buses, meals
    from models import InviteeRole
    from tests.factories import Factory
    from tests.meals.conftest import build_scene, register

    f = Factory(committed_db)
    scene = build_scene(f, code="MEALWEB")
    m = scene.meeting
    for i in range(24):  # a larger delegation, for a plan worth looking at
        c = f.contact(scene.console.unit, name=f"代表{i:02d}")
        f.invitee(m, c, role=InviteeRole.DELEGATE, group_name="第二代表团")
        register(committed_db, m, c, diet=("清真",) if i % 7 == 0 else ("素食",) if i % 5 == 0 else (),
                 group="第二代表团")
    lunch = meals.save_sitting(m, {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00",
                                   "place": "2 楼宴会厅", "notes": "凭代表证就餐"}, actor="test")
    meals.add_tables(m, lunch, {"label": "主桌", "seats": "10", "head": "1"}, actor="test")
    meals.add_tables(m, lunch, {"count": "3", "seats": "10"}, actor="test")
    dinner = meals.save_sitting(m, {"name": "晚餐", "day": "2026-12-03", "starts": "18:00", "ends": "19:30",
                                    "place": "1 楼自助餐厅"}, actor="test")
    meals.add_tables(m, dinner, {"count": "4", "seats": "10"}, actor="test")
    meals.auto_assign(m, dinner, actor="test")
    route = buses.save_route(m, {"name": "国宾馆—会议中心", "day": "2026-12-03", "departs": "07:30",
                                 "from_place": "国宾馆", "to_place": "会议中心"}, actor="test")
    buses.add_cars(m, route, {"count": "2", "seats": "33", "driver_name": "王师傅", "driver_phone": "13800001111",
                              "plate": "浙A12345"}, actor="test")
    committed_db.session.commit()
    return scene


@pytest.mark.browser
@pytest.mark.slow
def test_meals_and_buses_at_the_console(app, live_server, job_worker, browser, meals_meeting):
    scene = meals_meeting
    code = scene.meeting.code
    ARTIFACTS.mkdir(exist_ok=True)
    context = _context(app, browser, live_server, scene.console.identities["staff"].id, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)
    page.goto(f"{live_server}/admin/{code}/meals")
    lunch = page.locator(".plan[data-sitting]").first
    lunch.locator("button:has-text('一键安排桌位')").click()
    page.wait_for_load_state()
    assert page.inner_text(".flash") == "已安排 32 人；3 人未能安排：余下的空位都在主桌或其他代表团的预留餐桌"
    assert "主桌 2/10" in lunch.inner_text()
    page.click("button:has-text('导出用餐统计')")
    link = page.locator(".job-progress-download")
    link.wait_for(state="visible", timeout=15000)
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".xlsx") and "用餐安排" in download.value.suggested_filename
    page.goto(f"{live_server}/admin/{code}/meals")
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "meals-desktop.png"), full_page=True)

    lunch_link = page.locator(".plan[data-sitting]").first.locator("a:has-text('桌次名单')")
    lunch_link.click()
    page.select_option("#move-person", label=next(o for o in page.locator("#move-person option").all_inner_texts()
                                                  if o.startswith("乙一")))
    page.select_option("#move-place", label=next(o for o in page.locator("#move-place option").all_inner_texts()
                                                 if o.startswith("主桌")))
    page.click("form.move button")
    page.wait_for_load_state()
    assert page.inner_text(".flash") == "已调整到“主桌”"
    assert "乙一" in page.locator(".place").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "meals-plan-desktop.png"), full_page=True)
    assert errors == []
    context.close()

    phone = _context(app, browser, live_server, scene.console.identities["staff"].id, PHONE).new_page()
    phone.goto(f"{live_server}/admin/{code}/meals")
    assert fits_width(phone), "the meals page scrolls sideways at 390 px"
    phone.screenshot(path=str(ARTIFACTS / "meals-390.png"), full_page=True)
    phone.locator("a:has-text('桌次名单')").first.click()
    assert fits_width(phone)
    phone.screenshot(path=str(ARTIFACTS / "meals-plan-390.png"), full_page=True)
