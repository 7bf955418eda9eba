"""Issue 18's whole flow in real Chromium, with the simulator's WeChat at the door.

A unit office registers its delegation of five on a phone with the meeting's invitation code and its
unit number; the organizer approves them at the console, allocates rooms with one click (checked
against every rule), seats them automatically and prints the seat plan, puts them at lunch tables
and prints their badges. Then one of them scans the meeting's code for the first time, binds, and is
signed in: the reply, the page after binding and the service card name their seat, room and lunch.
Screenshots go to test-artifacts/flow-*.png.
"""

from __future__ import annotations

import html
import re
from collections import Counter, defaultdict
from datetime import timedelta

import pypdfium2 as pdfium
import pytest
from sqlalchemy import select

from app.services.codes.scenes import make_scene
from app.services.timeutil import local
from tests.browser import ARTIFACTS, DESKTOP, PHONE, WECHAT_UA, fits_width, wechat_page
from tests.console.test_invitees_browser import logged_in
from tests.factories import clock

pytestmark = pytest.mark.browser

DELEGATION = [("陈国栋", "13600100001", "男"), ("林晓红", "13600100002", "女"), ("吴建华", "13600100003", "男"),
              ("周丽娟", "13600100004", "女"), ("郑海涛", "13600100005", "男")]


def pdf_text(path) -> str:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return "".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


@pytest.fixture
def flow(committed_db):
    from app.services.logistics import lodging, meals, seating
    from app.services.registration import forms
    from tests.console.conftest import build_console
    from tests.factories import Factory

    f = Factory(committed_db)
    console = build_console(f, code="FLOW18")
    m = console.meeting
    unit = f.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    fields = [{"key": k, "required": k in ("name", "phone", "gender")}
              for k in ("name", "title", "phone", "gender", "needs_room", "diet")]
    form = forms.create_form(m, actor="test", title="代表报名", role="代表", access="code", invite_code="FGJ2026",
                             needs_approval=True, fields=fields, published=True)
    # Hotel A holds the five together (a single and two doubles); hotel B only doubles.
    a = lodging.save_hotel(m, {"name": "会议中心酒店", "address": "市府路 1 号"}, actor="test")
    b = lodging.save_hotel(m, {"name": "迎宾馆"}, actor="test")
    single = lodging.add_type(m, a, {"name": "单人间", "beds": "1"}, actor="test")
    double = lodging.add_type(m, a, {"name": "标准间", "beds": "2"}, actor="test")
    b_double = lodging.add_type(m, b, {"name": "标准间", "beds": "2"}, actor="test")
    lodging.add_rooms(m, a, {"type_id": single.id, "number": "1201"}, actor="test")
    lodging.add_rooms(m, a, {"type_id": double.id, "number": "1202-1203"}, actor="test")
    lodging.add_rooms(m, b, {"type_id": b_double.id, "number": "301-303"}, actor="test")
    seating.create_plan(m, {"name": "大礼堂", "rows": "6", "seats_per_row": "10", "aisles": "5",
                            "on_card": "1"}, actor="test")
    tomorrow = local(clock() + timedelta(days=1)).date().isoformat()  # a lunch still ahead at any hour
    lunch = meals.save_sitting(m, {"name": "午餐", "day": tomorrow, "starts": "12:00", "ends": "13:00",
                                   "place": "2 楼宴会厅"}, actor="test")
    meals.add_tables(m, lunch, {"count": "2", "seats": "10"}, actor="test")
    committed_db.session.commit()
    return console, form, unit


