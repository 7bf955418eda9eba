"""The 住宿 console page in real Chromium, at desktop width and on a phone (390 px): one-click
allocation from the page, a room picked for someone left over, no sideways scrolling on the phone;
screenshots go to test-artifacts/lodging-*.png to be looked at."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, fits_width
from tests.cards.test_cards_browser import _context


@pytest.fixture
def lodging_scene(committed_db):
    from app.services.logistics import lodging
    from tests.factories import Factory
    from tests.lodging.conftest import build_scene

    scene = build_scene(Factory(committed_db), code="ROOMWEB")
    # The accessible room gone: the accessible delegate is left over, with the reason shown.
    lodging.delete_room(scene.meeting, lodging.get_room(scene.meeting, scene.rooms["A1206"]), actor="t")
    staff = scene.console.identities["staff"].id
    committed_db.session.commit()
    return scene, staff


@pytest.mark.browser
def test_the_lodging_page_at_desktop_width_and_on_a_phone(app, live_server, browser, lodging_scene):
    scene, staff = lodging_scene
    code = scene.meeting.code
    context = _context(app, browser, live_server, staff, DESKTOP)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"{m.text} {m.location}")
            if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)
    page.on("dialog", lambda d: d.accept())
    page.goto(f"{live_server}/admin/{code}/lodging")
    assert page.inner_text("#n-unplaced") == "8"
    page.click("#allocate")
    page.wait_for_url("**/lodging#allocation")
    assert page.inner_text("#n-assigned") == "7" and page.inner_text("#n-unplaced") == "1"
    row = page.locator("tr[data-code='no_accessible_room']")
    assert "没有空余的无障碍房间" in row.inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "lodging-1366.png"), full_page=True)
    context.close()

    context = _context(app, browser, live_server, staff, PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/admin/{code}/lodging")
    assert fits_width(page), "the lodging page scrolls sideways at 390 px"
    page.screenshot(path=str(ARTIFACTS / "lodging-390.png"), full_page=True)
    assert not errors, errors
    context.close()
