"""normalize_phone / normalize_name / normalize_unit_name: the one place identity fields are cleaned."""

from __future__ import annotations

import pytest

from app.services.contacts.phones import (
    PhoneKind,
    is_known_mobile_range,
    normalize_name,
    normalize_phone,
    normalize_unit_name,
)


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        13800138000,
        13800138000.0,  # typed as a number in Excel
        1.38001380e10,
        "1.38001380E10",  # the same number shown in scientific notation, with enough digits
        "1.3800138E+10",
        "１３８００１３８０００",  # full-width digits
        " 138 0013 8000 ",
        "138\u30000013\u00a08000",  # ideographic space and NBSP
        "138\u200b00138000",  # zero-width space
        "138-0013-8000",
        "138－0013－8000",  # full-width dash
        "138—0013—8000",
        "138.0013.8000",
        "(138)00138000",
        "+86 138 0013 8000",
        "+86-13800138000",
        "＋８６１３８００１３８０００",
        "(+86)13800138000",
        "0086 138 0013 8000",
        "0086-13800138000",
        "8613800138000",
        "013800138000",  # trunk 0 before a mobile
        "'13800138000",  # Excel text marker typed into a CSV
        '="13800138000"',  # CSV trick to keep Excel from reformatting
        "\t13800138000\n",
    ],
)
def test_mobile_variants_normalize_to_eleven_digits(raw: object) -> None:
    result = normalize_phone(raw)
    assert result.ok, result
    assert result.number == "13800138000"
    assert result.kind is PhoneKind.MOBILE
    assert result.is_mobile and not result.is_landline
    assert result.error is None


@pytest.mark.parametrize(
    "number", ["19212345678", "19012345678", "16612345678", "14512345678", "17012345678"]
)
def test_new_and_special_mobile_ranges_are_accepted(number: str) -> None:
    # Structural rule on purpose: libphonenumber metadata may lag behind MIIT allocations.
    assert normalize_phone(number).number == number


@pytest.mark.parametrize(
    ("raw", "number", "extension"),
    [
        ("010-12345678", "010-12345678", None),
        ("01012345678", "010-12345678", None),
        ("(010)12345678", "010-12345678", None),
        ("（010）12345678", "010-12345678", None),
        ("0755-1234567", "0755-1234567", None),
        ("0755 8888 9999", "0755-88889999", None),
        ("021-12345678", "021-12345678", None),
        ("010-12345678-123", "010-12345678", "123"),
        ("010-12345678转123", "010-12345678", "123"),
        ("010-12345678 分机 8001", "010-12345678", "8001"),
        ("0755-88889999 ext. 12", "0755-88889999", "12"),
        ("+86 10 1234 5678", "010-12345678", None),
        ("88889999", "88889999", None),  # no area code: still recognizably a landline
    ],
)
def test_landlines_are_flagged(raw: str, number: str, extension: str | None) -> None:
    result = normalize_phone(raw)
    assert result.kind is PhoneKind.LANDLINE, result
    assert result.number == number
    assert result.extension == extension
    assert result.display == (f"{number}转{extension}" if extension else number)


@pytest.mark.parametrize("raw", [None, "", "   ", "\u3000", "无", "暂无", "/", "-", "——", "N/A"])
def test_empty_and_placeholders_are_missing(raw: object) -> None:
    result = normalize_phone(raw)
    assert not result.ok
    assert result.error == "phone_missing"


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        ("1380013800", "位数不足"),
        ("138001380000", "不是有效的手机号"),
        ("12345678901", "不是有效的手机号"),  # 12x is not a mobile range
        ("10012345678", "不是有效的手机号"),
        ("abc", "无法识别的字符"),
        ("138OO138OOO", "无法识别的字符"),  # letter O instead of zero
        ("13800138000/13900139000", "多个号码"),
        ("13800138000、13900139000", "多个号码"),
        ("+1 415 555 0100", "不是中国大陆号码"),
        ("1.38E+10", "科学计数法"),  # Excel display that lost digits
        ("1.38001E+10", "科学计数法"),
        ("021-1234", "位数不足"),
        (True, "无法识别的字符"),
    ],
)
def test_invalid_numbers_say_what_was_seen(raw: object, hint: str) -> None:
    result = normalize_phone(raw)
    assert not result.ok
    assert result.error == "phone_invalid"
    assert hint in (result.detail or "")
    assert str(raw) in (result.detail or "")


def test_raw_keeps_what_the_office_typed() -> None:
    assert normalize_phone(" １３８-0013-8000 ").raw == "１３８-0013-8000"
    assert normalize_phone(13800138000.0).raw == "13800138000"


def test_known_range_is_advisory_only() -> None:
    assert is_known_mobile_range("13800138000")
    assert not is_known_mobile_range("010-12345678")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张三", "张三"),
        ("张 三", "张三"),
        (" 张三 ", "张三"),
        ("张\u3000三", "张三"),
        ("张\u00a0三", "张三"),
        ("张\u200b三", "张三"),
        ("\ufeff张三", "张三"),
        ("张\n三", "张三"),
        ("欧阳 娜娜", "欧阳娜娜"),
        ("阿卜杜·热合曼", "阿卜杜·热合曼"),
        ("阿卜杜•热合曼", "阿卜杜·热合曼"),
        ("阿卜杜‧热合曼", "阿卜杜·热合曼"),
        ("阿卜杜・热合曼", "阿卜杜·热合曼"),
        ("阿卜杜．热合曼", "阿卜杜·热合曼"),
        ("阿卜杜.热合曼", "阿卜杜·热合曼"),
        ("阿卜杜 · 热合曼", "阿卜杜·热合曼"),
        ("John Smith", "John Smith"),
        ("John   Smith", "John Smith"),
        ("  John\u3000Smith ", "John Smith"),
        ("Ｊｏｈｎ　Ｓｍｉｔｈ", "John Smith"),
        ("John F. Kennedy", "John F. Kennedy"),
        ("O'Brien", "O'Brien"),
        ("José García", "José García"),
        ("张三 John", "张三John"),
        (None, ""),
        ("", ""),
        ("  ", ""),
    ],
)
def test_normalize_name(raw: object, expected: str) -> None:
    assert normalize_name(raw) == expected


def test_normalize_name_is_idempotent() -> None:
    for raw in ["阿卜杜 • 热合曼", "John  Smith", "张 三"]:
        once = normalize_name(raw)
        assert normalize_name(once) == once


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("市发展和改革委员会", " 市发展和改革 委员会 "),
        ("市财政局（办公室）", "市财政局(办公室)"),
        ("ABC公司", "ａｂｃ 公司"),
        ("市第一中学", "市第一中学\u3000"),
        ("XX局", "xx局"),
    ],
)
def test_normalize_unit_name_matches_variants(a: str, b: str) -> None:
    assert normalize_unit_name(a) == normalize_unit_name(b)


def test_normalize_unit_name_keeps_distinct_units_apart() -> None:
    assert normalize_unit_name("市财政局") != normalize_unit_name("区财政局")
    assert normalize_unit_name(None) == ""
