"""The organizer's whole job in real Chromium, with no CLI: from a system that has units, directories
and bound WeChat users but no meetings, to a closed meeting.

Run twice: the organizer on an office PC (1366×768, logged in by scanning the login code with the
simulator's phone) and the organizer in WeChat's browser on a phone (390×844, WeChat OAuth). The
staff member works the door on a phone in WeChat's browser either way. Attendees scan through the
simulator's phone and appear live on the organizer's page.
"""

from __future__ import annotations

import html
import io
import re
from datetime import timedelta

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from app.services.codes.scenes import make_scene
from app.services.timeutil import local
from tests.browser import ARTIFACTS, DESKTOP, fits_width, wait_js, wechat_page
from tests.factories import clock

PEOPLE = {  # unit code: [(name, phone)]
    "FGJ": [("张伟", "13905710101"), ("王芳", "13905710102"), ("赵磊", "13905710103")],
    "CZJ": [("郭涛", "13905710201"), ("何平", "13905710202")],
    "JYJ": [("梁红梅", "13905710301"), ("谢军", "13905710302"), ("宋佳", "13905710303")],
    "WJW": [("曹阳", "13905710401"), ("彭波", "13905710402")],
}
UNITS = {"BGS": "区委办公室", "FGJ": "区发展和改革局", "CZJ": "区财政局", "JYJ": "区教育局", "WJW": "区卫生健康委员会"}


@pytest.fixture
def district(committed_db):
    """Units and directories, an organizer of 区委办公室, a staff member, and people who bound their
    WeChat at earlier meetings. No meeting."""
    from app.services.meetings import grants
    from tests.factories import Factory

    f = Factory(committed_db)
    units = {code: f.unit(code, name) for code, name in UNITS.items()}
    owner = f.contact(units["BGS"], name="主办王", phone="13905710001", title="办公室主任")
    staff = f.contact(units["BGS"], name="会务李", phone="13905710002", title="会务组")
    f.identity(owner, oa_openid="o-owner")
    f.identity(staff, oa_openid="o-staff")
    openids = {}
    for code, people in PEOPLE.items():
        for name, phone in people:
            contact = f.contact(units[code], name=name, phone=phone, title="科员")
            openids[name] = f"o-{phone}"
            f.identity(contact, oa_openid=openids[name])
    walk_in = f.contact(units["BGS"], name="路人甲", phone="13905710009")
    f.identity(walk_in, oa_openid="o-walkin")
    grants.add_unit_organizer("BGS", "13905710001", actor="test")
    committed_db.session.commit()
    return openids


