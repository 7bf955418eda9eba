"""The console's 住宿 page: who sees and does what, hostile input to every form field (refused with
a message on the page, nothing written), the room list upload through its job and report, the
rooming list export job."""

from __future__ import annotations

import io

import openpyxl
import pytest
from sqlalchemy import func, select

from app import jobs
from models import Hotel, Job, Room, RoomAssignment, RoomType
from tests.console.conftest import login_as
from tests.console.test_invitees_http import xlsx
from tests.lodging.test_lodging_service import rooms_of


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as s:
        return list(s.pop("_flashes", []))


def counts(db) -> tuple[int, ...]:
    return tuple(db.session.scalar(select(func.count()).select_from(model))
                 for model in (Hotel, RoomType, Room, RoomAssignment))


def test_viewer_reads_staff_allocates_and_publishes(client, db, scene):
    code = scene.meeting.code
    login_as(client, scene.console, "viewer")
    page = client.get(f"/admin/{code}/lodging").get_data(as_text=True)
    assert "会议中心酒店" in page and "迎宾馆" in page and 'id="allocate"' not in page and "只能查看住宿安排" in page
    assert 'class="on">住宿' in page and "会务安排" in page
    assert client.post(f"/admin/{code}/lodging/allocate").status_code == 403

    login_as(client, scene.console, "staff")
    res = client.post(f"/admin/{code}/lodging/allocate")
    assert res.status_code == 302 and res.headers["Location"].endswith("/lodging#allocation")
    assert flashes(client) == [("ok", "已分配 8 人，保留手工安排 0 人")]
    assert len(rooms_of(db, scene.meeting)) == 8
    page = client.get(f"/admin/{code}/lodging").get_data(as_text=True)
    assert 'id="n-assigned">8<' in page and "需要住宿的人员都已安排" in page

    assert client.post(f"/admin/{code}/lodging/publish").status_code == 302
    assert flashes(client) == [("ok", "住宿安排已发布，已通知 8 人在服务卡查看")]
    p, r = scene.people, scene.rooms
    client.post(f"/admin/{code}/lodging/unassign", data={"contact_id": p["甲一"]})
    assert flashes(client) == [("ok", "已取消甲一的住宿安排，并已通知本人")]
    page = client.get(f"/admin/{code}/lodging").get_data(as_text=True)
    assert f'data-contact="{p["甲一"]}"' in page  # listed as unplaced, with a room to pick
    client.post(f"/admin/{code}/lodging/assign", data={"contact_id": p["甲一"], "room_id": r["B301"]})
    assert flashes(client)[0][0] in ("ok", "error")


def test_a_rule_broken_by_hand_is_shown_and_nothing_is_written(client, db, scene):
    code, p, r = scene.meeting.code, scene.people, scene.rooms
    login_as(client, scene.console, "staff")
    client.post(f"/admin/{code}/lodging/assign", data={"contact_id": p["甲一"], "room_id": r["A1203"]})
    flashes(client)
    before = rooms_of(db, scene.meeting)
    client.post(f"/admin/{code}/lodging/assign", data={"contact_id": p["甲三"], "room_id": r["A1203"]})
    assert flashes(client) == [("error", "房间 1203 已有男士入住，同一房间不能男女混住")]
    assert rooms_of(db, scene.meeting) == before


HOSTILE = ["", "a\x00b", "字" * 5000, "-1", "99999999999999999999", "²", "<script>alert(1)</script>", "1.5",
           "=cmd|' /C calc'!A0"]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_in_every_form_field(client, db, scene, value):
    code, hotel_id = scene.meeting.code, scene.hotels["A"]
    type_id = db.session.scalar(select(RoomType.id).where(RoomType.hotel_id == hotel_id).limit(1))
    forms = [
        (f"/admin/{code}/lodging/hotels", {"name": "新酒店", "address": "路", "phone": "010-1"}),
        (f"/admin/{code}/lodging/hotels/{hotel_id}", {"name": "会议中心酒店", "address": "路", "phone": "010-1"}),
        (f"/admin/{code}/lodging/hotels/{hotel_id}/types", {"name": "新房型", "beds": "2", "price": "1", "roles": "代表"}),
        (f"/admin/{code}/lodging/hotels/{hotel_id}/rooms", {"number": "777", "type_id": str(type_id), "floor": "7",
                                                             "gender": "男", "accessible": "1"}),
        (f"/admin/{code}/lodging/assign", {"contact_id": str(scene.people["甲一"]), "room_id": str(scene.rooms["A1203"])}),
        (f"/admin/{code}/lodging/unassign", {"contact_id": str(scene.people["甲一"])}),
        (f"/admin/{code}/lodging/rooms/delete", {"room_id": str(scene.rooms["B302"])}),
    ]
    login_as(client, scene.console, "staff")
    for url, good in forms:
        for name in good:
            before = counts(db)
            res = client.post(url, data={**good, name: value})
            assert res.status_code in (302, 400, 404, 413), (url, name, res.status_code)  # 400: the input guard (NUL)
            messages = flashes(client)
            if res.status_code == 302 and messages and messages[0][0] == "error":
                assert counts(db) == before, (url, name)
                assert all("\u4e00" <= ch <= "\u9fff" for ch in messages[0][1][:1]) or messages[0][1]
    # Benign values still work after all that.
    assert client.post(forms[0][0], data=forms[0][1]).status_code == 302


