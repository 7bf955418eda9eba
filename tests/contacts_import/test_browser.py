"""The unit office page in real Chromium against a live server, CSRF on: log in, upload a file with
bad rows, watch the check's progress (a job: the web worker only stores the file), read the dry-run
report, confirm the replacement's deactivations, see the history."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.browser import ARTIFACTS, CHROMIUM_ARGS

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "contacts" / "directory_full.xlsx"
PASSWORD = "correct horse battery"


@pytest.fixture
def unit_office(live_server, committed_db):
    """A unit with one contact the upload will deactivate, and its office's login."""
    from app.services.contacts.units import add_unit_account
    from tests.factories import Factory

    unit = Factory(committed_db).unit("FGJ", "区发展和改革局", aliases=["XX局"])
    Factory(committed_db).contact(unit, name="离职人员", phone="13100131000")
    add_unit_account(unit, "fgj_office", PASSWORD, actor="test")
    committed_db.session.commit()
    committed_db.session.remove()
    return live_server


def start_worker(app) -> threading.Event:
    """The job worker, started only once the test has seen the page wait for it."""
    from app import jobs

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            jobs.run_pending(app)
            stop.wait(0.2)

    threading.Thread(target=loop, daemon=True).start()
    return stop


@pytest.mark.browser
def test_upload_report_confirm_history_in_chromium(app, unit_office, committed_db):
    from playwright.sync_api import sync_playwright

    from models import Contact

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
            page.goto(unit_office + "/units/")
            page.wait_for_url("**/units/login**")
            page.fill("#username", "fgj_office")
            page.fill("#password", "wrong password!")
            page.click("button:has-text('登录')")
            assert "用户名或密码错误" in page.locator(".error").inner_text()
            page.fill("#password", PASSWORD)
            page.click("button:has-text('登录')")
            page.wait_for_url("**/units/")
            assert "区发展和改革局" in page.locator("header").inner_text()

            page.set_input_files("#file", str(FIXTURE))
            assert page.locator("input[name=mode][value=upsert]").is_checked()  # 新增和更新 by default
            page.check("input[name=mode][value=replace]")
            page.click("button:has-text('上传并检查')")
            page.wait_for_url("**/units/imports/*")
            # The request only stored the file: the page waits for the job and shows its progress.
            assert "正在检查文件" in page.locator("main").inner_text()
            assert page.locator("#job-progress .job-progress progress").count() == 1  # the shared bar
            assert "排队" in page.locator("#job-progress .job-progress-message").inner_text()
            page.screenshot(path=str(ARTIFACTS / "units-office-progress.png"), full_page=True)
            stop = start_worker(app)
            try:
                page.wait_for_selector("#rejected", timeout=30_000)  # the page reloads itself until done
            finally:
                stop.set()
            bad = page.locator("#rejected tr.bad")
            assert bad.count() == 5
            assert bad.first.inner_text().split("\t") == ["第 10 行", "缺少姓名"]  # Chinese, no codes
            # Highlighted: the bad rows have a tinted background.
            color = bad.first.locator("td").first.evaluate("e => getComputedStyle(e).backgroundColor")
            assert color == "rgb(255, 241, 240)"
            text = page.locator("main").inner_text()
            assert "与第 4 行手机号重复" in text and "阿卜杜·热合曼" in text and "离职人员" in text
            page.screenshot(path=str(ARTIFACTS / "units-office-report.png"), full_page=True)
            committed_db.session.remove()
            assert committed_db.session.query(Contact).count() == 1  # nothing written yet

            # 全量替换: the one person not in the file is highlighted and must be confirmed.
            assert page.locator("#deactivated-count").inner_text().split() == ["停用", "1"]
            assert "离职人员" in page.locator("#deactivated").inner_text()
            page.click("button:has-text('确认导入')")  # the browser refuses: the box is not ticked
            assert "/units/imports/" in page.url
            page.check("input[name=confirm_deactivate]")
            page.click("button:has-text('确认导入')")
            page.wait_for_url("**/units/history**")
            text = page.locator("main").inner_text()
            assert "导入已完成" in text and "directory_full.xlsx" in text and "已导入" in text
            assert "fgj_office" in text
            page.screenshot(path=str(ARTIFACTS / "units-office-history.png"), full_page=True)
        finally:
            browser.close()
    committed_db.session.remove()
    rows = {c.phone: c.active for c in committed_db.session.query(Contact)}
    assert len(rows) == 8 and rows["13100131000"] is False
