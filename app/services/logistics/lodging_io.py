"""Lodging in and out as spreadsheets: the hotel's room list imported (xlsx, xls, csv), the rooming
list exported for each hotel (入住名单, by arrival date, then room).

The import reads the file with the contacts directory's reader (same formats, limits and defences:
zip bombs, encodings, binary files, formulas are text), finds its header row by the column names
below, and judges every row on its own, against the rest of the file and against the rooms already
there, before anything is written. The console's check runs in a recorded job and its verdict is
held in Redis for the confirmation; the command line checks and writes in one go (``--dry-run``
writes nothing). Only the good rows are written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from app import jobs
from app.extensions import db
from app.services import audit, exports, held_imports, storage
from app.services.contacts.reader import DEFAULT_MAX_BYTES, DirectoryFileError
from app.services.contacts.reader.formats import MAX_COLUMNS, open_workbook
from app.services.contacts.reader.table import cell_text, header_key
from app.services.errors import DomainError
from app.services.logistics import lodging
from app.services.logistics.allocate import number_key
from app.services.logistics.people import roster
from app.services.logistics.placing import clean_text, write_sheets
from app.services.meetings.lifecycle import require_editable
from app.services.timeutil import local
from models import Hotel, Meeting, Room, RoomAssignment, RoomType

#: Sheet rows read (a hotel list of a few thousand rooms fits many times).
MAX_ROWS = 20_000
REPORT_LIMIT = 500
JOB_CHECK = "rooms_import"
JOB_EXPORT = "rooming_list"
#: The held check's Redis key says rooms (see held_imports).
HELD_KIND = "rooms"

#: field -> header names offices use (compared after header_key: spaces, notes in brackets dropped).
COLUMNS: dict[str, tuple[str, ...]] = {
    "hotel": ("酒店", "酒店名称", "宾馆", "饭店", "住宿酒店", "入住酒店"),
    "address": ("酒店地址", "地址"),
    "type": ("房型", "房间类型", "房型名称", "类型"),
    "beds": ("床位", "床位数", "床数", "可住人数", "入住人数"),
    "number": ("房号", "房间号", "房间号码", "房间"),
    "floor": ("楼层", "层"),
    "gender": ("性别", "性别限制", "限住性别"),
    "accessible": ("无障碍", "无障碍房", "无障碍房间"),
    "price": ("价格", "房价", "价格区间", "协议价"),
}
REQUIRED = ("hotel", "type", "number")
LABELS = {"hotel": "酒店", "address": "酒店地址", "type": "房型", "beds": "床位数", "number": "房号", "floor": "楼层",
          "gender": "性别限制", "accessible": "无障碍", "price": "价格"}
TEMPLATE_HEADERS = ["酒店", "酒店地址", "房型", "床位数", "价格", "房号", "楼层", "性别限制", "无障碍"]
_YES = {"是", "有", "y", "yes", "1", "true", "√", "✓"}
_NO = {"", "否", "无", "n", "no", "0", "false", "-"}


class RoomImportError(DomainError):
    messages = {
        "no_header": "未找到表头：表格中需要有“酒店”“房型”“房号”三列",
        "file_missing": "请选择要上传的房间表",
        "import_expired": "检查结果已过期，请重新上传房间表",
        "nothing_to_import": "表格中没有可导入的行",
    }
    statuses = {"import_expired": 410}


ROW_MESSAGES = {
    "hotel_missing": "缺少酒店名称",
    "type_missing": "缺少房型",
    "number_missing": "缺少房号",
    "beds_missing": "新房型“{type}”需要填写床位数",
    "beds_conflict": "房型“{type}”的床位数与{where}不一致（{beds}）",
    "duplicate_in_file": "与第 {first_row} 行房间重复",
    "room_exists": "{hotel}已有房间 {number}",
    "accessible_invalid": "“无障碍”只能填“是”或“否”",
    "too_many_rooms": "超过每次会议 {limit} 个房间的上限",
}


@dataclass
class RoomImport:
    file_name: str
    rows_total: int = 0
    #: the good rows, as written: {row, hotel, address, type, beds, price, number, floor, gender, accessible}
    rows: list[dict[str, Any]] = field(default_factory=list)
    #: {row, code, message}
    rejected: list[dict[str, Any]] = field(default_factory=list)
    token: str = ""

    def summary(self) -> dict[str, Any]:
        return {"ok": len(self.rows), "rejected": self.rejected, "rows_total": self.rows_total,
                "hotels": sorted({r["hotel"] for r in self.rows}), "file": self.file_name}


def _columns(header: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, value in enumerate(header):
        key = header_key(value)
        for name, words in COLUMNS.items():
            if key in words and name not in found:
                found[name] = index
                break
    return found


def _find_header(grid: list[list]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(grid[:20]):
        found = _columns(row)
        if all(name in found for name in REQUIRED):
            return index, found
    return None


def read_rooms(data: bytes, filename: str) -> RoomImport:
    """Each row judged on its own and against the file; no database. :raise DirectoryFileError:
    the file's own problems (empty, too large, not a spreadsheet, …); :raise RoomImportError: ``no_header``."""
    if len(data) > DEFAULT_MAX_BYTES:
        raise DirectoryFileError("file_too_large", size_mb=len(data) / 1024 / 1024, limit_mb=DEFAULT_MAX_BYTES / 1024 / 1024)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DirectoryFileError("empty_file")
    plan = RoomImport(file_name=(filename or "")[:255])
    for grid in open_workbook(data, filename or "", max_rows=MAX_ROWS).grids:
        if any(len(row) > MAX_COLUMNS for row in grid.rows):
            raise DirectoryFileError("too_many_columns", limit=MAX_COLUMNS)
        header = _find_header(grid.rows)
        if header is None:
            continue
        start, columns = header
        _judge_rows(plan, grid.rows, start, columns)
        return plan
    raise RoomImportError("no_header")


