"""The 签到表: every listed person in unit order then rank, with the sign-in time, method (代签 by
whom, desk-added guest), late and leave, read back from xlsx and PDF and compared with the database."""

from __future__ import annotations

from datetime import UTC, datetime

from PIL import Image, ImageStat
from sqlalchemy import select

from app.services.reports.export import export
from app.services.timeutil import local
from models import AuditLog, SignIn
from tests.reports.conftest import TITLE
from tests.reports.helpers import pdf_pages, pdf_text, render_png, xlsx_sheets

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _signed(db, contact) -> datetime:
    at = db.session.scalar(select(SignIn.signed_at).where(SignIn.contact_id == contact.id,
                                                          SignIn.revoked_at.is_(None)))
    return local(at).replace(tzinfo=None, microsecond=0)


def expected_rows(db, scene) -> list[list]:
    p = scene.people
    t = {k: _signed(db, c) for k, c in p.items() if k in ("a1", "a2", "b1", "b2")}
    guest_at = _signed(db, scene.guest)
    return [
        # 区发展和改革局 (added first), 领导 before 代表 before 列席
        [1, "区发展和改革局", "张发一", "局长", "领导", "A-01", t["a1"], "扫码", None, None],
        [2, "区发展和改革局", "李发二", "副局长", "代表", "A-02", t["a2"], "代签（会务李）", None, None],
        [3, "区发展和改革局", "王发三", "=SUM(A1:A9)", "列席", "A-03", None, None, None, "请假"],
        [4, "区财政局", "赵财一", "局长", "领导", "B-01", t["b1"], "H5网页", "迟到", None],
        [5, "区财政局", "钱财二", "科长", "代表", "B-02", t["b2"], "小程序", None, None],
        [6, "区财政局", "孙财三", "科员", "代表", None, None, None, None, None],
        [7, "区财政局", "周财四", "+办公室主任", "工作人员", None, None, None, None, None],
        [8, "临时人员（市统计局）", "刘来宾", None, "列席", None, guest_at, "现场添加（会务李）",
         "迟到", None],
    ]


def test_xlsx_equals_the_database_row_by_row(db, scene):
    out = export(scene.meeting, "signin_sheet", "xlsx", actor="contact:1", now=NOW)
    assert out.filename == f"{TITLE}-签到表-2026-11-23.xlsx"
    sheet = xlsx_sheets(out.data)["签到表"]
    assert sheet["title"] == "签到表" and sheet["meeting"] == TITLE
    assert sheet["headers"] == ["序号", "单位", "姓名", "职务", "身份", "座位", "签到时间", "签到方式", "迟到", "请假"]
    assert sheet["rows"] == expected_rows(db, scene)
    assert "应到：7" in sheet["facts"] and "实到：5" in sheet["facts"] and "签到率：71.4%" in sheet["facts"]
    # Text a spreadsheet would run as a formula stays text, shown with the quote prefix.
    ws = sheet["ws"]
    for row in ws.iter_rows(min_row=6):
        for cell in row:
            if isinstance(cell.value, str) and cell.value[:1] in "=+-@":
                assert cell.data_type == "s" and cell.quotePrefix, cell.coordinate
    # The download is in the audit log with who made it.
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "report.export"))
    assert (entry.actor, entry.target, entry.data["format"]) == ("contact:1", "report:signin_sheet", "xlsx")


def test_pdf_text_equals_the_database_and_is_real_cjk_text(db, scene):
    out = export(scene.meeting, "signin_sheet", "pdf", actor="test", now=NOW)
    assert out.filename.endswith("-签到表-2026-11-23.pdf") and out.content_type == "application/pdf"
    assert b"/FontFile2" in out.data  # an embedded TrueType font: text, not a picture
    assert b"/Subtype /Image" not in out.data
    text = pdf_text(out.data)
    assert "签到表" in text and TITLE in text and "第 1 页 共 1 页" in text
    assert "签名" in text and "应到：7" in text
    lines = [line for line in text.splitlines() if line[:1].isdigit() and " " in line and "第" not in line[:2]]
    body = [line for line in lines if line.split(" ")[0].isdigit() and int(line.split(" ")[0]) <= 8
            and not line.startswith("20")]
    want = []
    for row in expected_rows(db, scene):
        cells = [str(row[0])] + ["" if v is None else (v.strftime("%m-%d %H:%M:%S") if isinstance(v, datetime)
                                                       else str(v)) for v in row[1:]]
        want.append(" ".join(c for c in cells if c))
    assert body == want


def test_pdf_pages_a_long_list_with_headers_and_numbers(db, factory, scene):
    from app.services.meetings.meetings import invite_contact

    unit = scene.units[1]
    for i in range(150):
        c = factory.contact(unit, name=f"长名单{i:03d}", phone=f"1350000{i:04d}", title="干部")
        invite_contact(scene.meeting, c, actor="test")
    db.session.commit()
    out = export(scene.meeting, "signin_sheet", "pdf", actor="test", now=NOW)
    pages = pdf_pages(out.data)
    assert len(pages) >= 5
    for n, page in enumerate(pages, start=1):
        assert f"第 {n} 页 共 {len(pages)} 页" in page
        assert f"{TITLE} · 签到表" in page  # the running header
        assert "序号 单位 姓名 职务" in page  # the table's header row repeats on every page
    # No row is cut across pages: every person appears exactly once, whole.
    joined = "\n".join(pages)
    for i in range(150):
        assert joined.count(f"长名单{i:03d} 干部") == 1
    path = render_png(out.data, "reports-signin-sheet-page2.png", page=1)
    assert ImageStat.Stat(Image.open(path).convert("L")).mean[0] < 250  # ink on the page


def test_first_page_rendered_for_people_to_look_at(db, scene):
    out = export(scene.meeting, "signin_sheet", "pdf", actor="test", now=NOW)
    path = render_png(out.data, "reports-signin-sheet.png")
    image = Image.open(path)
    assert image.width > image.height  # landscape: the signature column needs the room
    assert ImageStat.Stat(image.convert("L")).extrema[0][0] < 60
