"""The invitees and organizers pages in real Chromium, at a phone's width (390 px) and an office
PC's (1366 px): they fit, the directory search adds someone, the edit dialog saves, a pasted list
is checked. Screenshots go to test-artifacts/console-invitees-*.png."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from sqlalchemy import select

from app.web.auth import SESSION_KEY
from models import Contact, Invitee, SignIn
from tests.browser import ARTIFACTS
from tests.console.conftest import build_console

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}


@pytest.fixture
def data(committed_db):
    from tests.factories import Factory

    console = build_console(Factory(committed_db))
    db = committed_db
    meeting = console.meeting
    units = [console.unit, console.other_unit]
    groups = ["第一代表团", "第二代表团", None]
    ids = db.session.execute(sa.insert(Contact).returning(Contact.id, sort_by_parameter_order=True), [
        {"unit_id": units[i % 2].id, "name": ["欧阳娜娜", "张伟", "李秀英", "王芳"][i % 4] + f"{i:02d}",
         "phone": f"1350000{i:04d}", "tags": []} for i in range(70)]).scalars().all()
    db.session.execute(sa.insert(Invitee), [
        {"meeting_id": meeting.id, "contact_id": c, "role": ["代表", "列席", "领导"][i % 3], "status": "approved",
         "group_name": groups[i % 3], "seat": f"{i // 10 + 1}排{i % 10 + 1}座" if i % 4 else None,
         "note": "需要轮椅通道" if i == 3 else None} for i, c in enumerate(ids)])
    db.session.execute(sa.insert(SignIn), [{"meeting_id": meeting.id, "session_id": meeting.sessions[0].id,
                                            "contact_id": c, "method": "scan", "signed_at": datetime.now(UTC)}
                                           for c in ids[:25]])
    for unit in units:  # two people of the same name, for the pasted list
        db.session.add(Contact(unit_id=unit.id, name="同名人", phone=f"1351111{unit.id:04d}", tags=[]))
    db.session.commit()
    return console


def logged_in(browser, app, console, who: str, viewport: dict, live_server: str):
    cookie = app.session_interface.get_signing_serializer(app).dumps({SESSION_KEY: console.identities[who].id})
    context = browser.new_context(viewport=viewport, locale="zh-CN", device_scale_factor=1,
                                  is_mobile=viewport is PHONE, has_touch=viewport is PHONE)
    context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": live_server}])
    return context, context.new_page()


def fits_width(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.parametrize("size", ["390", "1366"])
def test_invitees_page_reads_well_and_works(app, live_server, browser, data, committed_db, size):
    viewport = PHONE if size == "390" else DESKTOP
    context, page = logged_in(browser, app, data, "owner", viewport, live_server)
    base = f"{live_server}/admin/{data.meeting.code}"
    page.goto(f"{base}/invitees")
    assert "参会人员" in page.locator("h2").first.inner_text()
    assert fits_width(page), f"invitees page scrolls sideways at {size} px"
    assert page.locator("tbody tr").count() == 50
    page.screenshot(path=str(ARTIFACTS / f"console-invitees-{size}.png"), full_page=True)

    # The unit checklist filters as one types.
    page.click("text=按单位添加")
    page.fill(".unit-filter", "组织部")
    assert page.locator(".checklist label:visible").count() == 1
    page.fill(".unit-filter", "")
    page.locator("section.add").screenshot(path=str(ARTIFACTS / f"console-invitees-units-{size}.png"))
    page.click("text=按单位添加")

    # The directory search adds one person with the button next to them.
    page.click("text=从通讯录选人")
    page.fill("#dir-q", "路人")
    page.locator("#dir-results button", has_text="添加").first.click()
    page.locator("#dir-results .badge", has_text="已添加").wait_for()
    assert committed_db.session.scalar(select(Invitee.id).where(Invitee.contact_id == data.stranger.id))
    page.screenshot(path=str(ARTIFACTS / f"console-invitees-search-{size}.png"), full_page=False)

    # One person's edit dialog.
    page.goto(f"{base}/invitees?q=参会0")
    page.click("button.edit")
    page.fill("#edit-dialog input[name=seat]", "主席台1号")
    page.locator("#edit-dialog button", has_text="保存").click()
    page.wait_for_selector(".flash")
    assert "已修改 1 人" in page.locator(".flash").inner_text()
    assert "主席台1号" in page.locator("tbody").inner_text()

    # Filtered to the unsigned, with a selection: the batch toolbar opens and the remove asks first.
    page.goto(f"{base}/invitees?status=unsigned&group=第一代表团")
    page.check("#select-all")
    assert "已选" in page.locator("#selected-count").inner_text()
    page.click("text=批量设置所选")
    assert fits_width(page)
    page.screenshot(path=str(ARTIFACTS / f"console-invitees-batch-{size}.png"), full_page=True)

    # A pasted list with a name that two people share.
    page.goto(f"{base}/invitees")
    page.click("text=粘贴名单")
    page.fill("#paste textarea", "同名人\n区委办公室 李秀英02\n查无此人\n" + data.people[1].phone)
    page.click("text=检查名单")
    report = page.locator(".paste-report").inner_text()
    assert "可识别 2 行" in report and "无法确定 2 行" in report and "通讯录中有 2 位“同名人”" in report
    assert page.locator(".candidates button", has_text="添加此人").count() == 2
    assert fits_width(page)
    page.locator(".paste-report").screenshot(path=str(ARTIFACTS / f"console-invitees-paste-{size}.png"))
    context.close()


@pytest.mark.browser
@pytest.mark.parametrize("size", ["390", "1366"])
def test_import_report_and_organizers_pages(app, live_server, job_worker, browser, data, committed_db, size,
                                           tmp_path):
    viewport = PHONE if size == "390" else DESKTOP
    context, page = logged_in(browser, app, data, "owner", viewport, live_server)
    base = f"{live_server}/admin/{data.meeting.code}"
    wb = openpyxl.Workbook()
    for row in (["单位", "姓名", "手机", "身份", "分组", "座位", "备注"],
                ["区委办公室", data.stranger.name, data.stranger.phone, "列席", "第一代表团", "3排1座", ""],
                ["区委组织部", data.people[1].name, data.people[1].phone, "领导", "", "", "提前到场"],
                ["区委办公室", "查无此人", "13977778888", "", "", "", ""],
                ["区委办公室", "错号", "1234", "", "", "", ""]):
        wb.active.append(row)
    path = tmp_path / "名单.xlsx"
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    page.goto(f"{base}/invitees")
    page.click("text=上传名单表格")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=上传并检查")
    page.wait_for_url("**/invitees/import/**")  # the check's progress (a job), then its report
    page.wait_for_selector("#n-added", timeout=30_000)
    assert page.locator("#n-added").inner_text() == "1" and page.locator("#n-rejected").inner_text() == "2"
    assert fits_width(page), f"import report scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-invitees-import-{size}.png"), full_page=True)
    page.click("text=确认导入")
    page.wait_for_selector(".flash")
    assert "新增 1 人" in page.locator(".flash").inner_text()

    page.goto(f"{base}/organizers")
    assert "主办王" in page.locator("main").inner_text()
    page.fill("#dir-q", "路人")
    page.locator("#dir-results button", has_text="选择").click()
    assert "已选择：路人钱" in page.locator("#picked").inner_text()
    page.select_option("#organizer-form select[name=right]", "viewer")
    page.locator("#organizer-form button", has_text="添加").click()
    page.wait_for_selector(".flash")
    assert "路人钱 的权限已设为“只读”" in page.locator(".flash").inner_text()
    assert fits_width(page), f"organizers page scrolls sideways at {size} px"
    page.screenshot(path=str(ARTIFACTS / f"console-invitees-organizers-{size}.png"), full_page=True)
    context.close()
