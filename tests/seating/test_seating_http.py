"""The console's 座次 page over HTTP: who may do what, the forms refusing hostile input with nothing
written, auto-assign and moves, and the exports as jobs whose PDF carries the names as text."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from app import jobs
from app.services.logistics import seating
from models import AuditLog, Job, SeatAssignment, SeatPlan
from tests.browser import ARTIFACTS
from tests.console.conftest import build_console, login_as
from tests.reports.helpers import pdf_pages
from tests.seating.helpers import CJK_NAMES, invite_people

FORM = {"name": "大礼堂", "rows": "6", "seats_per_row": "12", "aisles": "3, 9", "numbering": "odd_right",
        "rostrum_rows": "1", "rostrum_seats": "7", "sections": "", "blocked": "2排1号 损坏", "on_card": "1"}
SECTIONS = "第一代表团 5-6 1-12"


@pytest.fixture
def scene(factory):
    data = build_console(factory)
    invite_people(factory, data.meeting, 24, units=3, leaders=2, names=CJK_NAMES)
    factory.db.session.commit()
    return data


def url(scene, tail=""):
    return f"/admin/{scene.meeting.code}/seating{tail}"


def make_plan(client, scene, **over):
    answer = client.post(url(scene, "/plans"), data={**FORM, **over})
    assert answer.status_code == 302
    return seating.plans(scene.meeting)[-1]


def test_staff_builds_a_plan_auto_assigns_and_sees_the_names(client, scene):
    login_as(client, scene, "staff")
    plan = make_plan(client, scene)
    assert plan.blocked == [{"row": 2, "seat": 7, "reason": "broken"}]  # 1号 in the centre of 12: position 7
    answer = client.post(url(scene, f"/plans/{plan.id}/assign"), follow_redirects=True)
    assert "自动排座完成" in answer.text
    page = client.get(url(scene, f"?plan={plan.id}")).text
    for name in CJK_NAMES:
        assert name in page
    assert "主席台" in page and 'class="subtabs"' in page and "未安排座位" in page


def test_move_answers_json_and_a_taken_seat_is_409(client, scene, db):
    login_as(client, scene, "owner")
    plan = make_plan(client, scene)
    client.post(url(scene, f"/plans/{plan.id}/assign"))
    seats = {a.contact_id: (a.row, a.seat) for a in db.session.scalars(
        select(SeatAssignment).where(SeatAssignment.plan_id == plan.id))}
    a, b = sorted(seats)[3], sorted(seats)[10]
    hdr = {"Accept": "application/json"}
    taken = client.post(url(scene, f"/plans/{plan.id}/move"), headers=hdr,
                        data={"contact_id": a, "row": seats[b][0], "seat": seats[b][1], "occupant": ""})
    assert taken.status_code == 409 and taken.get_json()["error"]["code"] == "seat_taken"
    swapped = client.post(url(scene, f"/plans/{plan.id}/move"), headers=hdr,
                          data={"contact_id": a, "row": seats[b][0], "seat": seats[b][1], "occupant": b})
    assert swapped.status_code == 200 and swapped.get_json()["swapped_with"] == b
    db.session.expire_all()
    after = {x.contact_id: (x.row, x.seat) for x in db.session.scalars(
        select(SeatAssignment).where(SeatAssignment.plan_id == plan.id))}
    assert after[a] == seats[b] and after[b] == seats[a]
    bad = client.post(url(scene, f"/plans/{plan.id}/move"), headers=hdr,
                      data={"contact_id": a, "row": "99", "seat": "1"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "seat_invalid"
    blocked = client.post(url(scene, f"/plans/{plan.id}/move"), headers=hdr,
                          data={"contact_id": a, "row": "2", "seat": "7"})
    assert blocked.get_json()["error"]["code"] == "seat_blocked"
    stranger = client.post(url(scene, f"/plans/{plan.id}/move"), headers=hdr,
                           data={"contact_id": scene.stranger.id, "row": "6", "seat": "1"})
    assert stranger.get_json()["error"]["code"] == "person_not_invited"
    gone = client.post(url(scene, f"/plans/{plan.id}/unassign"), headers=hdr, data={"contact_id": a})
    assert gone.get_json() == {"ok": True}


@pytest.mark.parametrize(("field", "value", "code"), [
    ("name", "", "name_invalid"), ("rows", "1; DROP TABLE seat_plans", "rows_invalid"),
    ("seats_per_row", "12.5", "seats_invalid"), ("aisles", "<img src=x>", "aisles_invalid"),
    ("numbering", "'; --", "numbering_invalid"), ("rostrum_rows", "-1", "rostrum_invalid"),
    ("rostrum_seats", "abc", "rostrum_invalid"), ("sections", "一团 1-2 x", "section_invalid"),
    ("blocked", "\ufeff3排", "blocked_invalid"), ("session", "../../1", "session_invalid"),
    ("rostrum_people", "不存在的人", "rostrum_people_invalid"), ("name", "x" * 70000, "input_invalid"),
])
def test_hostile_form_input_is_refused_nothing_written(client, scene, db, field, value, code):
    login_as(client, scene, "owner")
    before = db.session.scalar(select(func.count()).select_from(AuditLog))
    answer = client.post(url(scene, "/plans"), data={**FORM, field: value}, headers={"Accept": "application/json"})
    assert answer.status_code in (302, 400, 422)
    page = client.get(answer.location if answer.status_code == 302 else url(scene)).text
    expected = seating.SeatingError(code, **({"detail": "", "line": 1, "item": value[:10]})).message.split("：")[0]
    assert expected[:6] in page
    assert db.session.scalar(select(func.count()).select_from(SeatPlan)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == before


@pytest.mark.parametrize("path", ["/plans/999999/assign", "/plans/abc/assign", "/plans/0/move",
                                  "/plans/99999999999999999999/delete"])
def test_unknown_plans_are_404_never_500(client, scene, path):
    login_as(client, scene, "owner")
    assert client.post(url(scene, path), headers={"Accept": "application/json"}).status_code == 404


def test_viewer_sees_but_may_not_change(client, scene):
    login_as(client, scene, "owner")
    plan = make_plan(client, scene)
    login_as(client, scene, "viewer")
    page = client.get(url(scene))
    assert page.status_code == 200 and "只能查看座次" in page.text and "/assign" not in page.text
    assert client.post(url(scene, f"/plans/{plan.id}/assign")).status_code == 403


def test_exports_run_as_jobs_pdf_has_cjk_text_xlsx_lists_by_row_and_unit(app, client, scene, db):
    login_as(client, scene, "staff")
    plan = make_plan(client, scene, sections=SECTIONS)
    client.post(url(scene, f"/plans/{plan.id}/assign"))
    texts = {}
    for fmt in ("pdf", "xlsx"):
        answer = client.post(url(scene, f"/plans/{plan.id}/export.{fmt}"))
        assert answer.status_code == 302 and "job=" in answer.location
        assert 'id="export-job"' in client.get(answer.location).text
        jobs.run_pending(app)
        db.session.expire_all()
        job = db.session.scalar(select(Job).where(Job.kind == "seating_export").order_by(Job.id.desc()))
        status = client.get(f"/jobs/{job.id}.json").get_json()
        assert status["state"] == "done", status
        download = client.get(status["download_url"])
        assert download.status_code == 200
        texts[fmt] = download.data
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "seating-small.pdf").write_bytes(texts["pdf"])  # A4: look at it with pdftoppm
    pages = pdf_pages(texts["pdf"])
    joined = "".join(pages).replace("\r", "").replace("\n", "")
    for name in CJK_NAMES:
        if len(name) <= 4:
            assert name in joined, name
    assert "阿卜杜热" in joined  # the long name, on two lines
    assert "主席台" in joined and "图例" in joined and "第 1 页 共 1 页" in joined
    wb = load_workbook(io.BytesIO(texts["xlsx"]))
    assert wb.sheetnames == ["按排", "按单位", "未安排"]
    rows = list(wb["按排"].iter_rows(values_only=True))
    assert rows[0][:5] == ("区域", "排", "座号", "座位", "姓名") and rows[1][0] == "主席台"
    assert len(rows) == 1 + 28  # the console's 4 invitees and the 24 here
    assert {r[1] for r in wb["按单位"].iter_rows(min_row=2, values_only=True)} >= set(CJK_NAMES)
