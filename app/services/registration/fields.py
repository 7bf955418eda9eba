"""The fields a registration form asks: the standard catalog and the organizer's custom ones.

A form's ``fields`` is a list of ``{"key", "label", "kind", "required", "options"?}``. Standard
fields are named by their catalog key (``name``, ``phone`` …) and land in the registration's own
columns; custom fields are keyed ``c1``, ``c2`` … with a kind of ``text``, ``choice``, ``date`` or
``file``, and land in ``answers``. Name and phone are always asked and always required (binding
at the door matches them).

Every value is checked here and only here, whatever door it came through: a refusal is a
:class:`FieldError` with a stable code and a Chinese message naming the field. Text refuses control
characters and markup (``<``, ``>``) rather than cleaning them: what is stored is what was typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from app.services.contacts.phones import normalize_name, normalize_phone
from app.services.registration import idnumbers, uploads
from app.services.registration.errors import FieldError, RegistrationError

ETHNICITIES = (
    "汉族", "蒙古族", "回族", "藏族", "维吾尔族", "苗族", "彝族", "壮族", "布依族", "朝鲜族", "满族", "侗族", "瑶族",
    "白族", "土家族", "哈尼族", "哈萨克族", "傣族", "黎族", "傈僳族", "佤族", "畲族", "高山族", "拉祜族", "水族",
    "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族", "仫佬族", "羌族", "布朗族", "撒拉族", "毛南族",
    "仡佬族", "锡伯族", "阿昌族", "普米族", "塔吉克族", "怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族",
    "保安族", "裕固族", "京族", "塔塔尔族", "独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族",
)
GENDERS = ("男", "女")
DIET_TAGS = ("清真", "素食", "无辣", "少盐", "糖尿病餐", "无麸质")
#: Arrival and departure within this many days of the meeting's dates.
DATE_MARGIN = timedelta(days=60)
PLATE_RE = re.compile(r"^[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼使领]"
                      r"[A-HJ-NP-Z][A-HJ-NP-Z0-9]{4,5}[A-HJ-NP-Z0-9挂学警港澳]$")
CUSTOM_KINDS = {"text": "文本", "choice": "单选", "date": "日期", "file": "附件"}
MAX_CUSTOM = 20
MAX_OPTIONS = 30
MAX_LABEL = 32
MAX_OPTION = 32
_TRUE = {"1", "true", "on", "yes", "是"}
_FALSE = {"", "0", "false", "off", "no", "否"}


@dataclass(frozen=True)
class Standard:
    key: str
    label: str
    kind: str  # text, phone, choice, multi, bool, date, id_number, plate, photo
    max_len: int = 0
    options: tuple[str, ...] = ()


#: The standard catalog, in the order a form shows it.
CATALOG: dict[str, Standard] = {s.key: s for s in (
    Standard("name", "姓名", "text", 32),
    Standard("unit", "单位", "text", 64),
    Standard("title", "职务", "text", 64),
    Standard("phone", "手机号", "phone"),
    Standard("gender", "性别", "choice", options=GENDERS),
    Standard("ethnicity", "民族", "choice", options=ETHNICITIES),
    Standard("id_number", "身份证号", "id_number"),
    Standard("arrival", "报到日期", "date"),
    Standard("departure", "离会日期", "date"),
    Standard("diet", "饮食要求", "multi", options=DIET_TAGS),
    Standard("needs_room", "需要安排住宿", "bool"),
    Standard("accessible", "需要无障碍设施", "bool"),
    Standard("plate", "车牌号", "plate"),
    Standard("group", "代表团/分组", "text", 32),
    Standard("photo", "证件照", "photo"),
)}
ALWAYS = ("name", "phone")
#: A custom field's text is at most this long.
CUSTOM_TEXT_MAX = 200


def default_fields() -> list[dict]:
    """A new form's fields: name, unit, 职务, phone, gender (the organizer adds the rest)."""
    return [spec(key, required=key in ("name", "phone", "unit")) for key in ("name", "unit", "title", "phone", "gender")]


def spec(key: str, *, required: bool) -> dict:
    std = CATALOG[key]
    return {"key": key, "label": std.label, "kind": std.kind, "required": required or key in ALWAYS}


# -- the organizer's field list ---------------------------------------------------------------------

