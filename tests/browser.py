"""Shared fixtures for tests in real Chromium: a live server on this run's database, and a browser.

Browsers get real CSRF protection and links point at the live server. Debian's /usr/bin/chromium is
driven by Playwright; no browser is ever downloaded.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]


@pytest.fixture
def live_server(app, committed_db, monkeypatch):
    """The app served over HTTP in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", base_url)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def job_worker(app, live_server):
    """A job worker beside the live server (the RQ queue on the test's Redis, run every 0.2 s), as
    production runs one beside the web workers: pages that wait on a job see it run."""
    from app import jobs

    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            jobs.run_pending(app)
            stop.wait(0.2)

    thread = threading.Thread(target=loop, name="test-job-worker", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


@contextmanager
def chromium(extra_args: tuple[str, ...] | list[str] = ()):
    """Debian's Chromium under Playwright, with ``extra_args`` (a fake camera, say)."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path="/usr/bin/chromium", args=[*CHROMIUM_ARGS, *extra_args])
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


# -- the console's two browsers: an office PC, and WeChat's in-app browser on a phone ----------------------
DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.50(0x1800323c) NetType/WIFI Language/zh_CN")


@pytest.fixture
def wechat(app, live_server, monkeypatch):
    """The simulator: its phone posts to the live server; the app's API calls reach it in-process,
    and browsers reach its OAuth pages over HTTP. Yields (simulator, its base URL)."""
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.server import BackgroundServer
    from scripts.wechat_sim.transport import RequestsTransport, WsgiAdapter

    config = SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                       token=app.config["WECHAT_TOKEN"], callback_url=live_server + "/wechat/callback")
    sim = Simulator(config, transport=RequestsTransport())
    api = app.extensions["wechat_oa"]
    monkeypatch.setattr(api.http, "adapters", dict(api.http.adapters))
    api.http.mount("http://wechat.sim/", WsgiAdapter(sim.app))
    server = BackgroundServer(sim.app)
    base = server.start()
    monkeypatch.setattr(api, "oauth_base_url", base)
    try:
        yield sim, base
    finally:
        server.stop()


def wechat_page(browser, sim_base: str, openid: str):
    """WeChat's in-app browser on ``openid``'s phone (the simulator's OAuth knows them by cookie)."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                  user_agent=WECHAT_UA, locale="zh-CN")
    context.add_cookies([{"name": "wechat_sim_openid", "value": openid, "url": sim_base}])
    return context, context.new_page()


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def wait_js(page, expression: str, *, timeout: float = 5000, arg=None, polling: float = 20) -> None:
    """Wait until ``expression`` (JavaScript, or a function taking ``arg``) is truthy in ``page``.

    Playwright's own ``wait_for_function`` compiles its predicate with ``eval`` inside the page, which
    our Content-Security-Policy forbids (no ``unsafe-eval``), and the tests run under the real policy
    so that they notice a page our own CSP would break. ``page.evaluate`` goes through the DevTools
    protocol, which the policy does not govern."""
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    deadline = time.monotonic() + timeout / 1000
    while True:
        if page.evaluate(expression, arg) if arg is not None else page.evaluate(expression):
            return
        if time.monotonic() > deadline:
            raise PlaywrightTimeoutError(f"not true within {timeout:.0f} ms: {expression[:120]}")
        time.sleep(polling / 1000)