def spreadsheet() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["单位", "姓名", "手机", "身份", "分组", "座位", "备注"])
    for name, phone in PEOPLE["WJW"]:
        sheet.append([UNITS["WJW"], name, phone, "列席", "卫健组", "", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def times():
    """(date, time) strings in China time: session 1 starts in 40 minutes (its sign-in is open now),
    session 2 an hour after session 1 ends."""
    start = local(clock() + timedelta(minutes=40)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 5)
    end = start + timedelta(hours=2)
    start2 = end + timedelta(hours=1)
    end2 = start2 + timedelta(hours=2)
    return [(t.strftime("%Y-%m-%d"), t.strftime("%H:%M")) for t in (start, end, start2, end2)]


def flash(page) -> str:
    return " ".join(page.locator(".flash").all_inner_texts())


def login_on_pc(browser, live_server, sim, sim_base):
    """The office PC shows the login code; the organizer scans it with WeChat and confirms there."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN")
    pc = context.new_page()
    pc.goto(live_server + "/admin")
    assert "/admin/login" in pc.url
    pc.locator("#login-qr-img").wait_for()
    png = context.request.get(live_server + pc.locator("#login-qr-img").get_attribute("src")).body()
    reply = sim.phone.scan("o-owner", png=png)
    assert "确认登录到电脑端？" in reply.text, reply.public()
    confirm = html.unescape(re.search(r'href="([^"]+)"', reply.text).group(1))
    phone_ctx, phone = wechat_page(browser, sim_base, "o-owner")
    phone.goto(confirm)
    phone.get_by_role("button", name="确认登录").click()
    pc.wait_for_url(live_server + "/admin", timeout=5000)
    phone_ctx.close()
    return context, pc


@pytest.mark.browser
@pytest.mark.parametrize("organizer_browser", ["desktop", "wechat"])
def test_an_organizer_runs_a_meeting_from_a_browser(app, live_server, job_worker, browser, wechat, district,
                                                    organizer_browser):
    sim, sim_base = wechat
    for openid in ["o-owner", "o-staff", "o-walkin", *district.values()]:
        sim.state.ensure_user(openid, subscribed=True)
    shot = f"journey-{organizer_browser}"
    ARTIFACTS.mkdir(exist_ok=True)

    # -- log in ------------------------------------------------------------------------------------
    if organizer_browser == "desktop":
        context, page = login_on_pc(browser, live_server, sim, sim_base)
    else:
        context, page = wechat_page(browser, sim_base, "o-owner")
        page.goto(live_server + "/admin")  # WeChat OAuth through the simulator
        # WeChat's authorize URL ends in #wechat_redirect, which the browser keeps on the way back.
        page.wait_for_url(lambda url: url.split("#")[0] == live_server + "/admin")
    page.on("dialog", lambda d: d.accept())  # the console's "are you sure?" confirmations
    assert "主办王" in page.locator(".topbar").inner_text()

    # -- create the meeting --------------------------------------------------------------------------
    page.get_by_role("link", name="＋ 新建会议").first.click()
    (d1, t1), (d2, t2), (d3, t3), (d4, t4) = times()
    page.fill("input[name=title]", "2027年全区重点工作部署会")
    page.fill("input[name=starts_date]", d1)
    page.fill("input[name=starts_time]", t1)
    page.fill("input[name=ends_date]", d2)
    page.fill("input[name=ends_time]", t2)
    page.fill("input[name=venue]", "区行政中心一楼报告厅")
    page.fill("textarea[name=intro]", "部署2027年全区重点工作。")
    page.check("input[name=admission][value=approval]")
    page.screenshot(path=str(ARTIFACTS / f"{shot}-new.png"), full_page=True)
    page.get_by_role("button", name="保存为草稿").click()
    page.wait_for_url(re.compile(r".*/admin/[A-Za-z0-9_-]+/settings$"))
    code = page.url.rstrip("/").split("/")[-2]
    base = f"{live_server}/admin/{code}"

    # -- a second session and the agenda ---------------------------------------------------------------
    page.goto(base + "/sessions")
    add = page.locator("form", has=page.get_by_role("button", name="添加场次"))
    add.locator("input[name=title]").fill("下午分组讨论")
    add.locator("input[name=starts_date]").fill(d3)
    add.locator("input[name=starts_time]").fill(t3)
    add.locator("input[name=ends_date]").fill(d4)
    add.locator("input[name=ends_time]").fill(t4)
    add.get_by_role("button", name="添加场次").click()
    assert "下午分组讨论" in page.locator("main").inner_text(), flash(page)
    rows = page.locator("#agenda-rows li")
    while rows.count() < 2:
        page.click("#agenda-add")
    for i, (at, title, speaker) in enumerate([("09:00", "传达上级会议精神", "主办王"), ("09:40", "部署重点工作", "张伟")]):
        row = rows.nth(i)
        row.locator("input[name=time]").fill(at)
        row.locator("input[name=title]").fill(title)
        row.locator("input[name=speaker]").fill(speaker)
    page.get_by_role("button", name="保存议程").click()
    assert "议程已保存（2 项）" in flash(page)
    assert page.locator("#agenda-rows input[name=title]").nth(1).input_value() == "部署重点工作"
    page.screenshot(path=str(ARTIFACTS / f"{shot}-sessions.png"), full_page=True)

    # -- invitees: two units, a pasted list, a spreadsheet ------------------------------------------------
    page.goto(base + "/invitees")
    units_form = page.locator("form", has=page.get_by_role("button", name="添加所选单位全体人员"))
    for name in ("区发展和改革局", "区财政局"):
        units_form.locator(f"label[data-name='{name}'] input").check()
    units_form.get_by_role("button", name="添加所选单位全体人员").click()
    assert "共 5 人" in page.locator("main").inner_text(), flash(page)

    page.locator("#paste summary").click()
    page.fill("#paste textarea[name=text]", "13905710301\n谢军\n区教育局 宋佳")
    page.locator("#paste").get_by_role("button", name="检查名单").click()
    page.locator("#paste").get_by_role("button", name=re.compile(r"添加这 3 人")).click()
    assert "共 8 人" in page.locator("main").inner_text(), flash(page)

    page.get_by_text("上传名单表格（Excel 或 CSV）").click()
    upload = page.locator("form", has=page.locator("input[type=file][name=file]"))
    upload.locator("input[name=file]").set_input_files(
        files=[{"name": "名单.xlsx", "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": spreadsheet()}])
    upload.get_by_role("button", name="上传并检查").click()
    page.wait_for_selector("#n-added", timeout=30_000)  # a job checks it while its page shows the progress
    assert "将新增（2）" in page.locator("main").inner_text()
    page.screenshot(path=str(ARTIFACTS / f"{shot}-import-check.png"), full_page=True)
    page.get_by_role("button", name="确认导入").click()
    page.wait_for_url(re.compile(r".*/invitees.*"))
    assert "共 10 人" in page.locator("main").inner_text(), flash(page)
    assert fits_width(page), "the invitee page scrolls sideways"
    page.screenshot(path=str(ARTIFACTS / f"{shot}-invitees.png"), full_page=True)

    # -- a staff organizer -------------------------------------------------------------------------------
    page.goto(base + "/organizers")
    form = page.locator("#organizer-form")
    form.locator("input[name=phone]").fill("13905710002")
    form.locator("select[name=right]").select_option("staff")
    form.get_by_role("button", name="添加").click()
    assert "会务李" in page.locator("main").inner_text(), flash(page)

    # -- publish, print the poster -------------------------------------------------------------------------
    page.goto(base + "/settings")
    page.get_by_role("button", name="发布会议").click()
    assert "已发布" in page.locator(".meetingbar").inner_text(), flash(page)
    page.goto(base)
    page.get_by_role("link", name=re.compile("签到海报")).first.click()
    page.wait_for_selector("#job-download", timeout=30_000)  # a job renders it; its page offers it
    pdf = context.request.get(live_server + page.locator("#job-download").get_attribute("href"))
    assert pdf.status == 200 and pdf.body()[:4] == b"%PDF"
    page.goto(base)

    # -- attendees scan and appear live ------------------------------------------------------------------------
    assert page.locator("#n-expected").inner_text() == "10"
    for name in ("张伟", "郭涛", "梁红梅"):
        reply = sim.phone.post_event(district[name], [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
        assert "签到成功" in reply.text, reply.text
    wait_js(page, "document.getElementById('n-arrived').textContent.trim() === '3'", timeout=5000)
    recent = page.locator("#recent").inner_text()
    assert all(name in recent for name in ("张伟", "郭涛", "梁红梅"))
    page.screenshot(path=str(ARTIFACTS / f"{shot}-live.png"), full_page=True)

    # -- the staff member at the door, on a phone in WeChat ------------------------------------------------------
    staff_ctx, desk = wechat_page(browser, sim_base, "o-staff")
    desk.on("dialog", lambda d: d.accept())
    desk.goto(base + "/door")
    desk.wait_for_url(re.compile(r".*/door.*"))
    guest = desk.locator("form", has=desk.get_by_role("button", name="登记并签到"))
    guest.locator("input[name=name]").fill("临时嘉宾")
    guest.locator("input[name=phone]").fill("13700000001")
    guest.locator("input[name=unit_text]").fill("市委党校")
    guest.get_by_role("button", name="登记并签到").click()
    assert "临时嘉宾" in flash(desk), desk.locator("main").inner_text()[:300]

    walk = sim.phone.post_event("o-walkin", [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
    assert "等待会务组审核" in walk.text, walk.text
    desk.reload()
    desk.get_by_role("button", name="通过并签到").click()
    assert "路人甲" in flash(desk)

    desk.fill("input[name=q]", "赵磊")
    desk.get_by_role("button", name="查找").click()
    unbind = desk.locator("form.unbind-form")
    unbind.locator("input[name=reason]").fill("换了新手机")
    unbind.locator("input[name=confirmed]").check()
    unbind.get_by_role("button", name="解绑").click()
    assert "已解除 赵磊 的微信绑定" in flash(desk)

    leave = desk.locator("form", has=desk.get_by_role("button", name="登记请假"))
    option = leave.locator("select[name=contact_id] option", has_text="王芳").first.get_attribute("value")
    leave.locator("select[name=contact_id]").select_option(option)
    leave.locator("input[name=reason]").fill("外出学习")
    leave.locator("input[name=approver]").fill("主办王")
    leave.get_by_role("button", name="登记请假").click()
    assert "王芳" in flash(desk)
    assert fits_width(desk), "the door page scrolls sideways at 390 px"
    desk.screenshot(path=str(ARTIFACTS / f"{shot}-door.png"), full_page=True)

    # The unbound person scans with their new WeChat, binds again, and is signed in.
    new_openid = "o-zhaolei-new-phone"
    sim.state.ensure_user(new_openid, subscribed=True)
    first = sim.phone.post_event(new_openid, [("Event", "SCAN"), ("EventKey", make_scene(code, 1))])
    link = html.unescape(re.search(r'href="([^"]+/m/bind\?t=[^"]+)"', first.text).group(1))
    bind_ctx, bind = wechat_page(browser, sim_base, new_openid)
    bind.goto(link)
    bind.fill("input[name=unit_text]", "区发展和改革局")
    bind.fill("input[name=name]", "赵磊")
    bind.fill("input[name=phone]", "13905710103")
    bind.click("text=确认并签到")
    bind.wait_for_url(re.compile(r".*/done.*"))
    assert "签到成功" in bind.locator("main").inner_text()
    bind_ctx.close()
    staff_ctx.close()

    # -- the organizer's live page: 6 arrived (3 scans, guest, walk-in, rebound), 1 on leave ---------------
    wait_js(page, "document.getElementById('n-arrived').textContent.trim() === '6'", timeout=5000)
    page.reload()
    assert page.locator("#n-arrived").inner_text() == "6"
    assert "王芳" in page.locator("main").inner_text()  # listed under 请假
    page.screenshot(path=str(ARTIFACTS / f"{shot}-live-after-door.png"), full_page=True)

    # -- close -------------------------------------------------------------------------------------------------
    page.goto(base + "/settings")
    page.get_by_role("button", name="结束会议").click()
    assert "已结束" in page.locator(".meetingbar").inner_text(), flash(page)
    context.close()

    from app.extensions import db
    from models import Leave, Meeting, SignIn

    with app.app_context():
        meeting = db.session.scalar(select(Meeting).where(Meeting.code == code))
        assert meeting.state == "closed" and len(meeting.sessions) == 2 and len(meeting.agenda) == 2
        assert db.session.scalar(select(func.count()).select_from(SignIn).where(
            SignIn.meeting_id == meeting.id, SignIn.revoked_at.is_(None))) == 6
        assert db.session.scalar(select(func.count()).select_from(Leave).where(Leave.meeting_id == meeting.id)) == 1
