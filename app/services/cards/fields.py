"""The service card's fields: their names, labels, limits and how a typed value is checked."""

from __future__ import annotations

import re
from dataclasses import dataclass

from app.services.errors import DomainError


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    limit: int
    #: ``text``, ``phone`` (a tap-to-call number) or ``url`` (http or https only).
    kind: str = "text"
    hint: str = ""


#: In the order the card and the forms show them, grouped as the card groups them.
SECTIONS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    ("座位与分组", (
        Field("seat", "座位", 32, hint="如 3 排 12 号，或 第 5 桌"),
        Field("group", "分组 / 代表团", 64, hint="不填则显示参会名单中的分组"),
    )),
    ("会场", (
        Field("venue", "会场", 100, hint="不填则显示会议地点"),
        Field("room", "房间", 64, hint="如 3 楼第二会议室"),
        Field("map_url", "地图链接", 500, "url", hint="以 https:// 开头，如腾讯地图或高德地图的分享链接"),
    )),
    ("用餐", (
        Field("meal_name", "餐次", 16, hint="如 午餐"),
        Field("meal_place", "用餐地点", 100),
        Field("meal_time", "用餐时间", 32, hint="如 12:00–13:00"),
        Field("meal_table", "桌号", 32),
    )),
    ("乘车", (
        Field("bus_route", "乘车路线", 100),
        Field("bus_time", "发车时间", 32),
        Field("bus_car", "车号", 32),
    )),
    ("住宿", (
        Field("hotel_name", "酒店", 100),
        Field("hotel_room", "房间号", 32),
    )),
    ("联系", (
        Field("liaison_name", "联络员", 32),
        Field("liaison_phone", "联络员电话", 32, "phone"),
        Field("duty_phone", "值班室电话", 32, "phone"),
    )),
    ("其他", (
        Field("note", "备注", 200),
    )),
)
FIELDS: dict[str, Field] = {f.key: f for _title, fields in SECTIONS for f in fields}
#: The per-person spreadsheet's column for each field (the first header is the template's).
HEADERS: dict[str, tuple[str, ...]] = {
    "seat": ("座位", "座位号", "座次", "席位"), "group": ("分组", "代表团", "分组/代表团"),
    "venue": ("会场",), "room": ("房间", "会议室"), "map_url": ("地图链接", "地图"),
    "meal_name": ("餐次",), "meal_place": ("用餐地点", "就餐地点"), "meal_time": ("用餐时间", "就餐时间"),
    "meal_table": ("桌号", "餐桌", "用餐桌号"), "bus_route": ("乘车路线", "车辆路线", "线路"),
    "bus_time": ("发车时间",), "bus_car": ("车号", "乘车车号", "车辆"), "hotel_name": ("酒店", "住宿酒店"),
    "hotel_room": ("房间号", "住宿房间"), "liaison_name": ("联络员",),
    "liaison_phone": ("联络员电话", "联络员手机"), "duty_phone": ("值班室电话", "值班电话"), "note": ("备注",),
}

_PHONE_RE = re.compile(r"[0-9+\-() 转]{3,32}")
_URL_RE = re.compile(r"https?://[^\s<>\"']+", re.IGNORECASE)


class CardError(DomainError):
    messages = {
        "field_unknown": "没有“{key}”这一项",
        "field_too_long": "{label}太长（最多 {limit} 个字）",
        "phone_invalid": "{label}“{value}”不是电话号码（只能含数字、-、+、括号）",
        "url_invalid": "{label}应以 http:// 或 https:// 开头",
        "scope_invalid": "设置范围不正确",
        "group_unknown": "本次会议没有分组“{group}”",
        "role_unknown": "身份“{role}”不正确",
        "person_not_invited": "该人员不在本次会议的参会名单中",
        "import_expired": "检查结果已过期（保留 2 小时），请重新上传表格",
        "nothing_to_import": "表格中没有可以导入的行",
        "file_missing": "请选择要上传的表格文件",
    }
    statuses = {"person_not_invited": 404}


def clean_value(key: str, value: object) -> str:
    """A field's value as stored ("" clears it).

    :raise CardError: ``field_unknown``, ``field_too_long``, ``phone_invalid``, ``url_invalid``.
    """
    field = FIELDS.get(key)
    if field is None:
        raise CardError("field_unknown", key=str(key))
    text = " ".join(("" if value is None else str(value)).split())
    if not text:
        return ""
    if len(text) > field.limit:
        raise CardError("field_too_long", label=field.label, limit=field.limit)
    if field.kind == "phone" and not _PHONE_RE.fullmatch(text):
        raise CardError("phone_invalid", label=field.label, value=text)
    if field.kind == "url" and not _URL_RE.fullmatch(text):
        raise CardError("url_invalid", label=field.label)
    return text


def clean_fields(values: dict[str, object]) -> dict[str, str]:
    """Every value checked; keys with an empty value are kept (as "") so a form can clear them."""
    return {key: clean_value(key, value) for key, value in values.items()}


def tel_href(phone: str) -> str:
    """A ``tel:`` link's target: digits and + only (分机 "转 123" becomes a pause, as dialers read ",")."""
    head, _, ext = phone.partition("转")
    digits = "".join(c for c in head if c.isdigit() or c == "+")
    ext_digits = "".join(c for c in ext if c.isdigit())
    return f"tel:{digits}" + (f",{ext_digits}" if ext_digits else "")
