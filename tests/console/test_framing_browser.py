"""No page of ours can be framed by another site (frame-ancestors 'none', X-Frame-Options: DENY): the
console's one-click actions (代签, 确认导入, 确认登录) cannot be clickjacked. Checked in Chromium."""

from __future__ import annotations

import time

import pytest

from tests.browser import DESKTOP
from tests.console.conftest import build_console


@pytest.fixture
def meeting_code(committed_db):
    from tests.factories import Factory

    return build_console(Factory(committed_db)).meeting.code


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/admin/login", "/admin/{code}", "/m/{code}", "/units/login"])
def test_pages_refuse_to_be_framed(browser, live_server, meeting_code, path):
    url = live_server + path.format(code=meeting_code)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    # Another origin (about:blank with content, as an attacker's page would be) frames ours.
    page.set_content(f'<h1>evil</h1><iframe id="f" src="{url}" width="800" height="600"></iframe>')
    deadline = time.monotonic() + 5
    child = None
    while time.monotonic() < deadline:
        child = next((f for f in page.frames if f is not page.main_frame), None)
        if child is not None and child.url not in ("", "about:blank"):
            break
        time.sleep(0.05)
    assert child is not None
    time.sleep(0.3)  # let the blocked navigation settle
    # Chromium replaces a refused frame with its own error page: none of our content is in it.
    assert child.url.startswith("chrome-error://") or "会易" not in child.content()
    context.close()