def test_the_room_list_goes_through_a_job_and_a_report(app, client, db, scene):
    code = scene.meeting.code
    login_as(client, scene.console, "staff")
    template = client.get(f"/admin/{code}/lodging/template.xlsx")
    header = [c.value for c in openpyxl.load_workbook(io.BytesIO(template.data)).active[1]]
    assert header[:4] == ["酒店", "酒店地址", "房型", "床位数"]
    rows = [header,
            ["新华饭店", "解放路 2 号", "标准间", 2, "300 元", "501-504", None, "", "否"],
            ["新华饭店", "解放路 2 号", "单人间", 1, "", "505", 5, "女", "是"],
            ["新华饭店", "", "标准间", 3, "", "506", None, "", ""],      # beds differ from row 2
            ["会议中心酒店", "", "标准间", None, "", "1203", None, "", ""],  # already there
            ["新华饭店", "", "套房", None, "", "507", None, "", ""],      # a new type with no beds
            ["新华饭店", "", "标准间", None, "", "502", None, "", ""],    # twice in the file
            ["新华饭店", "", "标准间", None, "", "508", "九", "", ""],    # floor
            ["新华饭店", "", "标准间", None, "", "509", None, "X", ""],   # gender
            ["", "", "标准间", None, "", "510", None, "", ""]]            # no hotel
    before = counts(db)
    res = client.post(f"/admin/{code}/lodging/import", data={"file": (io.BytesIO(xlsx(rows)), "房间表.xlsx")},
                      content_type="multipart/form-data")
    job_url = res.headers["Location"]
    assert res.status_code == 302 and "/lodging/import/job/" in job_url
    assert "正在检查房间表" in client.get(job_url).get_data(as_text=True)
    assert jobs.run_pending(app) is True
    report_url = client.get(job_url).headers["Location"]
    report = client.get(report_url).get_data(as_text=True)
    assert counts(db) == before  # nothing before the confirmation
    assert 'id="n-ok">5<' in report and 'id="n-rejected">7<' in report
    for code_ in ("beds_conflict", "room_exists", "beds_missing", "duplicate_in_file", "floor_invalid",
                  "gender_invalid", "hotel_missing"):
        assert f'data-code="{code_}"' in report, code_
    assert client.post(report_url).status_code == 302
    assert flashes(client) == [("ok", "已导入 5 个房间（新增酒店 1 家、房型 2 种）；7 行有问题未导入")]
    hotel = db.session.scalar(select(Hotel).where(Hotel.name == "新华饭店"))
    numbers = sorted(db.session.scalars(select(Room.number).where(Room.hotel_id == hotel.id)))
    assert numbers == ["501", "502", "503", "504", "505"] and hotel.address == "解放路 2 号"
    women = db.session.scalar(select(Room).where(Room.hotel_id == hotel.id, Room.number == "505"))
    assert women.gender == "女" and women.accessible and women.floor == 5
    assert client.post(report_url).status_code == 302 and "已过期" in flashes(client)[0][1]  # applied once


@pytest.mark.parametrize("name, data, code", [
    ("empty.xlsx", b"", "empty_file"),
    ("blank.csv", b"\xef\xbb\xbf \r\n", "empty_file"),
    ("image.xlsx", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "not_a_spreadsheet"),
    ("page.csv", b"<html><body><script>alert(1)</script></body></html>", "unsupported_format"),
    ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 200, "corrupt_file"),
    ("noheader.csv", "姓名,手机\n张三,13800138000\n".encode(), "no_header"),
])
def test_hostile_uploads_are_refused_and_nothing_is_written(app, client, db, scene, name, data, code):
    login_as(client, scene.console, "staff")
    before = counts(db)
    res = client.post(f"/admin/{scene.meeting.code}/lodging/import", data={"file": (io.BytesIO(data), name)},
                      content_type="multipart/form-data")
    assert res.status_code == 302
    if "/import/job/" in res.headers["Location"]:
        jobs.run_pending(app)
        job = db.session.scalar(select(Job).where(Job.kind == "rooms_import").order_by(Job.id.desc()))
        assert job.state == "failed" and job.error_code == code, (job.state, job.error_code)
        assert client.get(res.headers["Location"]).status_code == 302
        assert flashes(client)[0][1].startswith("检查未完成：")
    else:
        assert flashes(client)[0][0] == "error"
        assert code == "empty_file"
    assert counts(db) == before


def test_no_file_is_refused(client, db, scene):
    login_as(client, scene.console, "staff")
    res = client.post(f"/admin/{scene.meeting.code}/lodging/import", data={}, content_type="multipart/form-data")
    assert res.status_code == 302 and flashes(client) == [("error", "请选择要上传的房间表")]


def test_the_rooming_list_is_a_recorded_job(app, client, db, scene):
    from app.services.logistics import lodging

    lodging.run_allocation(scene.meeting, actor="test", acting=None)
    code = scene.meeting.code
    login_as(client, scene.console, "staff")
    res = client.post(f"/admin/{code}/lodging/export")
    assert res.status_code == 302 and "job=" in res.headers["Location"]
    assert "正在导出入住名单" in client.get(res.headers["Location"]).get_data(as_text=True)
    jobs.run_pending(app)
    job = db.session.scalar(select(Job).where(Job.kind == "rooming_list"))
    assert job.state == "done"
    download = client.get(f"/jobs/{job.id}/download")
    assert download.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(download.data))
    assert wb.sheetnames == ["会议中心酒店", "迎宾馆"]
    rows = [[c.value for c in row] for row in wb["会议中心酒店"].iter_rows()]
    assert rows[0][:6] == ["入住日期", "离店日期", "房号", "楼层", "房型", "姓名"]
    dates = [r[0] for r in rows[1:]]
    assert dates == sorted(dates)  # by arrival date, then room
    first_day = [r for r in rows[1:] if r[0] == "2026-12-01"]
    assert [r[2] for r in first_day] == sorted(r[2] for r in first_day)
