"""In Chromium at 390x844 with CSRF on: an attendee taps a document, is shown the 保密提醒 first,
taps 我已阅读并遵守 and lands on the document; the organizer's page then lists the confirmation."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, PHONE, fits_width, wait_js
from tests.documents.conftest import make_pdf, seed_live


@pytest.fixture
def seeded(app, committed_db):
    from models import WechatIdentity

    seeded = seed_live(committed_db, "CONFLIVE", "全区经济工作会议（内部）", data=make_pdf(2), file_name="通报.pdf",
                       doc_title="经济运行情况通报（内部资料）")
    organizer_identity = WechatIdentity(oa_openid="o-conf-organizer", contact_id=seeded["organizer"].id)
    committed_db.session.add(organizer_identity)
    committed_db.session.commit()
    return {**seeded, "organizer_identity_id": organizer_identity.id}


def _context(app, browser, live_server, identity_id: int):
    cookie = app.session_interface.get_signing_serializer(app).dumps({"identity_id": identity_id})
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  locale="zh-CN")
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context


@pytest.mark.browser
def test_attendee_confirms_the_terms_then_reads(app, live_server, browser, seeded):
    code = seeded["code"]
    context = _context(app, browser, live_server, seeded["identity_id"])
    page = context.new_page()
    page.goto(f"{live_server}/m/{code}/documents")
    assert "查看会议材料前，请先阅读保密提醒并确认" in page.locator("main").inner_text()
    page.click("text=经济运行情况通报（内部资料）")
    page.wait_for_url(f"**/m/{code}/confidentiality?doc=*")
    main = page.locator("main").inner_text()
    assert "保密提醒" in main and "不得拍照、截屏" in main and "第 1 版" in main
    button = page.locator("button:text-is('我已阅读并遵守')")
    assert button.is_visible() and button.bounding_box()["height"] >= 44  # a thumb's target
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "confidentiality-confirm-390.png"))
    button.click()  # a real form post, CSRF token and all
    page.wait_for_url(f"**/m/{code}/documents/*")
    first = page.locator("img[alt='第 1 页']")
    first.wait_for()
    wait_js(page, "document.querySelector(\"img[alt='第 1 页']\").complete")
    assert first.evaluate("img => img.naturalWidth") > 0
    assert "仅供张三本人阅读" in page.locator("main").inner_text()
    page.goto(f"{live_server}/m/{code}/documents")
    assert "阅读保密提醒" not in page.locator("main").inner_text()
    context.close()

    organizer = _context(app, browser, live_server, seeded["organizer_identity_id"])
    page = organizer.new_page()
    page.goto(f"{live_server}/admin/{code}/documents/confidentiality")
    text = page.locator("main").inner_text()
    assert "已确认 1 / 1 人" in text and "张三" in text and "微信网页" in text
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "confidentiality-admin-390.png"), full_page=True)
    organizer.close()
