"""Normalizing identity fields: phone numbers, person names, unit names.

This is the ONE place these rules live. The contacts importer normalizes what a unit office typed
into a spreadsheet, and identity binding later normalizes what an attendee types on their phone;
both must land on the same string or the two never match.

Mobile validity is structural (11 digits, ``1[3-9]`` prefix), not ``phonenumbers.is_valid_number``:
libphonenumber's CN metadata follows MIIT allocations with a lag (ranges such as 192 or 19x were
rejected by versions of the day when they went live), and refusing a real attendee's number is worse
than accepting a well-formed number that is not allocated yet. ``phonenumbers`` is only used by
:func:`is_known_mobile_range`, an advisory check that never rejects.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

__all__ = [
    "PhoneKind",
    "PhoneResult",
    "is_known_mobile_range",
    "mask_name",
    "normalize_name",
    "normalize_phone",
    "normalize_unit_name",
]


class PhoneKind(StrEnum):
    MOBILE = "mobile"
    LANDLINE = "landline"


@dataclass(frozen=True, slots=True)
class PhoneResult:
    """Outcome of :func:`normalize_phone`.

    ``number`` is the canonical form: ``13800138000`` for a mobile, ``010-12345678`` for a landline
    (``extension`` kept apart so it never takes part in matching). ``error`` is ``phone_missing`` or
    ``phone_invalid`` when ``number`` is None; ``detail`` then says why in Chinese.
    """

    raw: str
    number: str | None = None
    kind: PhoneKind | None = None
    extension: str | None = None
    error: str | None = None
    detail: str | None = None
    #: The number was already damaged by spreadsheet software (scientific notation lost digits):
    #: the office must fix the column, not just retype a digit.
    damaged: bool = False

    @property
    def ok(self) -> bool:
        return self.number is not None

    @property
    def is_mobile(self) -> bool:
        return self.kind is PhoneKind.MOBILE

    @property
    def is_landline(self) -> bool:
        return self.kind is PhoneKind.LANDLINE

    @property
    def display(self) -> str | None:
        if self.number is None:
            return None
        return f"{self.number}转{self.extension}" if self.extension else self.number


# Spaces of every kind people paste from Word/WeChat/web pages, plus zero-width characters that
# are invisible in Excel but break equality.
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_ZERO_WIDTH_TABLE = str.maketrans("", "", _ZERO_WIDTH)
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u30fc\uff70"
_SEPARATORS = str.maketrans({ch: "-" for ch in _DASHES + "().\u00b7 "})
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_EXT_RE = re.compile(r"(?:转|分机|ext\.?|x|#)\s*(\d{1,6})$", re.IGNORECASE)
_SCI_RE = re.compile(r"[+]?(\d+)(?:\.(\d*))?[eE][+]?(\d+)")
# A number written out as a float by a script (pandas writes a numeric column with blanks as
# float: "13800138000.0"): the same number an xlsx float cell holds, so it reads the same. Never
# let the '.' act as a separator here: "1380013800.0" would gain a digit.
_FLOAT_TEXT_RE = re.compile(r"(\d+)\.0+")
# Placeholders offices type into an empty phone cell; they mean "no number", not "bad number".
_PLACEHOLDERS = frozenset(
    {"无", "暂无", "没有", "空", "/", "\\", "-", "--", "—", "——", "null", "none", "n/a", "na"}
)
# Excel's General format shows at most 6 significant digits in scientific notation in a default
# column (1.38001E+10); anything that short lost digits and must not be guessed back.
_SCI_MIN_DIGITS = 7


def _cell_to_text(raw: object) -> str | None:
    """Text of a cell value; numbers typed as numbers come back without '.0' or exponent."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        return str(raw)
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            return str(raw)
        if raw.is_integer():
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, Decimal):
        return format(raw, "f")
    return str(raw)


_ANY_SPACE_RE = re.compile(r"\s")
# Fast paths: most cells are already clean, and a 100,000-row import must not pay for the rare
# messy ones on every row.
_CLEAN_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_CLEAN_NAME_RE = re.compile(
    r"[^\s.\u00ad\u00b7\u0387\u02d1\u16eb\u2000-\u206f\u22c5\u2219\u2e31\u3000\u30fb\u318d\ufeff\uff01-\uff65]+"
)


def _clean_spaces(text: str) -> str:
    return _ANY_SPACE_RE.sub(" ", text.translate(_ZERO_WIDTH_TABLE))


def _invalid(raw: str, detail: str) -> PhoneResult:
    return PhoneResult(raw=raw, error="phone_invalid", detail=detail)


