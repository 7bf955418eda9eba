"""Registration in real Chromium: a unit office registers its delegation of five on a phone (390 px,
WeChat's browser), sees a mistake inline, then the result; the organizer approves them all at the
console (1366 px and 390 px). Screenshots go to test-artifacts/registration-*.png."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.registrations import Registration
from tests.browser import ARTIFACTS, DESKTOP, PHONE, WECHAT_UA, fits_width
from tests.console.conftest import build_console
from tests.console.test_invitees_browser import logged_in
from tests.registration.conftest import ALL_STANDARD

pytestmark = pytest.mark.browser


@pytest.fixture
def data(committed_db):
    from app.services.registration import forms
    from tests.factories import Factory

    console = build_console(Factory(committed_db), code="REGB1")
    fields = [f for f in ALL_STANDARD if f["key"] in ("name", "title", "phone", "gender", "id_number", "arrival",
                                                      "departure", "diet", "needs_room", "photo")]
    form = forms.create_form(console.meeting, actor="t", title="代表报名", invite_code="HY2026AB", fields=fields,
                             published=True, cap=200)
    forms.create_form(console.meeting, actor="t", title="媒体报名", role="媒体", access="open", published=True)
    committed_db.session.commit()
    return console, form


def _fill_person(page, i: int, name: str, phone: str, gender: str = "男"):
    page.fill(f'[name="p-{i}-name"]', name)
    page.fill(f'[name="p-{i}-title"]', "科长")
    page.fill(f'[name="p-{i}-phone"]', phone)
    page.select_option(f'[name="p-{i}-gender"]', gender)


def test_unit_office_registers_five_on_a_phone_and_the_organizer_approves(app, live_server, browser, data,
                                                                           committed_db):
    console, form = data
    meeting, unit = console.meeting, console.unit
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  user_agent=WECHAT_UA, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server}/r/{meeting.code}")
    assert "代表报名" in page.content() and fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "registration-h5-index-390.png"), full_page=True)
    page.click("text=代表报名")
    page.fill('[name="invite_code"]', "hy2026ab")
    page.fill('[name="unit_code"]', unit.code)
    _fill_person(page, 0, "赵一", "13600000001")
    for i in range(1, 5):
        page.click("#add-person")
        _fill_person(page, i, f"代表{i + 1}", f"1360000000{i + 1}", "女" if i % 2 else "男")
    assert page.locator("[data-person]").count() == 5 and fits_width(page)
    page.fill('[name="p-3-phone"]', "12345")  # a slip: shown inline, nothing written
    page.fill('[name="p-4-id_number"]', "110105199001011235")
    page.click("button[type=submit]")
    assert "手机号格式不正确" in page.content() and "不是有效的居民身份证号" in page.content()
    assert page.locator("[data-person]").count() == 5 and fits_width(page)
    page.locator(".field-error").first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "registration-h5-errors-390.png"), full_page=True)
    committed_db.session.commit()  # a fresh read of what the server wrote
    assert committed_db.session.scalar(select(Registration.id)) is None
    page.fill('[name="p-3-phone"]', "13600000004")
    page.click("button[type=submit]")
    page.wait_for_url("**/done/**")
    assert "共 5 人" in page.content() and fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "registration-h5-done-390.png"), full_page=True)
    page.click("a.btn:has-text('我的报名')")
    page.wait_for_url("**/mine")
    assert page.locator("ul.docs li").count() == 5
    page.screenshot(path=str(ARTIFACTS / "registration-h5-mine-390.png"), full_page=True)
    context.close()

    for size, viewport in (("1366", DESKTOP), ("390", PHONE)):
        ctx, admin = logged_in(browser, app, console, "staff", viewport, live_server)
        admin.goto(f"{live_server}/admin/{meeting.code}/registration")
        assert admin.locator("tbody tr").count() == 5
        admin.screenshot(path=str(ARTIFACTS / f"registration-console-{size}.png"), full_page=True)
        admin.click("tbody tr >> nth=0 >> a")
        admin.wait_for_url("**/registration/*")
        assert "报名表" in admin.content() and fits_width(admin)
        admin.screenshot(path=str(ARTIFACTS / f"registration-detail-{size}.png"), full_page=True)
        admin.go_back()
        if size == "1366":
            admin.check("[data-check-all]")
            admin.click("button[value=approve]")
            assert "已通过 5 人" in admin.content()
            admin.screenshot(path=str(ARTIFACTS / "registration-console-approved-1366.png"), full_page=True)
        ctx.close()
    committed_db.session.commit()  # a fresh read of what the server wrote
    assert {r.status for r in committed_db.session.scalars(select(Registration))} == {"approved"}

    ctx, owner = logged_in(browser, app, console, "owner", DESKTOP, live_server)
    owner.goto(f"{live_server}/admin/{meeting.code}/registration/forms")
    owner.screenshot(path=str(ARTIFACTS / "registration-forms-1366.png"), full_page=True)
    ctx.close()
    ctx, owner = logged_in(browser, app, console, "owner", PHONE, live_server)
    owner.goto(f"{live_server}/admin/{meeting.code}/registration/forms")
    assert fits_width(owner)
    owner.screenshot(path=str(ARTIFACTS / "registration-forms-390.png"), full_page=True)
    ctx.close()