def test_a_delegation_registers_is_placed_printed_and_signs_in_at_the_door(app, live_server, job_worker, browser,
                                                                         wechat, flow, committed_db):
    from models import Hotel, Registration, Room, RoomAssignment, RoomType, SeatAssignment, SignIn

    console, form, unit = flow
    meeting, code = console.meeting, console.meeting.code
    sim, sim_base = wechat
    ARTIFACTS.mkdir(exist_ok=True)

    # 1. The unit office registers its five on a phone with the invitation code and its unit number.
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True,
                              user_agent=WECHAT_UA, locale="zh-CN")
    page = ctx.new_page()
    page.goto(f"{live_server}/r/{code}/f/{form.id}")
    page.fill('[name="invite_code"]', "fgj2026")
    page.fill('[name="unit_code"]', "FGJ")
    for i, (name, phone, gender) in enumerate(DELEGATION):
        if i:
            page.click("#add-person")
        page.fill(f'[name="p-{i}-name"]', name)
        page.fill(f'[name="p-{i}-title"]', "科长" if i else "局长")
        page.fill(f'[name="p-{i}-phone"]', phone)
        page.select_option(f'[name="p-{i}-gender"]', gender)
        page.check(f'[name="p-{i}-needs_room"]')
    page.check('[name="p-2-diet"][value="清真"]')
    page.click("button[type=submit]")
    page.wait_for_url("**/done/**")
    assert "共 5 人" in page.content() and fits_width(page)
    page.screenshot(path=str(ARTIFACTS / "flow-registered-390.png"), full_page=True)
    ctx.close()

    # 2. The organizer approves all five.
    ctx, admin = logged_in(browser, app, console, "staff", DESKTOP, live_server)
    admin.on("dialog", lambda d: d.accept())
    admin.goto(f"{live_server}/admin/{code}/registration")
    assert admin.locator("tbody tr").count() == 5
    admin.check("[data-check-all]")
    admin.click("button[value=approve]")
    assert "已通过 5 人" in admin.content()

    # 3. One-click allocation, then publication: every rule holds.
    admin.goto(f"{live_server}/admin/{code}/lodging")
    admin.click("#allocate")
    admin.wait_for_url("**/lodging#allocation")
    assert admin.inner_text("#n-assigned") == "5" and admin.inner_text("#n-unplaced") == "0"
    admin.click("#publish")
    admin.wait_for_load_state()
    admin.screenshot(path=str(ARTIFACTS / "flow-lodging-1366.png"), full_page=True)
    committed_db.session.remove()
    s = committed_db.session
    rows = s.execute(select(RoomAssignment.contact_id, Room.number, Hotel.name, RoomType.beds, Registration.gender)
                     .join(Room, Room.id == RoomAssignment.room_id).join(Hotel, Hotel.id == Room.hotel_id)
                     .join(RoomType, RoomType.id == Room.type_id)
                     .join(Registration, Registration.contact_id == RoomAssignment.contact_id)
                     .where(RoomAssignment.meeting_id == meeting.id)).all()
    assert len(rows) == 5 and {r.name for r in rows} == {"会议中心酒店"}  # the delegation together
    by_room = defaultdict(list)
    for r in rows:
        by_room[r.number].append(r)
    for number, occupants in by_room.items():
        assert len(occupants) <= occupants[0].beds, f"room {number} over capacity"
        assert len({o.gender for o in occupants}) == 1, f"room {number} mixes genders"

    # 4. Seats assigned automatically; the plan printed as a PDF with the names as text.
    admin.goto(f"{live_server}/admin/{code}/seating")
    admin.click("button:has-text('自动排座')")
    admin.wait_for_load_state()
    admin.click("button:has-text('导出座次图 PDF')")
    with admin.expect_download(timeout=30000) as download:
        admin.locator("#export-job a:has-text('下载')").first.click(timeout=30000)
    plan_text = pdf_text(download.value.path())
    assert all(name in plan_text for name, _p, _g in DELEGATION)
    admin.screenshot(path=str(ARTIFACTS / "flow-seating-1366.png"), full_page=True)

    # 5. Lunch tables, then the badges.
    admin.goto(f"{live_server}/admin/{code}/meals")
    admin.click("button:has-text('一键安排桌位')")
    admin.wait_for_load_state()
    admin.goto(f"{live_server}/admin/{code}/badges")
    admin.click("button:has-text('生成胸卡 PDF')")
    with admin.expect_download(timeout=60000) as download:
        admin.locator("#print-job a:has-text('下载 PDF')").click(timeout=60000)
    badges_text = pdf_text(download.value.path())
    assert all(name in badges_text for name, _p, _g in DELEGATION) and "区发展和改革局" in badges_text
    admin.screenshot(path=str(ARTIFACTS / "flow-badges-1366.png"), full_page=True)
    ctx.close()

    committed_db.session.remove()
    s = committed_db.session
    chen = s.scalar(select(Registration).where(Registration.phone == DELEGATION[0][1]))
    room = s.execute(select(Hotel.name, Room.number).join(Room, Room.hotel_id == Hotel.id)
                     .join(RoomAssignment, RoomAssignment.room_id == Room.id)
                     .where(RoomAssignment.contact_id == chen.contact_id)).one()
    assert s.scalar(select(SeatAssignment.id).where(SeatAssignment.contact_id == chen.contact_id))

    # 6. At the door: the first scan asks who they are; binding signs them in with seat, room, lunch.
    openid = "o-chenguodong"
    sim.state.ensure_user(openid, subscribed=True)
    first = sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
    link = html.unescape(re.search(r'href="([^"]+/m/bind\?t=[^"]+)"', first.text).group(1))
    bind_ctx, bind = wechat_page(browser, sim_base, openid)
    bind.goto(link)
    bind.fill("input[name=unit_text]", "发改局")
    bind.fill("input[name=name]", "陈国栋")
    bind.fill("input[name=phone]", DELEGATION[0][1])
    bind.click("text=确认并签到")
    bind.wait_for_url(re.compile(r".*/done.*"))
    done = bind.locator("main").inner_text()
    assert "签到成功" in done
    line = bind.inner_text("#card-line")
    assert "座位" in line and f"住宿 {room.name} {room.number}" in line and "午餐 2 楼宴会厅" in line, line
    bind.screenshot(path=str(ARTIFACTS / "flow-door-done-390.png"), full_page=True)
    bind.goto(f"{live_server}/m/{code}")
    card = bind.inner_text("#service-card")
    assert room.number in card and room.name in card and "2 楼宴会厅" in card and "排" in card, card
    assert fits_width(bind) and bind.locator("#registration a").get_attribute("href") == f"/r/{code}"
    bind.screenshot(path=str(ARTIFACTS / "flow-service-card-390.png"), full_page=True)
    bind_ctx.close()
    again = sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
    assert again.text.startswith("您已签到") and f"住宿 {room.name} {room.number}" in again.text, again.text
    committed_db.session.remove()
    assert Counter(committed_db.session.scalars(select(SignIn.contact_id).where(
        SignIn.meeting_id == meeting.id))) == Counter([chen.contact_id])
