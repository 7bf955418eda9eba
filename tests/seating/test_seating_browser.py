"""The 座次 page in real Chromium at an office PC's width and a phone's (390 px): the plan made in the
form, auto-assign, a person moved by a click on them and a click on a seat (a swap), the unseated
list, the PDF export's job ending in a download. Screenshots: test-artifacts/seating-*.png."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import SeatAssignment
from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width
from tests.console.conftest import build_console
from tests.console.test_invitees_browser import logged_in
from tests.seating.helpers import CJK_NAMES, invite_people


@pytest.fixture
def data(committed_db):
    from tests.factories import Factory

    factory = Factory(committed_db)
    console = build_console(factory, code="SEATB")
    invite_people(factory, console.meeting, 70, units=5, leaders=5, names=CJK_NAMES,
                  groups={i: "第一代表团" for i in range(60, 70)})
    committed_db.session.commit()
    return console


def test_seating_page_desktop_and_phone(app, browser, data, live_server, job_worker, committed_db):
    context, page = logged_in(browser, app, data, "staff", DESKTOP, live_server)
    base = f"{live_server}/admin/{data.meeting.code}/seating"
    page.goto(base)
    page.fill("input[name=name]", "大礼堂")
    page.fill("input[name=rows]", "8")
    page.fill("input[name=seats_per_row]", "12")
    page.fill("input[name=aisles]", "3, 9")
    page.fill("textarea[name=sections]", "第一代表团 7-8 1-12")
    page.fill("textarea[name=blocked]", "1排1号 预留")
    page.click("#plan-form button.primary")
    assert "已创建座次方案" in page.inner_text(".flash")
    page.once("dialog", lambda d: d.accept())
    page.click("text=自动排座")
    assert "自动排座完成" in page.inner_text(".flash")
    for name in ("王建国", "欧阳晓燕", "李昇"):
        assert page.locator(".seat.taken", has_text=name).count() == 1
    # Move: click a seated person, then a seat with someone: they swap.
    first = page.locator(".hall .seat-row").nth(1).locator(".seat.taken").first
    target = page.locator(".hall .seat-row").nth(4).locator(".seat.taken").nth(2)
    a, b = first.get_attribute("data-contact"), target.get_attribute("data-contact")
    seat_a = (first.get_attribute("data-row"), first.get_attribute("data-seat"))
    seat_b = (target.get_attribute("data-row"), target.get_attribute("data-seat"))
    first.click()
    assert page.locator(".selection").is_visible()
    with page.expect_navigation():
        target.click()
    rows = {str(r.contact_id): (str(r.row), str(r.seat)) for r in committed_db.session.execute(
        select(SeatAssignment.contact_id, SeatAssignment.row, SeatAssignment.seat))}
    assert rows[a] == seat_b and rows[b] == seat_a
    assert page.locator(f'.seat.pinned[data-contact="{a}"]').count() == 1
    page.screenshot(path=str(ARTIFACTS / "seating-desktop.png"), full_page=True)
    # The PDF export: a job whose progress ends in a download link.
    page.click("text=导出座次图 PDF")
    page.wait_for_selector(".job-progress-download:not([hidden])", timeout=30000)
    href = page.get_attribute(".job-progress-download", "href")
    assert page.request.get(live_server + href if href.startswith("/") else href).headers["content-type"] == \
        "application/pdf"
    context.close()

    context, page = logged_in(browser, app, data, "staff", PHONE, live_server)
    page.goto(base)
    assert fits_width(page), "the page scrolls sideways on a phone"
    wrap = page.locator(".hall-wrap")
    assert wrap.evaluate("el => el.scrollWidth > el.clientWidth")  # the hall scrolls inside its box
    page.screenshot(path=str(ARTIFACTS / "seating-phone.png"), full_page=True)
    context.close()
