"""The offline door in real Chromium: a desk's camera (Chromium's fake media stream playing a video of
personal codes made here) and another desk's USB scanner (keyboard wedge), both with the browser
context offline. 30 scans while offline at desk A (one revoked code, one code of another meeting),
desk B scanning one of the same people first and refusing a code with a broken signature on its own
(the page verifies Ed25519 with the public key it keeps); the page reloaded offline still has its queue; back
online both sync. The database then holds exactly one sign-in per person at their earliest scan,
the organizer's page shows the conflict and the flagged scans, and the headcount is right.

Screenshots of the scanner online and offline at 390×844: test-artifacts/desk-scanner-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import func, select

from app.services.live import headcount
from app.services.signin import desk_sync, desks, personal_codes
from models import DeskScan, SignIn
from tests.browser import ARTIFACTS, DESKTOP, PHONE, chromium, fits_width, wait_js
from tests.console.conftest import build_console
from tests.console.test_invitees_browser import logged_in

#: Generous: the machine is shared and slow; these are upper bounds on waits, never sleeps.
LOAD_MS = 60_000
CAMERA_MS = 300_000
SYNC_MS = 120_000
VALID = 28


def write_y4m(path: Path, codes: list[str], *, width: int = 400, height: int = 300, fps: int = 5,
              frames_per_code: int = 8, gap_frames: int = 2) -> None:
    """A raw YUV 4:2:0 video (Chromium's fake camera reads .y4m): each code held ``frames_per_code``
    frames, then white frames, so one code never runs into the next."""
    chroma = bytes([128]) * ((width // 2) * (height // 2) * 2)
    white = Image.new("L", (width, height), 255).tobytes()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for code in codes:
            qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=5, border=4)
            qr.add_data(code)
            qr.make(fit=True)
            img = qr.make_image().get_image().convert("L")
            frame = Image.new("L", (width, height), 255)
            frame.paste(img, ((width - img.width) // 2, (height - img.height) // 2))
            luma = frame.tobytes()
            for _ in range(frames_per_code):
                out.write(b"FRAME\n" + luma + chroma)
            for _ in range(gap_frames):
                out.write(b"FRAME\n" + white + chroma)


@pytest.fixture
def world(committed_db, tmp_path):
    from tests.factories import Factory

    f = Factory(committed_db)
    console = build_console(f)
    meeting = console.meeting
    other = f.meeting(title="另一个会议")
    people = list(console.people)
    while len(people) < VALID + 1:
        person = f.contact(console.unit, name=f"离线{len(people):02d}", title="科员")
        f.invitee(meeting, person, seat=f"B-{len(people):02d}")
        people.append(person)
    f.invitee(other, people[0])
    codes = [personal_codes.personal_code(meeting, p) for p in people[:VALID]]
    revoked_code = personal_codes.personal_code(meeting, people[VALID])
    personal_codes.revoke(meeting, people[VALID], reason="胸卡遗失", actor=console.staff)
    other_code = personal_codes.personal_code(other, people[0])
    desk_a = desks.issue_desk(meeting, name="东门1号台", actor=console.staff)
    desk_b = desks.issue_desk(meeting, name="西门2号台", actor=console.staff)
    committed_db.session.commit()
    video = tmp_path / "codes.y4m"
    write_y4m(video, [*codes, revoked_code, other_code])
    return {"console": console, "meeting": meeting, "people": people, "codes": codes, "desk_a": desk_a,
            "desk_b": desk_b, "video": video, "revoked_code": revoked_code, "other_code": other_code}


@pytest.fixture
def camera_browser(world):
    """Chromium whose camera plays the video of codes (and asks no one for permission)."""
    with chromium(["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                   f"--use-file-for-fake-video-capture={world['video']}"]) as launched:
        yield launched


#: How many different codes wait in the desk's queue (IndexedDB), read in the page.
QUEUED_CODES = """new Promise((resolve) => { const open = indexedDB.open("huiyi-desk");
  open.onsuccess = () => { const all = open.result.transaction("queue").objectStore("queue").getAll();
    all.onsuccess = () => resolve(new Set(all.result.map((s) => s.code)).size); }; })"""


def _pending(page) -> int:
    return int(page.inner_text("#pending"))


def _open_desk(browser, live_server, token: str, viewport: dict):
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    page = context.new_page()
    page.goto(f"{live_server}/desk/#t={token}")
    wait_js(page, "document.body.classList.contains('ready')", timeout=LOAD_MS)
    # The service worker has the page and its scripts before the network goes.
    wait_js(page, "navigator.serviceWorker.controller !== null", timeout=LOAD_MS)
    assert "#t=" not in page.url, "the token stays out of the address bar"
    return context, page


@pytest.mark.browser
@pytest.mark.slow
def test_offline_desks_scan_sync_and_merge(app, live_server, camera_browser, world, committed_db):
    meeting, people = world["meeting"], world["people"]
    ctx_a, page_a = _open_desk(camera_browser, live_server, world["desk_a"].token, PHONE)
    ctx_b, page_b = _open_desk(camera_browser, live_server, world["desk_b"].token, DESKTOP)
    assert page_a.inner_text("#meeting-title") == meeting.title
    assert page_a.inner_text("#net-state") == "在线" and page_a.is_hidden("#offline-banner")
    assert fits_width(page_a)
    page_a.screenshot(path=str(ARTIFACTS / "desk-scanner-online-390.png"))

    # The network goes at both desks.
    for ctx, page in ((ctx_a, page_a), (ctx_b, page_b)):
        ctx.set_offline(True)
        wait_js(page, "!document.getElementById('offline-banner').hidden", timeout=LOAD_MS)
        assert page.inner_text("#net-state") == "离线"

    # Desk B's USB scanner reads person 0 first (a wedge types the code and Enter).
    page_b.fill("#wedge", world["codes"][0])
    page_b.press("#wedge", "Enter")
    wait_js(page_b, "document.getElementById('pending').textContent === '1'", timeout=LOAD_MS)
    assert page_b.inner_text("#verdict") == "签到成功" and people[0].name in page_b.inner_text("#person")
    page_b.screenshot(path=str(ARTIFACTS / "desk-scanner-wedge-1366.png"))
    # A code whose signature does not hold (one character changed) is refused by the desk itself,
    # offline: the page verifies the Ed25519 signature with the public key it keeps.
    code = world["codes"][1]
    tampered = code[:-3] + ("A" if code[-3] != "A" else "B") + code[-2:]
    page_b.fill("#wedge", tampered)
    page_b.press("#wedge", "Enter")
    wait_js(page_b, "document.getElementById('pending').textContent === '2'", timeout=LOAD_MS)
    assert page_b.inner_text("#verdict") == "无效代码"

    # Desk A's camera: every code of the video, read while offline.
    page_a.click("#camera-toggle")
    wait_js(page_a, QUEUED_CODES + ".then((n) => n >= 30)", timeout=CAMERA_MS, polling=500)
    page_a.click("#camera-toggle")  # off: the video loops
    scans_a = _pending(page_a)
    # Each code once: the camera takes a code it keeps seeing as one scan.
    assert scans_a == page_a.evaluate(QUEUED_CODES) == 30
    assert "待上传" in page_a.inner_text("#offline-banner")
    recent = page_a.inner_text("#recent")
    assert "离线" in recent or "签到成功" in recent or "已签到" in recent
    page_a.screenshot(path=str(ARTIFACTS / "desk-scanner-offline-390.png"))

    # Reloaded with no network: the service worker serves the page, IndexedDB still holds the queue.
    page_a.reload()
    wait_js(page_a, "document.body.classList.contains('ready')", timeout=LOAD_MS)
    wait_js(page_a, f"document.getElementById('pending').textContent === '{scans_a}'", timeout=LOAD_MS)
    assert page_a.inner_text("#meeting-title") == meeting.title and page_a.is_visible("#offline-banner")
    assert page_a.locator("#recent li").count() == 8  # the latest of the queue, listed again
    # Nothing reached the server while offline.
    assert committed_db.session.scalar(select(func.count()).select_from(DeskScan)) == 0
    committed_db.session.rollback()

    # The network is back: both desks sync by themselves.
    for ctx in (ctx_a, ctx_b):
        ctx.set_offline(False)
    for page in (page_a, page_b):
        wait_js(page, "document.getElementById('pending').textContent === '0'", timeout=SYNC_MS, polling=250)
        assert page.is_hidden("#offline-banner")

    db = committed_db
    db.session.rollback()
    scans = db.session.scalars(select(DeskScan).where(DeskScan.meeting_id == meeting.id)).all()
    assert len(scans) == scans_a + 2
    by_code = {}
    for s in scans:
        by_code.setdefault(s.code, []).append(s)
    assert set(by_code) == {*world["codes"], world["revoked_code"], world["other_code"], tampered}
    assert {s.flag for s in by_code[tampered]} == {"forged"}
    assert {s.flag for s in by_code[world["revoked_code"]]} == {"revoked"}
    assert {s.flag for s in by_code[world["other_code"]]} == {"other_meeting"}

    # Exactly one live sign-in per person, at their earliest scan; the revoked person has none.
    live = db.session.scalars(select(SignIn).where(SignIn.meeting_id == meeting.id, SignIn.revoked_at.is_(None))).all()
    assert sorted(s.contact_id for s in live) == sorted(p.id for p in people[:VALID])
    for s in live:
        earliest = min(x.scanned_at for x in scans if x.contact_id == s.contact_id and x.flag is None)
        assert s.signed_at == earliest and s.method == "desk"
    first = next(s for s in live if s.contact_id == people[0].id)
    b_scan = next(s for s in scans if s.desk_id == world["desk_b"].desk.id and s.flag is None)
    assert first.signed_at == b_scan.scanned_at  # desk B saw person 0 before desk A's camera did
    conflicts = desk_sync.conflicts(meeting)
    assert [c.name for c in conflicts] == [people[0].name]

    # The headcount counts the offline sign-ins.
    session = meeting.sessions[0]
    assert headcount.database_truth(session.id)[0] == VALID
    assert headcount.numbers(meeting, session, missing=False).arrived == VALID

    # The organizer's page shows the conflict and the flagged scans; the live numbers agree.
    ctx_o, page_o = logged_in(camera_browser, app, world["console"], "staff", PHONE, live_server)
    page_o.goto(f"{live_server}/admin/{meeting.code}/desks")
    assert people[0].name in page_o.inner_text("#conflicts")
    assert "东门1号台" in page_o.inner_text("#conflicts") and "西门2号台" in page_o.inner_text("#conflicts")
    flagged = page_o.inner_text("#flagged")
    assert "代码已撤销" in flagged and "非本会议代码" in flagged and "无效代码" in flagged
    assert fits_width(page_o)
    page_o.screenshot(path=str(ARTIFACTS / "console-desks-390.png"), full_page=True)
    numbers = page_o.evaluate(f"fetch('/admin/{meeting.code}/numbers.json').then(r => r.json())")
    assert numbers["arrived"] == VALID
    for ctx in (ctx_a, ctx_b, ctx_o):
        ctx.close()