def normalize_phone(raw: object) -> PhoneResult:
    """Normalize a phone cell (str, int, float from Excel, or None) to a mobile or a landline."""
    if isinstance(raw, str) and _CLEAN_MOBILE_RE.fullmatch(raw):
        return PhoneResult(raw=raw, number=raw, kind=PhoneKind.MOBILE)
    text = _cell_to_text(raw)
    if text is None:
        return PhoneResult(raw="", error="phone_missing", detail="未填写手机号")
    if _CLEAN_MOBILE_RE.fullmatch(text):
        return PhoneResult(raw=text, number=text, kind=PhoneKind.MOBILE)
    shown = text.strip()
    # What a message quotes of the cell: a cell of garbage is named by its start.
    quoted = shown if len(shown) <= 40 else shown[:40] + "…"
    if floated := _FLOAT_TEXT_RE.fullmatch(shown):
        text = floated.group(1)
        if _CLEAN_MOBILE_RE.fullmatch(text):
            return PhoneResult(raw=shown, number=text, kind=PhoneKind.MOBILE)
    # NFKC folds full-width digits, '＋', '（）' and friends to ASCII.
    s = unicodedata.normalize("NFKC", _clean_spaces(text)).strip()
    if not s or s.lower() in _PLACEHOLDERS:
        return PhoneResult(raw=shown, error="phone_missing", detail="未填写手机号")
    # Tricks to keep Excel from turning the number into 1.38E+10: '13800138000 and ="13800138000".
    if s.startswith("'"):
        s = s[1:].strip()
    if s.startswith('="') and s.endswith('"'):
        s = s[2:-1].strip()

    sci = _SCI_RE.fullmatch(s.replace(" ", ""))
    if sci:
        digits_written = len((sci.group(1) + (sci.group(2) or "")).lstrip("0"))
        try:
            value = Decimal(s.replace(" ", ""))
        except InvalidOperation:
            return _invalid(shown, f"无法识别“{quoted}”")
        if value != value.to_integral_value() or digits_written < _SCI_MIN_DIGITS:
            return PhoneResult(
                raw=shown, error="phone_invalid", damaged=True,
                detail=f"“{quoted}”是科学计数法显示，号码的后几位已经丢失，"
                       "请将该列设置为文本格式后重新输入完整号码",
            )
        s = str(int(value))

    extension: str | None = None
    ext = _EXT_RE.search(s)
    if ext:
        extension = ext.group(1)
        s = s[: ext.start()]

    # Every separator becomes '-' so digit groups survive for extension detection.
    s = s.translate(_SEPARATORS).strip("-")
    if "/" in s or "、" in s or "," in s or ";" in s:
        return _invalid(shown, f"“{quoted}”包含多个号码，请只填写一个")
    international = False
    if s.startswith("+"):
        s = s[1:].lstrip("-")
        if not s.startswith("86"):
            return _invalid(shown, f"“{quoted}”不是中国大陆号码")
        international = True
    groups = [g for g in s.split("-") if g]
    if not groups or not all(g.isdigit() for g in groups):
        return _invalid(shown, f"“{quoted}”包含无法识别的字符")
    digits = "".join(groups)

    # Country prefix: +86 / 0086 explicitly; a bare 86 only in front of a whole mobile number.
    if digits.startswith("0086"):
        digits, groups, international = digits[4:], _drop_prefix(groups, 4), True
    elif international:
        digits, groups = digits[2:], _drop_prefix(groups, 2)
    elif digits.startswith("86") and len(digits) == 13 and _MOBILE_RE.fullmatch(digits[2:]):
        digits, groups = digits[2:], _drop_prefix(groups, 2)

    if _MOBILE_RE.fullmatch(digits) and extension is None:
        return PhoneResult(raw=shown, number=digits, kind=PhoneKind.MOBILE)
    # A leading trunk '0' before a mobile (old habit for out-of-town mobiles).
    if (
        len(digits) == 12
        and digits.startswith("01")
        and _MOBILE_RE.fullmatch(digits[1:])
        and not international
    ):
        return PhoneResult(raw=shown, number=digits[1:], kind=PhoneKind.MOBILE)
    if len(digits) == 11 and digits.startswith("1"):
        return _invalid(shown, f"“{quoted}”不是有效的手机号")

    if international and not digits.startswith("0"):
        digits = "0" + digits
        groups = ["0" + groups[0], *groups[1:]] if groups else groups
    landline = _landline(digits, groups, extension)
    if landline is not None:
        number, extension = landline
        return PhoneResult(raw=shown, number=number, kind=PhoneKind.LANDLINE, extension=extension)
    if len(digits) < 11:
        return _invalid(shown, f"“{quoted}”位数不足")
    return _invalid(shown, f"“{quoted}”不是有效的手机号")


