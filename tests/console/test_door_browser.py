"""The door page in real Chromium with CSRF on, at a phone's width (390 px) and an office PC's
(1366 px): it fits, a guest is added and signed in, a walk-in approved, a WeChat unbound; the log
page reads well too. Screenshots go to test-artifacts/console-door*.png and console-log*.png."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import Admission, Contact, Invitee, SignIn, WechatIdentity
from tests.browser import ARTIFACTS
from tests.console.conftest import build_console
from tests.console.test_invitees_browser import DESKTOP, PHONE, fits_width, logged_in


@pytest.fixture
def data(committed_db):
    from tests.factories import Factory

    f = Factory(committed_db)
    console = build_console(f)
    meeting = console.meeting
    meeting.admission = Admission.APPROVAL
    walk_in = f.contact(console.other_unit, name="欧阳申请人", phone="13700000001", title="科长")
    committed_db.session.add(Invitee(meeting_id=meeting.id, contact_id=walk_in.id, status="pending"))
    f.identity(console.people[0], oa_openid="o-door-browser")
    committed_db.session.commit()
    return console


@pytest.mark.browser
@pytest.mark.parametrize("size", ["390", "1366"])
def test_door_page_reads_well_and_works(app, live_server, browser, data, committed_db, size):
    viewport = PHONE if size == "390" else DESKTOP
    context, page = logged_in(browser, app, data, "staff", viewport, live_server)
    base = f"{live_server}/admin/{data.meeting.code}"
    page.goto(f"{base}/door")
    assert "待审核的签到申请" in page.inner_text("#walk-ins")
    assert fits_width(page), f"door page scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-door-{size}.png"), full_page=True)

    # A guest: the form posts (with its CSRF token), the page comes back saying so.
    page.fill("#guest input[name=name]", "周来宾")
    page.fill("#guest input[name=phone]", "139 1234 5678")
    page.fill("#guest input[name=unit_text]", "市财政局")
    page.click("#guest button[type=submit]")
    assert "周来宾 已签到（第 1 位）" in page.inner_text(".flash")
    guest = committed_db.session.scalar(select(Contact).where(Contact.phone == "13912345678"))
    assert committed_db.session.scalar(select(SignIn.method).where(SignIn.contact_id == guest.id)) == "manual"

    # The walk-in is approved.
    page.click("#walk-ins button.primary")
    assert "欧阳申请人 已签到" in page.inner_text(".flash")

    # A WeChat is unbound only with the tick; the browser asks for it first.
    page.fill("#unbind input[name=q]", data.people[0].name)
    page.click("#unbind .search-row button")
    page.fill("#unbind .unbind-form input[name=reason]", "换手机")
    if size == "390":
        page.screenshot(path=str(ARTIFACTS / "console-door-unbind-390.png"), full_page=False)
    page.click("#unbind .unbind-form button")
    assert page.locator(".flash").count() == 0  # the required tick stopped the form
    page.check("#unbind .unbind-form input[name=confirmed]")
    page.click("#unbind .unbind-form button")
    assert "已解除" in page.inner_text(".flash")
    committed_db.session.expire_all()
    assert committed_db.session.scalar(
        select(WechatIdentity.contact_id).where(WechatIdentity.oa_openid == "o-door-browser")) is None

    page.goto(f"{base}/log")
    assert fits_width(page), f"log page scrolls sideways at {size} px"
    assert "添加临时人员" in page.inner_text("#audit") and "解绑微信" in page.inner_text("#audit")
    page.screenshot(path=str(ARTIFACTS / f"console-log-{size}.png"), full_page=True)
    context.close()