def _judge_rows(plan: RoomImport, grid: list[list], start: int, columns: dict[str, int]) -> None:
    first_seen: dict[tuple[str, str], int] = {}
    beds_seen: dict[tuple[str, str], tuple[int, int]] = {}
    for index in range(start + 1, len(grid)):
        cells = grid[index]
        values = {name: cell_text(cells[col]) if col < len(cells) else "" for name, col in columns.items()}
        if not any(v.strip() for v in values.values()):
            continue
        row_no = index + 1
        plan.rows_total += 1
        try:
            row = _row(values)
        except DomainError as exc:
            plan.rejected.append({"row": row_no, "code": exc.code, "message": exc.message})
            continue
        if isinstance(row, tuple):
            plan.rejected.append({"row": row_no, "code": row[0], "message": row[1]})
            continue
        for number in row.pop("numbers"):
            key = (row["hotel"], number)
            if key in first_seen:
                plan.rejected.append({"row": row_no, "code": "duplicate_in_file",
                                      "message": ROW_MESSAGES["duplicate_in_file"].format(first_row=first_seen[key])})
                continue
            type_key = (row["hotel"], row["type"])
            if row["beds"] is not None:
                seen = beds_seen.setdefault(type_key, (row["beds"], row_no))
                if seen[0] != row["beds"]:
                    plan.rejected.append({"row": row_no, "code": "beds_conflict", "message": ROW_MESSAGES[
                        "beds_conflict"].format(type=row["type"], where=f"第 {seen[1]} 行", beds=seen[0])})
                    continue
            first_seen[key] = row_no
            floor = row["floor"] if row["floor"] is not None else lodging.guess_floor(number)
            plan.rows.append({**row, "row": row_no, "number": number, "floor": floor})
    # A type's beds given on one row of the file hold for its other rows.
    for row in plan.rows:
        if row["beds"] is None and (row["hotel"], row["type"]) in beds_seen:
            row["beds"] = beds_seen[(row["hotel"], row["type"])][0]


def _row(values: dict[str, str]) -> dict | tuple[str, str]:
    """One row's values checked (the services' own rules for each field)."""
    for name, code in (("hotel", "hotel_missing"), ("type", "type_missing"), ("number", "number_missing")):
        if not values.get(name, "").strip():
            return code, ROW_MESSAGES[code]
    accessible = values.get("accessible", "").strip().lower()
    if accessible not in _YES | _NO:
        return "accessible_invalid", ROW_MESSAGES["accessible_invalid"]
    beds_text = values.get("beds", "").strip()
    return {
        "hotel": clean_text(values["hotel"], "酒店名称", 64, required=True),
        "address": clean_text(values.get("address", ""), "酒店地址", 200),
        "type": clean_text(values["type"], "房型", 32, required=True),
        "beds": lodging.clean_beds(beds_text) if beds_text else None,
        "price": clean_text(values.get("price", ""), "价格", 32),
        "numbers": lodging.room_numbers(values["number"]),
        "floor": lodging.clean_floor(values.get("floor", "")),
        "gender": lodging.clean_gender(values.get("gender", "")),
        "accessible": accessible in _YES,
    }


def check_import(meeting: Meeting, data: bytes, filename: str) -> RoomImport:
    """What importing the file would do, row by row. Writes nothing."""
    plan = read_rooms(data, filename)
    _judge_against_meeting(meeting, plan)
    return plan