def check_fields(raw: Any) -> list[dict]:
    """The form's field list as the organizer set it, checked and normalized.

    :raise RegistrationError: ``form_fields_invalid`` naming what is wrong.
    """
    if not isinstance(raw, list):
        raise RegistrationError("form_fields_invalid", detail="字段列表格式不正确")
    out: list[dict] = []
    seen: set[str] = set()
    customs = 0
    for item in raw:
        if not isinstance(item, dict):
            raise RegistrationError("form_fields_invalid", detail="字段格式不正确")
        key = str(item.get("key") or "").strip()
        required = item.get("required") in (True, "1", "true", "on")
        if key in CATALOG:
            field = spec(key, required=required)
        elif re.fullmatch(r"c\d{1,3}", key):
            customs += 1
            field = _custom(key, item, required)
        else:
            raise RegistrationError("form_fields_invalid", detail=f"未知字段 {key[:20]}")
        if key in seen:
            raise RegistrationError("form_fields_invalid", detail=f"字段 {field['label']} 重复")
        seen.add(key)
        out.append(field)
    if customs > MAX_CUSTOM:
        raise RegistrationError("form_fields_invalid", detail=f"自定义字段最多 {MAX_CUSTOM} 个")
    for key in reversed(ALWAYS):
        if key not in seen:
            out.insert(0, spec(key, required=True))
    return out


def _custom(key: str, item: dict, required: bool) -> dict:
    kind = str(item.get("kind") or "")
    label = str(item.get("label") or "").strip()
    if kind not in CUSTOM_KINDS:
        raise RegistrationError("form_fields_invalid", detail="自定义字段类型只能是 文本、单选、日期或附件")
    if not label or len(label) > MAX_LABEL or not plain_text(label):
        raise RegistrationError("form_fields_invalid", detail=f"字段名称须为 1–{MAX_LABEL} 个字，不含特殊字符")
    field = {"key": key, "label": label, "kind": kind, "required": required}
    if kind == "choice":
        options = item.get("options")
        if isinstance(options, str):
            options = [o for o in re.split(r"[\n,，、]", options)]
        options = [str(o).strip() for o in options or [] if str(o).strip()]
        if not options or len(options) > MAX_OPTIONS or len(set(options)) != len(options) or any(
                len(o) > MAX_OPTION or not plain_text(o) for o in options):
            raise RegistrationError("form_fields_invalid",
                                    detail=f"「{label}」的选项须为 1–{MAX_OPTIONS} 个不重复的短语")
        field["options"] = options
    return field


def plain_text(text: str) -> bool:
    return not any(unicodedata.category(c).startswith("C") or c in "<>" for c in text)


# -- one person's values ----------------------------------------------------------------------------

@dataclass
class Person:
    """One person's checked values: ``columns`` for the registration's own columns, ``answers`` for
    custom fields, ``files`` the uploads still to store ({column or answer key: Checked})."""

    columns: dict[str, Any]
    answers: dict[str, Any]
    files: dict[str, uploads.Checked]
    #: The clear ID number, kept only until :func:`seal_id` encrypts it.
    id_number: str | None = None


def clean_person(fields: list[dict], raw: dict[str, Any], *, meeting_dates: tuple[date, date]) -> tuple[Person, list[FieldError]]:
    """Check one person's values against the form's ``fields``; every problem, not just the first.

    ``raw``: {key: str | bool | list | Upload}; a file field's value is an :class:`uploads.Upload`
    or a storage key (uploaded before). Keys the form does not ask are refused (``unknown_field``).
    """
    person = Person(columns={}, answers={}, files={})
    errors: list[FieldError] = []
    known = {f["key"] for f in fields}
    for key in raw:
        if key not in known and _present(raw[key]):
            errors.append(_keyed(FieldError("unknown_field", key=str(key)[:20]), str(key)[:20]))
    for field in fields:
        try:
            _clean_one(field, raw.get(field["key"]), person, meeting_dates)
        except FieldError as exc:
            errors.append(_keyed(exc, field["key"]))
    arrival, departure = person.columns.get("arrival"), person.columns.get("departure")
    if arrival and departure and departure < arrival:
        errors.append(_keyed(FieldError("dates_reversed"), "departure"))
    return person, errors


def _keyed(exc: FieldError, key: str) -> FieldError:
    exc.field = key
    return exc


