"""In Chromium against a live server: an attendee opens the meeting page, then a document, and sees
its first page with their own watermark; after recall the same image URL is refused."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, CHROMIUM_ARGS, wait_js
from tests.documents.conftest import FIXTURES, seed_live


@pytest.fixture
def seeded(app, committed_db):
    return seed_live(committed_db, "DOCLIVE", "全区经济工作会议", data=(FIXTURES / "report.docx").read_bytes(),
                     file_name="工作报告.docx", doc_title="政府工作报告（征求意见稿）")


@pytest.mark.browser
def test_attendee_reads_a_watermarked_document_in_chromium(app, live_server, seeded, committed_db):
    from playwright.sync_api import sync_playwright

    # The attendee's WeChat login (OAuth) happened earlier: their session cookie names their identity.
    cookie = app.session_interface.get_signing_serializer(app).dumps({"identity_id": seeded["identity_id"]})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 375, "height": 667}, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
            page = context.new_page()
            page.goto(f"{live_server}/m/{seeded['code']}")
            assert "政府工作报告" in page.locator("main").inner_text()
            page.click("text=查看会议材料")
            page.wait_for_url(f"**/m/{seeded['code']}/documents")
            page.click("text=政府工作报告（征求意见稿）")
            page.wait_for_url(f"**/m/{seeded['code']}/confidentiality?doc=*")  # 保密提醒 first
            page.click("button:text-is('我已阅读并遵守')")
            page.wait_for_url(f"**/m/{seeded['code']}/documents/*")
            first = page.locator("img[alt='第 1 页']")
            first.wait_for()
            wait_js(page, "document.querySelector(\"img[alt='第 1 页']\").complete")
            assert first.evaluate("img => img.naturalWidth") == 1080
            assert "仅供张三本人阅读" in page.locator("main").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "documents-viewer.png"))
            src = first.get_attribute("src")
            image = page.request.get(live_server + src)
            assert image.status == 200 and "no-store" in image.headers["cache-control"]

            from app.services.documents import materials as documents

            documents.recall(seeded["meeting"], seeded["organizer"], seeded["document_id"])
            committed_db.session.commit()
            assert page.request.get(live_server + src).status == 410
            page.goto(f"{live_server}/m/{seeded['code']}/documents")
            assert "暂无可查看的会议材料" in page.locator("main").inner_text()
            context.close()
        finally:
            browser.close()


@pytest.mark.browser
def test_organizer_uploads_through_the_form_in_chromium(app, live_server, seeded, committed_db):
    from playwright.sync_api import sync_playwright
    from sqlalchemy import select

    from app.services.documents.convert import process_version
    from models import DocumentVersion, WechatIdentity

    organizer_identity = WechatIdentity(oa_openid="o-doc-organizer", contact_id=seeded["organizer"].id)
    committed_db.session.add(organizer_identity)
    committed_db.session.commit()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"identity_id": organizer_identity.id})
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 375, "height": 667}, is_mobile=True, locale="zh-CN")
            context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
            page = context.new_page()
            page.goto(f"{live_server}/admin/{seeded['code']}/documents")
            page.set_input_files("#upload input[name=file]", str(FIXTURES / "slides.pptx"))
            page.fill("input[name=title]", "大会幻灯片")
            page.check("input[name=access][value=restricted]")
            page.check("input[name=roles][value=领导]")
            page.click("button:text-is('上传')")  # with CSRF on, as in production
            page.wait_for_url(f"**/admin/{seeded['code']}/documents")
            assert "大会幻灯片" in page.locator("main").inner_text()
            version = committed_db.session.scalars(
                select(DocumentVersion).where(DocumentVersion.file_name == "slides.pptx")).one()
            process_version(version.id)
            committed_db.session.commit()
            # The page refreshes itself every 3 s while a version is processing (a reload of our own
            # could be cut short by that refresh): wait for it to show the result.
            page.get_by_text("已就绪，共 3 页").wait_for(timeout=15000)
            text = page.locator("main").inner_text()
            assert "已就绪，共 3 页" in text and "仅限：领导" in text
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "documents-admin.png"), full_page=True)
            context.close()
        finally:
            browser.close()