def _judge_against_meeting(meeting: Meeting, plan: RoomImport) -> None:
    """Rooms already there, types whose beds differ from the file's, the meeting's room cap."""
    hotels = {h.name: h.id for h in lodging.hotels_of(meeting)}
    types = {(hotel, name): beds for hotel, name, beds in db.session.execute(
        select(Hotel.name, RoomType.name, RoomType.beds).join(RoomType, RoomType.hotel_id == Hotel.id)
        .where(Hotel.meeting_id == meeting.id)).all()}
    existing = set(db.session.execute(select(Hotel.name, Room.number).join(Room, Room.hotel_id == Hotel.id)
                                      .where(Hotel.meeting_id == meeting.id)).all())
    room_count = db.session.scalar(select(func.count()).select_from(Room).where(Room.meeting_id == meeting.id)) or 0
    kept = []
    for row in plan.rows:
        key = (row["hotel"], row["type"])
        if (row["hotel"], row["number"]) in existing:
            _reject(plan, row, "room_exists", hotel=row["hotel"], number=row["number"])
        elif key in types and row["beds"] is not None and row["beds"] != types[key]:
            _reject(plan, row, "beds_conflict", type=row["type"], where="已有房型", beds=types[key])
        elif key not in types and row["beds"] is None:
            _reject(plan, row, "beds_missing", type=row["type"])
        elif room_count + len(kept) >= lodging.MAX_ROOMS:
            _reject(plan, row, "too_many_rooms", limit=lodging.MAX_ROOMS)
        else:
            row["beds"] = types.get(key, row["beds"])
            row["new_hotel"] = row["hotel"] not in hotels
            kept.append(row)
    plan.rows = kept
    plan.rejected.sort(key=lambda r: r["row"])


def _reject(plan: RoomImport, row: dict, code: str, **params) -> None:
    plan.rejected.append({"row": row["row"], "code": code, "message": ROW_MESSAGES[code].format(**params)})


def write(meeting: Meeting, plan: RoomImport, *, actor: str) -> dict[str, int]:
    """Write the good rows: hotels and types made as needed, then the rooms. Returns counts."""
    require_editable(meeting)
    if not plan.rows:
        raise RoomImportError("nothing_to_import")
    hotels = {h.name: h for h in lodging.hotels_of(meeting)}
    types = {(t.hotel_id, t.name): t for t in db.session.scalars(
        select(RoomType).join(Hotel, Hotel.id == RoomType.hotel_id).where(Hotel.meeting_id == meeting.id))}
    made_hotels = made_types = 0
    rooms = []
    for row in plan.rows:
        hotel = hotels.get(row["hotel"])
        if hotel is None:
            hotel = hotels[row["hotel"]] = Hotel(meeting_id=meeting.id, name=row["hotel"], address=row["address"],
                                                  phone="")
            db.session.add(hotel)
            db.session.flush()
            made_hotels += 1
        room_type = types.get((hotel.id, row["type"]))
        if room_type is None:
            room_type = types[(hotel.id, row["type"])] = RoomType(hotel_id=hotel.id, name=row["type"], beds=row["beds"],
                                                                  price=row["price"], roles=[])
            db.session.add(room_type)
            db.session.flush()
            made_types += 1
        rooms.append(Room(meeting_id=meeting.id, hotel_id=hotel.id, type_id=room_type.id, number=row["number"],
                          floor=row["floor"], gender=row["gender"], accessible=row["accessible"]))
    db.session.add_all(rooms)
    db.session.flush()
    counts = {"rooms": len(rooms), "hotels": made_hotels, "types": made_types, "rejected": len(plan.rejected)}
    audit.record(actor, "lodging.import", meeting_id=meeting.id, target=f"meeting:{meeting.id}", file=plan.file_name,
                 **counts)
    return counts


def written_message(counts: dict[str, int]) -> str:
    text = f"已导入 {counts['rooms']} 个房间（新增酒店 {counts['hotels']} 家、房型 {counts['types']} 种）"
    return text + (f"；{counts['rejected']} 行有问题未导入" if counts["rejected"] else "")


# -- the console's check, in a job ------------------------------------------------------------------

def submit_check(meeting: Meeting, data: bytes, filename: str, *, job_actor: str) -> int:
    """Keep the upload and ask a job to check it; returns the job id."""
    require_editable(meeting)
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise DirectoryFileError("empty_file")
    sha = storage.put(data)
    return jobs.submit(JOB_CHECK, run_check, meeting.id, sha, (filename or "")[:255], actor=job_actor,
                       meeting_id=meeting.id)


def run_check(meeting_id: int, sha: str, filename: str) -> dict[str, Any]:
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise RoomImportError("import_expired")
    jobs.report_progress(0, None, "正在检查房间表")
    plan = check_import(meeting, storage.read_blob(sha), filename)
    return {"token": hold(meeting, plan), "ok": len(plan.rows), "rejected": len(plan.rejected)}