def _present(value: Any) -> bool:
    if isinstance(value, uploads.Upload):
        return bool(value.data) or bool(value.filename)
    if isinstance(value, list | tuple):
        return any(_present(v) for v in value)
    return value not in (None, "", False)


def _text(value: Any, label: str, max_len: int) -> str:
    if not isinstance(value, str):
        value = "" if value is None else str(value)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") and c not in "\t" for c in value):
        raise FieldError("text_control_chars", label=label)
    value = unicodedata.normalize("NFC", value).strip()
    if "<" in value or ">" in value:
        raise FieldError("text_markup", label=label)
    if len(value) > max_len:
        raise FieldError("text_too_long", label=label, max=max_len)
    return value


def _clean_one(field: dict, value: Any, person: Person, meeting_dates: tuple[date, date]) -> None:
    key, label, kind = field["key"], field["label"], field["kind"]
    if kind == "bool":  # an unticked box sends nothing: that is the answer "no", never "missing"
        person.columns[key] = _bool(value if value is not None else False, label)
        return
    if not _present(value):
        if field.get("required"):
            raise FieldError("required", label=label)
        return
    if isinstance(value, uploads.Upload) and kind not in ("photo", "file"):
        raise FieldError("file_not_expected", label=label)
    std = CATALOG.get(key)
    target = person.columns if std is not None else person.answers
    column = {"unit": "unit_name", "group": "group_name"}.get(key, key)
    if kind == "text":
        text = _text(value, label, std.max_len if std else CUSTOM_TEXT_MAX)
        if key == "name":
            text = normalize_name(text)
        if not text and field.get("required"):
            raise FieldError("required", label=label)
        target[column] = text
    elif kind == "phone":
        text = _text(value, label, 32)
        result = normalize_phone(text)
        if not result.ok or not result.is_mobile:
            raise FieldError("phone_invalid", label=label)
        target[column] = result.number
    elif kind == "choice":
        text = _text(value, label, 64)
        if text not in (std.options if std else field.get("options") or ()):
            raise FieldError("choice_invalid", label=label)
        target[column] = text
    elif kind == "multi":
        items = value if isinstance(value, list | tuple) else re.split(r"[,，、]", _text(value, label, 200))
        chosen = [_text(v, label, 32) for v in items]
        chosen = [c for c in chosen if c]
        if any(c not in std.options for c in chosen) or len(chosen) > len(std.options):
            raise FieldError("choice_invalid", label=label)
        target[column] = [t for t in std.options if t in chosen]
    elif kind == "date":
        day = _date(value, label)
        first, last = meeting_dates
        if std is not None and not (first - DATE_MARGIN <= day <= last + DATE_MARGIN):
            raise FieldError("date_out_of_range", label=label)
        target[column] = day if std is not None else day.isoformat()
    elif kind == "id_number":
        number = idnumbers.normalize(_text(value, label, 40))
        if not idnumbers.is_valid(number):
            raise FieldError("id_invalid", label=label)
        person.id_number = number
    elif kind == "plate":
        plate = _text(value, label, 16).upper().replace(" ", "").replace("·", "").replace("-", "")
        if not PLATE_RE.match(plate):
            raise FieldError("plate_invalid", label=label)
        target[column] = plate
    elif kind in ("photo", "file"):
        field_kind = "photo" if kind == "photo" else "file"
        if isinstance(value, uploads.Upload):
            person.files[key] = uploads.check(value, field_kind, label)
        elif isinstance(value, str):
            person.files[key] = uploads.stored(value, field_kind, label)
        else:
            raise FieldError("file_type_invalid", label=label, kinds=uploads.KIND_NAMES[field_kind])
    else:  # a form saved by an older version with a kind we no longer know: refuse, never guess
        raise FieldError("unknown_field", key=key)


def _bool(value: Any, label: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FieldError("bool_invalid", label=label)


def _date(value: Any, label: str) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        raise FieldError("date_invalid", label=label)
    try:
        return date(*(int(part) for part in text.split("-")))
    except ValueError:
        raise FieldError("date_invalid", label=label) from None


def error_dict(exc: FieldError, index: int) -> dict:
    return {"index": index, "field": getattr(exc, "field", None), "code": exc.code, "message": exc.message}
