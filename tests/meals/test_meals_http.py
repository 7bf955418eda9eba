"""用餐与乘车 over HTTP: the console page (read for every right, forms for logistics), the
automatic plan and moves through the forms, the exports as recorded jobs, hostile input to every
form field refused with nothing written, and the CLI."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from sqlalchemy import inspect, select

from app import jobs
from app.services.logistics import buses, meals
from app.services.logistics.placing import LogisticsError
from models import BusAssignment, BusCar, BusRoute, Job, MealAssignment, MealSitting, MealTable
from tests.console.conftest import login_as


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as s:
        return list(s.pop("_flashes", []))


def snapshot(db) -> list:
    """Every meal and bus row, as values: what "nothing written" compares."""
    out = []
    for model in (MealSitting, MealTable, MealAssignment, BusRoute, BusCar, BusAssignment):
        for row in db.session.scalars(select(model).order_by(model.id)):
            out.append(tuple((c.key, getattr(row, c.key)) for c in inspect(model).column_attrs))
    return out


@pytest.fixture
def planned(db, scene):
    m = scene.meeting
    s = meals.save_sitting(m, {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00",
                               "place": "2 楼宴会厅"}, actor="test")
    meals.add_tables(m, s, {"label": "主桌", "seats": "2", "head": "1"}, actor="test")
    meals.add_tables(m, s, {"count": "2", "seats": "4"}, actor="test")
    r = buses.save_route(m, {"name": "酒店—会场", "day": "2026-12-03", "departs": "07:30"}, actor="test")
    buses.add_cars(m, r, {"count": "2", "seats": "6", "driver_phone": "13800000000"}, actor="test")
    db.session.commit()
    return scene, s, r


def test_the_page_shows_sittings_diet_counts_and_routes(client, planned):
    scene, s, r = planned
    login_as(client, scene.console, "staff")
    res = client.post(f"/admin/{scene.meeting.code}/meals/sittings/{s.id}/assign")
    assert res.status_code == 302 and flashes(client) == [("ok", "已安排 10 人；1 人未能安排：座位已满：所有餐桌都已坐满")]
    client.post(f"/admin/{scene.meeting.code}/meals/routes/{r.id}/assign")
    page = client.get(f"/admin/{scene.meeting.code}/meals").get_data(as_text=True)
    assert "午餐" in page and "主桌 2/2" in page and "清真" in page and "酒店—会场" in page
    assert "一键安排桌位" in page and "导出用餐统计" in page and 'class="subtabs"' in page
    plan = client.get(f"/admin/{scene.meeting.code}/meals/sittings/{s.id}").get_data(as_text=True)
    assert "书记" in plan and "未安排桌位" in plan and 'name="contact_id"' in plan
    manifest = client.get(f"/admin/{scene.meeting.code}/meals/routes/{r.id}").get_data(as_text=True)
    assert "1 号车" in manifest and "乙一" in manifest


def test_a_viewer_reads_without_forms(client, planned):
    scene, s, _r = planned
    login_as(client, scene.console, "viewer")
    page = client.get(f"/admin/{scene.meeting.code}/meals").get_data(as_text=True)
    assert "午餐" in page and "只能查看" in page and "一键安排" not in page and "<form" not in page.split("</header>")[1]
    plan = client.get(f"/admin/{scene.meeting.code}/meals/sittings/{s.id}").get_data(as_text=True)
    assert 'name="contact_id"' not in plan


def test_a_move_through_the_form(client, db, planned):
    scene, s, _r = planned
    login_as(client, scene.console, "staff")
    head = s.tables[0]
    res = client.post(f"/admin/{scene.meeting.code}/meals/sittings/{s.id}/move",
                      data={"contact_id": scene.people["乙一"], "place_id": head.id})
    assert res.status_code == 302 and res.location.endswith(f"/meals/sittings/{s.id}")
    assert flashes(client) == [("ok", "已调整到“主桌”")]
    assert db.session.scalar(select(MealAssignment.assigned_by)) == f"contact:{scene.console.staff.id}"


def test_the_exports_run_as_jobs_and_count_right(app, client, db, planned):
    scene, s, r = planned
    login_as(client, scene.console, "owner")
    client.post(f"/admin/{scene.meeting.code}/meals/sittings/{s.id}/assign")
    client.post(f"/admin/{scene.meeting.code}/meals/routes/{r.id}/assign")
    for what, sheet in (("meals", "用餐统计"), ("buses", "乘车名单")):
        res = client.post(f"/admin/{scene.meeting.code}/meals/export/{what}")
        assert res.status_code == 302 and "job=" in res.location
        job = db.session.scalar(select(Job).where(Job.kind == f"{what}_export"))
        assert 'id="export-job"' in client.get(res.location).get_data(as_text=True)
        jobs.run_pending(app)
        db.session.expire_all()
        status = client.get(f"/jobs/{job.id}.json").get_json()
        assert status["state"] == "done", status
        book = openpyxl.load_workbook(io.BytesIO(client.get(status["download_url"]).data))
        rows = [[c.value for c in row] for row in book[sheet].iter_rows()]
        if what == "meals":
            header = rows[0]
            total = next(row for row in rows if row[3] == "合计")
            assert header[6:] == ["清真", "素食", "常规"]
            assert total[5:] == [11, 3, 2, 7]  # everyone, with or without a table
            head = next(row for row in rows if row[3] == "主桌")
            assert head[4:] == [2, 2, 1, 0, 1]  # 书记 清真, 县长 none
        else:
            assert rows[0][:3] == ["路线", "发车时间", "车号"] and len(rows) == 1 + 11
            assert {row[9] for row in rows[1:]} != {""}  # phones for the drivers' calls


def test_an_export_cell_never_becomes_a_formula(db, scene):
    m = scene.meeting
    s = meals.save_sitting(m, {"name": "=1+1", "day": "2026-12-03", "starts": "12:00", "ends": "13:00",
                               "place": "@SUM(A1)"}, actor="test")
    meals.add_tables(m, s, {"label": "-2", "seats": "20"}, actor="test")
    meals.auto_assign(m, s, actor="test")
    data, _name = meals.export_xlsx(m)
    sheet = openpyxl.load_workbook(io.BytesIO(data))["用餐统计"]
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
    assert sheet["C2"].quotePrefix and sheet["D2"].value == "-2"


# -- hostile input: every field of every form --------------------------------------------------------

def _forms(scene, s, r):
    code = scene.meeting.code
    table, car = s.tables[1], r.cars[0]
    sitting_form = {"name": "午餐", "day": "2026-12-03", "starts": "12:00", "ends": "13:00", "place": "", "notes": ""}
    route_form = {"name": "线", "day": "2026-12-03", "departs": "07:30", "from_place": "", "to_place": "", "notes": ""}
    car_form = {"label": "9 号车", "seats": "40", "plate": "", "driver_name": "", "driver_phone": ""}
    return {
        "sitting_add": (f"/admin/{code}/meals/sittings", sitting_form),
        "sitting_save": (f"/admin/{code}/meals/sittings/{s.id}/save", sitting_form),
        "tables_add": (f"/admin/{code}/meals/sittings/{s.id}/places",
                       {"count": "1", "seats": "8", "label": "", "reserved_group": ""}),
        "table_save": (f"/admin/{code}/meals/tables/{table.id}", {"label": "1", "seats": "4", "reserved_group": ""}),
        "sitting_move": (f"/admin/{code}/meals/sittings/{s.id}/move",
                         {"contact_id": str(scene.people["甲一"]), "place_id": str(table.id)}),
        "route_add": (f"/admin/{code}/meals/routes", route_form),
        "route_save": (f"/admin/{code}/meals/routes/{r.id}/save", route_form),
        "cars_add": (f"/admin/{code}/meals/routes/{r.id}/places", {**car_form, "count": "1"}),
        "car_save": (f"/admin/{code}/meals/cars/{car.id}", car_form),
        "route_move": (f"/admin/{code}/meals/routes/{r.id}/move",
                       {"contact_id": str(scene.people["甲一"]), "place_id": str(car.id)}),
    }


#: Values each field must refuse (besides NUL and a megabyte, tried on every field).
BAD = {"name": ["", "名" * 65], "day": ["", "2026-02-30", "明天", "2026-12-03T12:00"],
       "starts": ["25:00", "noon"], "ends": ["11:59", "x"], "departs": ["7", "24:01"],
       "place": ["地" * 101], "notes": ["注" * 201], "from_place": ["地" * 101], "to_place": ["地" * 101],
       "count": ["0", "-1", "201", "1.5", "一"], "seats": ["0", "-5", "81", "8.0", "", "1e2", "99999999999999999999"],
       "label": ["桌" * 17], "reserved_group": ["不存在的代表团"], "plate": ["京" * 17],
       "driver_name": ["司" * 33], "driver_phone": ["abc", "1" * 33],
          "contact_id": ["", "abc", "-1", "0", "99999999999999999999"], "place_id": ["abc", "-1", "999999999"]}
FORM_FIELDS = {
    "sitting_add": ("name", "day", "starts", "ends", "place", "notes"),
    "sitting_save": ("name", "day", "starts", "ends", "place", "notes"),
    "tables_add": ("count", "seats", "label", "reserved_group"),
    "table_save": ("label", "seats", "reserved_group"),
    "sitting_move": ("contact_id", "place_id"),
    "route_add": ("name", "day", "departs", "from_place", "to_place", "notes"),
    "route_save": ("name", "day", "departs", "from_place", "to_place", "notes"),
    "cars_add": ("count", "seats", "label", "plate", "driver_name", "driver_phone"),
    "car_save": ("label", "seats", "plate", "driver_name", "driver_phone"),
    "route_move": ("contact_id", "place_id"),
}
CASES = [(form, field) for form, fields in FORM_FIELDS.items() for field in fields]


def test_the_hostile_cases_cover_every_field_of_every_form(client, planned):
    scene, s, r = planned
    forms = _forms(scene, s, r)
    assert set(CASES) == {(f, k) for f, (_u, data) in forms.items() for k in data}


@pytest.mark.parametrize(("form", "field"), CASES)
def test_hostile_input_is_refused_with_nothing_written(client, db, planned, form, field):
    """Each bad value of the field (and NUL, and 20,000 characters) is refused: an error on the page or a
    4xx with a code, and every meal and bus row as it was."""
    scene, s, r = planned
    meals.move(scene.meeting, s, scene.people["乙二"], s.tables[1].id, actor="test")
    db.session.commit()
    login_as(client, scene.console, "staff")
    url, data = _forms(scene, s, r)[form]
    before = snapshot(db)
    values = [v for v in BAD.get(field, []) if not (field == "name" and form.startswith("sitting") and len(v) == 65)]
    for value in [*values, "\x00", "长" * 20_000]:
        res = client.post(url, data={**data, field: value}, headers={"Accept": "application/json"})
        if res.status_code == 302:  # a console form: the refusal is the page's error message
            kinds = flashes(client)
            assert [k for k, _m in kinds] == ["error"], (value[:20], kinds)
            assert all(m and len(m) < 200 for _k, m in kinds)
        else:
            assert res.status_code in (400, 404, 413, 422), (value[:20], res.status_code)
            assert res.get_json()["error"]["code"]
        db.session.expire_all()
        assert snapshot(db) == before, value[:20]


def test_a_form_for_another_meetings_objects_is_not_found(client, db, planned, factory):
    scene, s, _r = planned
    other = factory.meeting("MEAL9")
    other.unit_id = scene.console.unit.id
    db.session.commit()
    login_as(client, scene.console, "owner")
    res = client.post(f"/admin/MEAL9/meals/sittings/{s.id}/assign", headers={"Accept": "application/json"})
    assert res.status_code == 404 and res.get_json()["error"]["code"] == "sitting_not_found"


# -- CLI ---------------------------------------------------------------------------------------------

def invoke(runner, *args) -> tuple[int, dict]:
    result = runner.invoke(args=[*args, "--json"])
    return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])


def test_cli_assigns_and_exports(runner, db, planned, tmp_path):
    scene, _s, _r = planned
    code, out = invoke(runner, "meals", "assign", "--meeting", scene.meeting.code)
    assert code == 0 and out["people"] == 11 and out["sittings"][0]["placed"] == 10
    assert {u["code"] for u in out["sittings"][0]["unplaced"]} == {"no_seat"}
    code, out = invoke(runner, "buses", "assign", "--meeting", scene.meeting.code, "--replace")
    assert code == 0 and out["routes"][0]["placed"] == 11
    for group in ("meals", "buses"):
        path = tmp_path / f"{group}.xlsx"
        code, out = invoke(runner, group, "export", "--meeting", scene.meeting.code, "--out", str(path))
        assert code == 0 and out["bytes"] == path.stat().st_size > 0
        openpyxl.load_workbook(path)


def test_cli_refuses_bad_input_with_a_code(runner, db, planned, tmp_path):
    scene, _s, _r = planned
    code, out = invoke(runner, "meals", "assign", "--meeting", "NOPE")
    assert code == 1 and out["error"]["code"] == "meeting_not_found"
    code, out = invoke(runner, "buses", "export", "--meeting", scene.meeting.code, "--out", str(tmp_path / "no" / "x"))
    assert code == 1 and out["error"]["code"] == "output_invalid"
    assert LogisticsError("output_invalid", path="x").message.startswith("无法写入")
    assert list(tmp_path.iterdir()) == []
