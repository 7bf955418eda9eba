"""Two app processes, one big screen and one organizer page in real Chromium, numbers live on both.

Server A and server B are separate ``flask run`` processes on the test PostgreSQL and Redis. The
simulator's phone scans into server A; the screen is open on A and the organizer page on B, so an
update seen on B crossed processes through Redis. 代签 is clicked on B (CSRF on) and must appear on A.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from app.services.codes.scenes import make_scene
from app.services.live import headcount
from tests.browser import wait_js
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
PEOPLE = 8




@pytest.fixture
def wechat_api(app):
    """The simulator's WeChat API over real HTTP, for the app processes (QR codes)."""
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.server import BackgroundServer
    from scripts.wechat_sim.transport import RequestsTransport

    config = SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                       token=app.config["WECHAT_TOKEN"], callback_url="http://unset.invalid/wechat/callback")
    sim = Simulator(config, transport=RequestsTransport())
    server = BackgroundServer(sim.app)
    base = server.start()
    try:
        yield sim, base
    finally:
        server.stop()


@pytest.fixture
def two_servers(app, committed_db, wechat_api):
    sim, api_base = wechat_api
    ports = [free_port(), free_port()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "REDIS_URL": app.config["REDIS_URL"],
           "SECRET_KEY": app.config["SECRET_KEY"], "PUBLIC_BASE_URL": bases[0], "WECHAT_API_BASE_URL": api_base,
           "FLASK_DEBUG": "0", "PYTHONUNBUFFERED": "1"}
    procs = []
    ARTIFACTS.mkdir(exist_ok=True)
    for name, port in zip("AB", ports, strict=True):
        log = open(ARTIFACTS / f"live-server-{name}.log", "w")  # noqa: SIM115 (closed with the process)
        procs.append((subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--host", "127.0.0.1", "--port", str(port),
             "--with-threads", "--no-reload", "--no-debugger"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT), log))
    try:
        for base in bases:
            _wait_ready(base)
        sim.config.callback_url = bases[0] + "/wechat/callback"
        yield sim, bases
    finally:
        for proc, log in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"app server {base} did not start")


@pytest.fixture
def seeded(committed_db):
    from app.services.meetings.organizers import add_organizer
    from tests.factories import Factory

    f = Factory(committed_db)
    units = [f.unit(name="区发展和改革局"), f.unit(name="区财政局"), f.unit(name="区教育局")]
    meeting = f.meeting("LIVEBR", title="全区经济工作会议暨2027年度重点项目推进会", venue="区政府三楼大会议室")
    meeting.mask_names = True
    openids = []
    for i in range(PEOPLE):
        c = f.contact(units[i % 3], name=f"张{'一二三四五六七八'[i]}")
        f.invitee(meeting, c, group_name="第一代表团" if i % 2 else "第二代表团")
        f.identity(c, oa_openid=f"o_br_{i}")
        openids.append(f"o_br_{i}")
    organizer = f.contact(units[0], name="会务李")
    add_organizer(meeting.code, organizer.phone, actor="test")
    org_identity = f.identity(organizer, oa_openid="o_br_org")
    committed_db.session.commit()
    return meeting.code, openids, org_identity.id


def _session_cookie(app, identity_id: int) -> str:
    from app.web.auth import SESSION_KEY

    return app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: identity_id})


@pytest.mark.real_clock
@pytest.mark.browser
def test_numbers_change_on_both_pages_within_one_second(app, two_servers, seeded):
    from playwright.sync_api import sync_playwright

    sim, (server_a, server_b) = two_servers
    code, openids, org_identity = seeded
    key = headcount.screen_key(app.config["SECRET_KEY"], code)

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            screen_ctx = chromium.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            screen = screen_ctx.new_page()
            screen.goto(f"{server_a}/screen/{code}?k={key}")
            assert screen.locator("h1").inner_text().startswith("全区经济工作会议")
            assert screen.locator("#n-expected").inner_text() == str(PEOPLE)

            console_ctx = chromium.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
            console_ctx.add_cookies([{"name": app.config.get("SESSION_COOKIE_NAME", "session"),
                                      "value": _session_cookie(app, org_identity), "url": server_b}])
            console = console_ctx.new_page()
            console.on("dialog", lambda d: d.accept())
            console.goto(f"{server_b}/admin/{code}")
            assert console.locator("#n-arrived").inner_text() == "0"
            _wait_streams_open(screen, console)

            delays = []
            for i, openid in enumerate(openids[:5], start=1):
                reply = sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
                assert reply.text.startswith("签到成功"), reply.text
                committed = time.monotonic()
                for page in (screen, console):
                    wait_js(page, f"document.getElementById('n-arrived').textContent === '{i}'",
                                           timeout=1000)
                delays.append(time.monotonic() - committed)
            assert screen.locator("#n-rate").inner_text() == "62.5"
            ticker = screen.locator("#ticker").inner_text()
            assert "张*" in ticker and "张五" not in ticker  # masked on the projector

            # 代签 on server B (CSRF on, a real click) shows on the screen served by A.
            console.locator("#missing button", has_text="代签").first.click()
            clicked = time.monotonic()
            wait_js(screen, "document.getElementById('n-arrived').textContent === '6'", timeout=1000)
            wait_js(console, "document.getElementById('n-arrived').textContent === '6'", timeout=1000)
            delays.append(time.monotonic() - clicked)
            wait_js(console, "document.getElementById('recent').textContent.indexOf('代签') >= 0",
                                      timeout=2000)

            ARTIFACTS.mkdir(exist_ok=True)
            screen.screenshot(path=str(ARTIFACTS / "live-screen-1920x1080.png"))
            console.screenshot(path=str(ARTIFACTS / "live-console.png"), full_page=True)
            print("committed -> visible on both pages (s):", [round(d, 3) for d in delays])
            assert max(delays) < 1.0
        finally:
            chromium.close()


def _wait_streams_open(*pages) -> None:
    for page in pages:
        wait_js(page, "!document.body.classList.contains('offline')", timeout=5000)
        page.wait_for_timeout(300)  # the stream's first message has arrived
