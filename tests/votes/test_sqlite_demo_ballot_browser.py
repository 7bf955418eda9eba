"""The demo's vote journey in real Chromium, on the demo's own database (SQLite), whatever database
the rest of the suite runs on.

``make run`` in miniature: a fresh SQLite file migrated and seeded, ``scripts.run_demo`` serving the app,
the WeChat simulator and the in-process Redis stand-in. On the simulated phone the organizer (周敏) and
a first-time attendee (张伟) each scan the meeting's QR code, open the account's reply and bind (which
signs them in); the organizer creates and opens a motion in the console; the attendee votes on the H5
ballot page; the organizer's live count moves; and the ballot is in the SQLite file.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.browser import ARTIFACTS, wait_js
from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]
CODE = "QJJ2026Q4"  # app.services.demo.DEMO_MEETING
PHONE = {"width": 375, "height": 667}
TITLE = "关于《2027年全区经济工作要点》的表决"




@pytest.fixture
def sqlite_demo(tmp_path):
    """``make run`` on a fresh SQLite file: yields (base URL, database file)."""
    db_file = tmp_path / "demo.sqlite3"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PUBLIC_BASE_URL", "WECHAT_API_BASE_URL", "WEB_CONCURRENCY")}
    # The demo's own backends, set (not just left out) so that no .env file can point elsewhere: the
    # SQLite file and the in-process Redis stand-in (an empty REDIS_URL).
    env.update(DATABASE_URL=f"sqlite:///{db_file}", REDIS_URL="", STORAGE_DIR=str(tmp_path / "storage"),
               PYTHONUNBUFFERED="1")
    for args in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
    port = free_port()
    log_path = tmp_path / "demo.log"
    log = log_path.open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run_demo", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in log_path.read_text():
            assert proc.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "demo did not start within 60 s"
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}", db_file
        assert " 500 " not in log_path.read_text(), log_path.read_text()  # no request failed on the server
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def scan_and_bind(browser, base: str, nickname: str, unit: str, name: str, phone: str, **context_args):
    """On the simulated phone: pick the user, select the meeting's QR code, 扫一扫, open the account's
    link and bind (which signs them in). Returns the page, on the sign-in's done page."""
    users = requests.get(f"{base}/_wechat/_sim/users", timeout=5).json()
    openid = next(u["oa_openid"] for u in users if u["nickname"] == nickname)
    context = browser.new_context(locale="zh-CN", **context_args)
    phone_page = context.new_page()
    phone_page.goto(f"{base}/_wechat/_sim/phone")
    phone_page.wait_for_selector(f"#user option[value='{openid}']", state="attached")
    phone_page.select_option("#user", value=openid)
    phone_page.click("#codes .code")
    phone_page.click("#scan")
    link = phone_page.locator("#chat a[href*='/m/bind?t=']")
    link.wait_for(timeout=10000)
    with context.expect_page() as opened:
        link.click()
    page = opened.value
    page.wait_for_load_state()
    page.fill("input[name=unit_text]", unit)
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", phone)
    page.click("text=确认并签到")
    page.wait_for_url(f"**/m/{CODE}/done**")
    return page


@pytest.mark.browser
def test_a_ballot_on_the_sqlite_demo_in_chromium(browser, sqlite_demo):
    base, db_file = sqlite_demo
    ARTIFACTS.mkdir(exist_ok=True)

    # The organizer binds on the phone, then creates and opens a motion in the console.
    organizer = scan_and_bind(browser, base, "周敏（区政府办公室 会务组）", "区政府办公室", "周敏", "13905710006",
                              viewport={"width": 1024, "height": 900})
    organizer.goto(f"{base}/admin/{CODE}/votes")
    organizer.fill("#create-vote input[name=title]", TITLE)
    organizer.select_option("#create-vote select[name=kind]", "motion")
    organizer.select_option("#create-vote select[name=results_visibility]", "live")
    organizer.click("#create-vote button[type=submit]")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/*")
    vote_id = int(organizer.url.rstrip("/").rsplit("/", 1)[1])
    organizer.click("#open-vote")
    organizer.wait_for_url(f"**/admin/{CODE}/votes/{vote_id}")
    assert "进行中" in organizer.locator("#v-state").inner_text()
    assert organizer.locator("#n-ballots").inner_text() == "0"

    # A first-time attendee scans, binds (signing in), and votes on the H5 ballot page.
    attendee = scan_and_bind(browser, base, "新用户", "区发改局", "张伟", "13905710101", viewport=PHONE,
                             is_mobile=True, has_touch=True)
    attendee.goto(f"{base}/m/{CODE}/votes")
    attendee.click(f"text={TITLE}")
    attendee.click("button:has-text('赞成')")
    attendee.click("text=确认提交")  # a ballot asks once before it is cast
    assert "投票成功" in attendee.locator("#result").inner_text()
    attendee.screenshot(path=str(ARTIFACTS / "sqlite-demo-ballot.png"), full_page=True)
    wait_js(organizer, "document.getElementById('n-ballots').textContent === '1'", timeout=8000)

    # Voting again is refused.
    attendee.goto(f"{base}/m/{CODE}/votes/{vote_id}")
    assert "您已投票" in attendee.locator("main").inner_text()

    # The ballot is in the demo's SQLite file: 张伟's marker, one named ballot choosing 赞成.
    with sqlite3.connect(db_file) as conn:
        voters = conn.execute("SELECT c.name FROM vote_participations p JOIN contacts c ON c.id = p.contact_id "
                              "WHERE p.vote_id = ?", (vote_id,)).fetchall()
        ballots = conn.execute("SELECT c.name, o.label FROM ballots b JOIN contacts c ON c.id = b.contact_id "
                               "JOIN ballot_choices bc ON bc.ballot_id = b.id "
                               "JOIN vote_options o ON o.id = bc.option_id WHERE b.vote_id = ?",
                               (vote_id,)).fetchall()
    assert voters == [("张伟",)] and ballots == [("张伟", "赞成")]