def hold(meeting: Meeting, plan: RoomImport) -> str:
    token = held_imports.hold(HELD_KIND, meeting.id, {
        "file": plan.file_name, "rows_total": plan.rows_total, "rows": plan.rows, "rejected": plan.rejected})
    plan.token = token
    return token


def held(meeting: Meeting, token: str) -> RoomImport:
    """:raise RoomImportError: ``import_expired``."""
    data = held_imports.held(HELD_KIND, meeting.id, token)
    if data is None:
        raise RoomImportError("import_expired")
    return RoomImport(file_name=data["file"], rows_total=data["rows_total"], rows=data["rows"],
                      rejected=data["rejected"], token=token)


def apply(meeting: Meeting, token: str, *, actor: str) -> str:
    """Write the held rows (judged again against the rooms now there: another import may have
    added some meanwhile). :raise RoomImportError: ``import_expired``, ``nothing_to_import``."""
    plan = held(meeting, token)
    _judge_against_meeting(meeting, plan)
    counts = write(meeting, plan, actor=actor)
    held_imports.drop(HELD_KIND, meeting.id, token)
    return written_message(counts)


def template_xlsx() -> bytes:
    return write_sheets([("房间表", TEMPLATE_HEADERS, [
        ["会议中心酒店", "市府路 1 号", "标准间", 2, "380 元/间/晚", "1201-1220", 12, "", "否"],
        ["会议中心酒店", "市府路 1 号", "单人间", 1, "420 元/间/晚", "1221", 12, "", "是"],
        ["会议中心酒店", "市府路 1 号", "标准间", 2, "380 元/间/晚", "1501", 15, "女", "否"],
    ])])


# -- the rooming list for the hotels ---------------------------------------------------------------

ROOMING_HEADERS = ["入住日期", "离店日期", "房号", "楼层", "房型", "姓名", "性别", "单位", "代表团/分组", "身份", "无障碍"]


def rooming_rows(meeting: Meeting) -> list[tuple[Hotel, list[list[object]]]]:
    """Each hotel's guests by arrival date (unknown last), then room, then name."""
    people = {p.contact_id: p for p in roster(meeting.id)}
    rows = db.session.execute(
        select(RoomAssignment, Room, RoomType).join(Room, Room.id == RoomAssignment.room_id)
        .join(RoomType, RoomType.id == Room.type_id).where(RoomAssignment.meeting_id == meeting.id)).all()
    by_hotel: dict[int, list[tuple[tuple, list[object]]]] = {}
    for assignment, room, room_type in rows:
        person = people.get(assignment.contact_id)
        arrival = assignment.night_from or (person.arrival if person else None)
        departure = assignment.night_to or (person.departure if person else None)
        key = (arrival or date.max, room.floor if room.floor is not None else 10**6, number_key(room.number),
               person.name if person else "", assignment.contact_id)
        line = [arrival.isoformat() if arrival else "未填", departure.isoformat() if departure else "",
                room.number, room.floor, room_type.name, person.name if person else "（已不在名单）",
                (person.gender or "") if person else "", person.unit_name if person else "",
                (person.group or "") if person else "", person.role if person else "",
                "是" if person and person.accessible else ""]
        by_hotel.setdefault(room.hotel_id, []).append((key, line))
    return [(hotel, [line for _key, line in sorted(by_hotel.get(hotel.id, []), key=lambda kl: kl[0])])
            for hotel in lodging.hotels_of(meeting)]


def export_xlsx(meeting: Meeting) -> tuple[bytes, str]:
    sheets, used = [], set()
    for hotel, lines in rooming_rows(meeting):
        title = (exports.safe_filename(hotel.name).replace("[", "").replace("]", "")[:28] or "酒店")
        while title in used:
            title = title[:26] + f"{len(used)}"
        used.add(title)
        sheets.append((title, ROOMING_HEADERS, lines))
    if not sheets:
        sheets.append(("入住名单", ROOMING_HEADERS, []))
    name = f"{exports.safe_filename(meeting.title) or meeting.code}-入住名单-{local(datetime.now(UTC)):%Y-%m-%d}.xlsx"
    return write_sheets(sheets), name


def submit_export(meeting: Meeting, *, actor: str, job_actor: str) -> int:
    return jobs.submit(JOB_EXPORT, export_job, meeting.id, actor, actor=job_actor, meeting_id=meeting.id)


def export_job(meeting_id: int, actor: str) -> dict:
    """The recorded job behind 导出入住名单: the workbook kept in storage for the download."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:
        raise lodging.LodgingError("hotel_not_found")
    jobs.report_progress(0, None, "正在生成入住名单")
    data, name = export_xlsx(meeting)
    audit.record(actor, "lodging.export", meeting_id=meeting.id, file=name, job=jobs.current_job_id())
    jobs.report_progress(1, 1, "入住名单已生成")
    return exports.stored(data, name)