def _drop_prefix(groups: list[str], n: int) -> list[str]:
    """Remove the first n digits (a country prefix) from the digit groups."""
    out = list(groups)
    while n > 0 and out:
        head = out[0]
        if len(head) <= n:
            n -= len(head)
            out.pop(0)
        else:
            out[0] = head[n:]
            n = 0
    return out


def _area_code_length(digits: str) -> int:
    # 010 and 02x are the two-digit area codes (3 with the trunk 0); the rest have three.
    return 3 if digits[1] in "12" else 4


def _landline(digits: str, groups: list[str], extension: str | None) -> tuple[str, str | None] | None:
    if digits.startswith("0"):
        if len(digits) < 3 or digits[1] == "0":
            return None
        area_len = _area_code_length(digits)
        # A trailing short group after a complete number is an extension: 010-12345678-123.
        if extension is None and len(groups) >= 2 and 1 <= len(groups[-1]) <= 6:
            head = "".join(groups[:-1])
            if 7 <= len(head) - area_len <= 8 and len(digits) - area_len > 8:
                extension = groups[-1]
                digits = head
        area, local = digits[:area_len], digits[area_len:]
        if 7 <= len(local) <= 8 and local[0] != "0":
            return f"{area}-{local}", extension
        return None
    # A local number with no area code: still a landline, just incomplete.
    if 7 <= len(digits) <= 8 and digits[0] not in "01":
        return digits, extension
    return None


def is_known_mobile_range(number: str) -> bool:
    """Advisory: does libphonenumber know this CN mobile range? Never use it to reject."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


# --- names -----------------------------------------------------------------------------------

# Look-alikes of the middle dot that separates parts of Uyghur, Tibetan and transliterated names.
_MIDDLE_DOTS = "\u00b7\u2022\u2027\u30fb\uff65\uff0e\u2219\u22c5\u0387\u16eb\u2e31\u318d\u02d1"
_MIDDLE_DOT = "\u00b7"


def _fold_fullwidth_ascii(text: str) -> str:
    # Only U+FF01..U+FF5E and the ideographic space: NFKC would also rewrite rare CJK
    # compatibility ideographs that people really use in names.
    return "".join(
        chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else (" " if ch == "\u3000" else ch)
        for ch in text
    )


def _is_latin(ch: str) -> bool:
    return ch.isascii() and ch.isalnum() or ch in ".'-" or (ch.isalpha() and ord(ch) < 0x250)


def normalize_name(raw: object) -> str:
    """Canonical person name: no stray spaces, one kind of middle dot, single spaces in Latin names."""
    if isinstance(raw, str) and _CLEAN_NAME_RE.fullmatch(raw):
        return raw
    text = _cell_to_text(raw)
    if text is None:
        return ""
    text = "".join(_MIDDLE_DOT if ch in _MIDDLE_DOTS else ch for ch in text)
    text = _fold_fullwidth_ascii(_clean_spaces(text))
    # An ASCII period between two CJK characters is a middle dot typed on an English keyboard.
    text = re.sub(r"(?<=[^\x00-\x7f])\s*\.\s*(?=[^\x00-\x7f])", _MIDDLE_DOT, text)
    out: list[str] = []
    parts = re.split(r"( +)", text.strip())
    for i, part in enumerate(parts):
        if not part.startswith(" "):
            out.append(part)
            continue
        left, right = parts[i - 1][-1:], parts[i + 1][:1]
        if (
            left
            and right
            and _is_latin(left)
            and _is_latin(right)
            and not (left == "." and not right.isalpha())
        ):
            out.append(" ")
    name = "".join(out)
    return re.sub(r"\s*·\s*", _MIDDLE_DOT, name).strip(_MIDDLE_DOT + " ")


def normalize_unit_name(raw: object) -> str:
    """Key for matching unit names: no spaces at all, ASCII width and case folded, one kind of paren."""
    text = _cell_to_text(raw)
    if text is None:
        return ""
    text = unicodedata.normalize("NFKC", _clean_spaces(text))
    text = "".join(_MIDDLE_DOT if ch in _MIDDLE_DOTS else ch for ch in text)
    text = text.replace("〔", "(").replace("〕", ")").replace("【", "(").replace("】", ")")
    return re.sub(r"\s+", "", text).casefold()


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧***: the surname stays so the room recognises progress, not people."""
    name = name or ""
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""
