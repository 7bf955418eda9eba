"""In real Chromium (CSRF and the Content-Security-Policy on): a staff member opens the badges page
under 后勤, sees the first card's preview redraw as they choose the large size and a role, prints,
watches the job finish and downloads the PDF, which reads back right. Screenshots go to
test-artifacts/badges-console-*.png, at desktop width and at 390 px in WeChat's browser."""

from __future__ import annotations

import pytest

from tests.browser import ARTIFACTS, DESKTOP, PHONE, WECHAT_UA, fits_width, wait_js
from tests.reports.helpers import pdf_pages


@pytest.fixture
def data(committed_db):
    from tests.badges.conftest import build_scene
    from tests.factories import Factory

    return build_scene(Factory(committed_db))


def _context(browser, app, live_server, scene, who="staff", phone=False):
    from app.web.auth import SESSION_KEY

    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: scene.console.identities[who].id})
    extra = {"user_agent": WECHAT_UA, "is_mobile": True, "has_touch": True} if phone else {}
    context = browser.new_context(viewport=PHONE if phone else DESKTOP, locale="zh-CN", accept_downloads=True,
                                  **extra)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context


def _preview_loaded(page) -> None:
    wait_js(page, "(() => { const i = document.getElementById('badge-preview'); "
                  "return i.complete && i.naturalWidth > 0; })()", timeout=15000)


@pytest.mark.browser
def test_staff_previews_prints_and_downloads_badges(app, live_server, job_worker, browser, data, tmp_path):
    context = _context(browser, app, live_server, data)
    page = context.new_page()
    failures: list[str] = []
    page.on("response", lambda r: failures.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("console", lambda m: failures.append(m.text)
            if m.type == "error" and "favicon.ico" not in m.location.get("url", "") else None)
    page.goto(f"{live_server}/admin/{data.meeting.code}/badges")
    assert page.locator("nav.subtabs a.on").inner_text() == "胸卡"
    _preview_loaded(page)
    small = page.evaluate("[document.getElementById('badge-preview').naturalWidth, "
                          "document.getElementById('badge-preview').naturalHeight]")
    assert small[0] > small[1]  # 90 × 54: lying
    assert page.locator("select[name=role]").is_hidden()
    page.screenshot(path=str(ARTIFACTS / "badges-console-1366.png"), full_page=True)

    page.check("input[name=size][value=large]")
    page.check("input[name=filter][value=role]")
    assert page.locator("select[name=role]").is_visible()
    page.select_option("select[name=role]", "媒体")
    wait_js(page, "document.getElementById('badge-preview').src.includes('role=')", timeout=5000)
    _preview_loaded(page)
    large = page.evaluate("[document.getElementById('badge-preview').naturalWidth, "
                          "document.getElementById('badge-preview').naturalHeight]")
    assert large[0] < large[1]  # 100 × 140: standing
    page.screenshot(path=str(ARTIFACTS / "badges-console-large-1366.png"), full_page=True)

    page.click("button:has-text('生成胸卡 PDF')")
    page.wait_for_url("**/badges?job=*")
    download_link = page.locator("#print-job a:has-text('下载 PDF')")
    download_link.wait_for(timeout=30000)
    assert "已生成 1 张" in page.locator("#print-job").inner_text()
    with page.expect_download() as info:
        download_link.click()
    saved = tmp_path / "badges.pdf"
    info.value.save_as(saved)
    assert info.value.suggested_filename.startswith("2026年全市经济工作会议-代表证-")
    pages = pdf_pages(saved.read_bytes())
    assert len(pages) == 1 and "记者刘" in pages[0] and "媒 体" in pages[0]
    assert failures == [], failures
    context.close()


@pytest.mark.browser
def test_the_page_on_a_phone(app, live_server, browser, data):
    context = _context(browser, app, live_server, data, who="viewer", phone=True)
    page = context.new_page()
    page.goto(f"{live_server}/admin/{data.meeting.code}/badges")
    _preview_loaded(page)
    assert fits_width(page)
    assert page.locator("button:has-text('生成胸卡 PDF')").count() == 0  # a viewer previews, never prints
    page.screenshot(path=str(ARTIFACTS / "badges-console-390.png"), full_page=True)
    context.close()
