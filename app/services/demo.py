"""A realistic demo: a district's units, their people, and a plenary meeting today."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select

from app.extensions import db
from app.services.contacts import units
from app.services.logistics import lodging, meals, seating
from app.services.meetings import grants, meetings, organizers
from app.services.registration import forms
from app.services.timeutil import LOCAL_TZ
from models import Contact, Meeting, Unit, UnitAccount

DEMO_MEETING = "QJJ2026Q4"

UNITS = [
    ("ZFB", "区政府办公室", ["区府办", "政府办"]),
    ("FGJ", "区发展和改革局", ["区发改局", "发改局", "发改委"]),
    ("CZJ", "区财政局", ["财政局"]),
    ("JYJ", "区教育局", ["教育局"]),
    ("WJW", "区卫生健康委员会", ["区卫健委", "卫健委"]),
    ("SWJ", "区商务局", ["商务局"]),
]

PEOPLE = {
    "ZFB": [("王建国", "办公室主任"), ("李晓红", "副主任"), ("陈志强", "秘书科科长"), ("刘洋", "科员"),
            ("阿卜杜·热合曼", "科员"), ("周敏", "会务组")],
    "FGJ": [("张伟", "局长"), ("王芳", "副局长"), ("赵磊", "综合科科长"), ("孙丽", "规划科科长"),
            ("马俊", "科员"), ("胡静", "科员"), ("朱明", "科员")],
    "CZJ": [("郭涛", "局长"), ("何平", "副局长"), ("高燕", "预算科科长"), ("林峰", "科员"),
            ("罗娜", "科员"), ("郑凯", "科员")],
    "JYJ": [("梁红梅", "局长"), ("谢军", "副局长"), ("宋佳", "基教科科长"), ("唐亮", "科员"),
            ("韩雪", "科员"), ("冯刚", "科员"), ("邓丽君", "科员")],
    "WJW": [("曹阳", "主任"), ("彭波", "副主任"), ("曾琳", "医政科科长"), ("吕斌", "科员"),
            ("苏婷", "科员"), ("卢伟", "科员")],
    "SWJ": [("蒋勇", "局长"), ("蔡晶", "副局长"), ("贾鹏", "外贸科科长"), ("丁一", "科员"),
            ("魏巍", "科员"), ("薛梅", "科员")],
}

ORGANIZER_PHONE = "13905710006"  # 周敏, 会务组
#: The demo's registration form's invitation code (定向邀约: with a unit number such as FGJ).
INVITE_CODE = "HY2026"

#: The demo's unit-office login (/units), printed by ``make run``: a public demo password, for a
#: demo database only.
UNIT_OFFICE = {"unit": "FGJ", "username": "fgj_demo", "password": "huiyi-demo-2026"}


def _phone(unit_index: int, person_index: int) -> str:
    return f"1390571{unit_index:02d}{person_index:02d}"


def seed(*, now: datetime | None = None) -> dict[str, object]:
    """Create the demo data once; a second run changes nothing and says so."""
    existing = db.session.scalar(select(Meeting).where(Meeting.code == DEMO_MEETING))
    if existing is not None:
        return {"created": False, "meeting": DEMO_MEETING, "message": "演示数据已存在",
                "unit_office": _seed_unit_office()}

    for ui, (code, name, aliases) in enumerate(UNITS):
        unit = units.add_unit(code, name, actor="demo", aliases=aliases)
        for pi, (person, title) in enumerate(PEOPLE[code], start=1):
            db.session.add(Contact(unit_id=unit.id, name=person, phone=_phone(ui, pi), title=title))
    db.session.flush()

    today = (now or datetime.now(UTC)).astimezone(LOCAL_TZ).date()
    starts = datetime.combine(today, time(9, 0), LOCAL_TZ).astimezone(UTC)
    day_start = datetime.combine(today, time(0, 0), LOCAL_TZ).astimezone(UTC)
    meeting = meetings.create_meeting(
        DEMO_MEETING, "2026年第四季度全区经济工作会议", actor="demo",
        starts_at=starts, ends_at=starts + timedelta(hours=8, minutes=30),
        venue="区行政中心三楼第一会议室",
        intro="总结前三季度全区经济运行情况，部署第四季度重点工作。请参会人员提前 15 分钟到场，扫码签到。",
        agenda=[{"time": "09:00", "title": "区发改局通报前三季度经济运行情况", "speaker": "张伟"},
                {"time": "09:40", "title": "区财政局作财政收支情况说明", "speaker": "郭涛"},
                {"time": "10:20", "title": "各单位交流发言", "speaker": ""},
                {"time": "11:20", "title": "区政府领导讲话", "speaker": ""}],
        unit_codes=[code for code, _, _ in UNITS], publish=True,
        # The demo can be tried at any hour of the day it is seeded.
        signin_opens_at=day_start, signin_closes_at=day_start + timedelta(days=1) - timedelta(minutes=1),
    )
    # 周敏 organizes for the district government office (主办单位): owner of its meetings, and may
    # create more from the console; she also administers the demo deployment.
    meeting.unit_id = db.session.scalar(select(Unit.id).where(Unit.code == "ZFB"))
    grants.add_unit_organizer("ZFB", ORGANIZER_PHONE, actor="demo")
    grants.add_system_admin(ORGANIZER_PHONE, actor="demo")
    organizers.add_organizer(DEMO_MEETING, ORGANIZER_PHONE, actor="demo", right="owner")
    _seed_logistics(meeting, today)
    contacts = db.session.scalar(select(db.func.count()).select_from(Contact))
    return {"created": True, "meeting": meeting.code, "title": meeting.title, "units": len(UNITS),
            "contacts": int(contacts or 0), "organizer_phone": ORGANIZER_PHONE, "invite_code": INVITE_CODE,
            "unit_office": _seed_unit_office()}


def _seed_logistics(meeting: Meeting, today) -> None:
    """A registration form to try (the invitation code plus a unit number), a hotel with rooms for
    the registrants, the hall's seats and lunch tables for everyone invited: the service card and
    the scan reply then name a seat and a table, and a room once one is allocated and published."""
    forms.create_form(meeting, actor="demo", title="列席人员报名", role="列席", access="code", invite_code=INVITE_CODE,
                      needs_approval=True, published=True,
                      fields=[{"key": k, "required": k in ("name", "phone", "gender")}
                              for k in ("name", "title", "phone", "gender", "arrival", "departure", "diet",
                                        "needs_room")])
    hotel = lodging.save_hotel(meeting, {"name": "区行政中心宾馆", "address": "行政中心东侧"}, actor="demo")
    single = lodging.add_type(meeting, hotel, {"name": "单人间", "beds": "1"}, actor="demo")
    double = lodging.add_type(meeting, hotel, {"name": "标准间", "beds": "2"}, actor="demo")
    lodging.add_rooms(meeting, hotel, {"type_id": single.id, "number": "801-804"}, actor="demo")
    lodging.add_rooms(meeting, hotel, {"type_id": double.id, "number": "805-820"}, actor="demo")
    plan = seating.create_plan(meeting, {"name": "第一会议室", "rows": "6", "seats_per_row": "10", "aisles": "5",
                                         "on_card": "1"}, actor="demo")
    seating.auto_assign(meeting, plan, actor="demo")
    lunch = meals.save_sitting(meeting, {"name": "午餐", "day": today.isoformat(), "starts": "12:00", "ends": "13:00",
                                         "place": "行政中心二楼餐厅"}, actor="demo")
    meals.add_tables(meeting, lunch, {"count": "5", "seats": "10"}, actor="demo")
    meals.auto_assign(meeting, lunch, actor="demo")


def _seed_unit_office() -> dict[str, str] | None:
    """The demo unit office's login, added once (also to a demo seeded before it existed)."""
    unit = db.session.scalar(select(Unit).where(Unit.code == UNIT_OFFICE["unit"]))
    if unit is None:
        return None
    if db.session.scalar(select(UnitAccount.id).where(UnitAccount.username == UNIT_OFFICE["username"])) is None:
        units.add_unit_account(unit, UNIT_OFFICE["username"], UNIT_OFFICE["password"], actor="demo")
    return {**UNIT_OFFICE, "unit_name": unit.name}
