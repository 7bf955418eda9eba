"""The shared progress bar (templates/_job_progress.html + static/js/job_progress.js) in Chromium,
under a strict script policy: it follows a running job and then offers its file under its Chinese name."""

from __future__ import annotations

import threading
import time

import pytest
from flask import render_template_string

from app import jobs
from app.web.auth import SESSION_KEY
from tests.factories import Factory
from tests.jobs import sample

PAGE = ('{% from "_job_progress.html" import job_progress %}<!doctype html><html lang="zh-CN"><head>'
        '<meta charset="utf-8"><title>导出</title></head><body>{{ job_progress(job_id, "正在导出签到统计") }}'
        '</body></html>')


def _text_becomes(locator, wanted: str, timeout_s: float = 15) -> str:
    deadline = time.monotonic() + timeout_s
    seen = ""
    while time.monotonic() < deadline:
        seen = locator.inner_text()
        if wanted in seen:
            return seen
        time.sleep(0.1)
    raise AssertionError(f"never showed {wanted!r}; last: {seen!r}")


@pytest.mark.browser
def test_progress_bar_follows_the_job_then_downloads(app, live_server, browser, committed_db):
    factory = Factory(committed_db)
    contact = factory.contact(name="导出人")
    identity = factory.identity(contact)
    job_id = jobs.submit("report_export", sample.stepwise_export, 3, actor=jobs.console_actor(contact.id))
    committed_db.session.commit()
    sample.GATE.clear()
    sample.STARTED.clear()
    worker = threading.Thread(target=jobs.run_pending, args=(app,))
    worker.start()
    try:
        assert sample.STARTED.wait(20)
        with app.test_request_context():
            html = render_template_string(PAGE, job_id=job_id)
        assert "<script src=" in html and "<script>" not in html  # nothing inline
        cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity.id})
        context = browser.new_context(locale="zh-CN", accept_downloads=True)
        context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
        page = context.new_page()
        page.route(f"{live_server}/_job_progress_test", lambda route: route.fulfill(
            status=200, body=html, content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": "default-src 'self'; script-src 'self'"}))
        page.goto(f"{live_server}/_job_progress_test")
        message = page.locator(".job-progress-message")
        assert _text_becomes(message, "第一步：读取文件（1/3）")
        assert page.locator(".job-progress-download").is_hidden()
        sample.GATE.set()
        assert _text_becomes(message, "第二步：写入（3/3）")
        link = page.locator(".job-progress-download")
        link.wait_for(state="visible", timeout=15000)
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "签到统计（全体）.csv"
        assert page.locator(".job-progress").get_attribute("data-job-state") == "done"
        context.close()
    finally:
        sample.GATE.set()
        worker.join(30)
