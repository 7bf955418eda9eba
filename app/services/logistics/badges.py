"""Badges (胸卡 / 代表证): A4 sheets of cards to cut, one per person on the meeting's roster.

Two sizes (:data:`SIZES`): the small badge, 90 × 54 mm, ten to a portrait A4 (2 × 5); the large
代表证, 100 × 140 mm, two to a landscape A4. The cards of a sheet touch, so one guillotine cut
serves two cards; crop marks in the margins show each cut line.

A card shows the meeting's title, the name large, the unit and the title (职务), the role on a band
of the role's colour (configurable per role), the delegation, the photo when one was uploaded and
the person's personal code as a QR, which the desk's offline scanner reads
(:func:`app.services.signin.personal_codes.personal_codes_of`). Text is Noto Sans CJK embedded as
TrueType (:mod:`app.services.reports.pdffont`), so names are searchable and copyable; a long name
shrinks, then narrows, to fit its line. The QR is drawn as vector squares: sharp at any printer.

Photos come from storage as people uploaded them. Each is opened with Pillow under limits (bytes,
pixels, a few formats), verified, then decoded small; one that fails any of this is left off its
card with a note in the job's result, never failing the print.

Printing a whole meeting takes seconds, so the console runs it as a job (:func:`print_job`); the
CLI calls :func:`print_badges` itself. The job's result keeps a fingerprint of each card printed,
so "only the changed" (:attr:`Options.changed`) reprints the people whose card would differ from
their last printed one (a new unit, a revoked code) and those never printed.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

import pypdfium2 as pdfium
import qrcode
from PIL import Image, ImageOps
from qrcode.constants import ERROR_CORRECT_M
from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas as rl_canvas
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services import audit, storage
from app.services.errors import DomainError
from app.services.logistics.people import ROLE_ORDER, Person, roster
from app.services.meetings.meetings import MeetingError
from app.services.reports import pdffont
from app.services.signin.personal_codes import CODE_LEN, personal_codes_of
from app.services.timeutil import local
from models import Job, Meeting

JOB_KIND = "badges_print"
#: Roles in the order the page lists their colours (the roster's order).
ROLES: tuple[str, ...] = tuple(sorted(ROLE_ORDER, key=ROLE_ORDER.get))
DEFAULT_COLOURS: dict[str, str] = {"领导": "#8b1a1a", "代表": "#c8102e", "列席": "#1d4ed8", "媒体": "#047857",
                                   "工作人员": "#b45309"}
#: A role the roster has that the table does not name prints in grey.
OTHER_COLOUR = "#4b5563"
#: People a print may name by id (the console's chosen people; a meeting is rarely past a few thousand).
MAX_CHOSEN = 5000
MAX_GROUP_LEN = 64
PHOTO_MAX_BYTES = 8 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP")
#: EXIF's Orientation tag.
ORIENTATION = 0x0112
#: Photos are opened this many at a time (Pillow works outside the GIL: both cores of a small server).
PHOTO_THREADS = 2
#: Past-print jobs read for "only the changed" (newest first).
BASELINE_JOBS = 200
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069]")

INK = colors.HexColor("#111827")
GREY = colors.HexColor("#4b5563")
MARK = colors.black


class BadgeError(DomainError):
    messages = {
        "size_invalid": "胸卡尺寸只能是 small（90×54 毫米）或 large（100×140 毫米）",
        "filter_invalid": "筛选方式无效",
        "role_invalid": "没有这种参会身份：{role}",
        "group_invalid": "分组名称无效（不超过 64 字）",
        "people_invalid": "所选人员无效",
        "too_many": "一次最多选择 5000 人",
        "person_not_listed": "所选人员不在本次会议的参会名单中",
        "colour_invalid": "颜色须为 #RRGGBB 格式：{role}",
        "badges_empty": "没有符合条件的人员，未生成胸卡",
        "output_invalid": "无法写入输出文件：{path}",
    }


PHOTO_NOTES = {
    "photo_missing": "照片文件不存在，胸卡未印照片",
    "photo_too_large": "照片文件过大，胸卡未印照片",
    "photo_unreadable": "照片无法识别或已损坏，胸卡未印照片",
}


# -- sizes ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Size:
    key: str
    label: str
    width: float  # card, points
    height: float
    page: tuple[float, float]
    cols: int
    rows: int
    #: Pixels a photo is printed from: 3:4, 250-340 dpi at the card's photo frame (a multiple of
    #: 100 × 133 that a phone's upload reaches by JPEG's own fast 1/2, 1/4, 1/8 decoding).
    photo_px: tuple[int, int]

    @property
    def per_sheet(self) -> int:
        return self.cols * self.rows

    def origin(self, index: int) -> tuple[float, float]:
        """The lower-left corner of the ``index``-th card of a sheet (left to right, top to bottom)."""
        left, bottom = self.grid_origin
        row, col = divmod(index, self.cols)
        return left + col * self.width, bottom + (self.rows - 1 - row) * self.height

    @property
    def grid_origin(self) -> tuple[float, float]:
        return (self.page[0] - self.cols * self.width) / 2, (self.page[1] - self.rows * self.height) / 2


SIZES: dict[str, Size] = {
    "small": Size("small", "胸卡 90×54 毫米（每页 10 张）", 90 * mm, 54 * mm, A4, 2, 5, (240, 320)),
    "large": Size("large", "代表证 100×140 毫米（每页 2 张）", 100 * mm, 140 * mm, landscape(A4), 2, 1, (300, 400)),
}
#: Crop marks start this far off the cards and are this long.
MARK_GAP, MARK_LEN = 2 * mm, 5 * mm


# -- what to print ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Options:
    """Which people, on which card. The filters combine (a role and a group: that role of that group)."""

    size: str = "small"
    role: str | None = None
    group: str | None = None
    people: tuple[int, ...] = ()
    changed: bool = False
    colours: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"size": self.size, "role": self.role, "group": self.group, "people": list(self.people),
                "changed": self.changed, "colours": dict(self.colours)}

    def colour_of(self, role: str) -> str:
        return self.colours.get(role) or DEFAULT_COLOURS.get(role) or OTHER_COLOUR


def parse_options(*, size: object = "small", role: object = None, group: object = None, people: object = (),
                  changed: object = False, colours: object = None) -> Options:
    """Options from untrusted input (a form, the CLI, a job's arguments).

    :raise BadgeError: ``size_invalid``, ``role_invalid``, ``group_invalid``, ``people_invalid``,
        ``too_many``, ``colour_invalid``.
    """
    size = "small" if size in (None, "") else size
    if not isinstance(size, str) or size.strip().lower() not in SIZES:
        raise BadgeError("size_invalid")
    role_v = _optional_text(role)
    if role_v is not None and role_v not in ROLES:
        raise BadgeError("role_invalid", role=role_v)
    group_v = _optional_text(group)
    if group_v is not None and (len(group_v) > MAX_GROUP_LEN or _CONTROL.search(group_v)):
        raise BadgeError("group_invalid")
    return Options(size=size.strip().lower(), role=role_v, group=group_v, people=_people(people),
                   changed=_flag(changed), colours=_colours(colours))


def _optional_text(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadgeError("filter_invalid")
    return value.strip() or None


def _flag(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in (None, "", "0", "false", "off"):
        return False
    if value in ("1", "true", "on", 1):
        return True
    raise BadgeError("filter_invalid")


def _people(value: object) -> tuple[int, ...]:
    if value in (None, "", ()):
        return ()
    if isinstance(value, str):
        value = [v for v in re.split(r"[\s,，]+", value) if v]
    if not isinstance(value, list | tuple):
        raise BadgeError("people_invalid")
    if len(value) > MAX_CHOSEN:
        raise BadgeError("too_many")
    ids = []
    for item in value:
        if isinstance(item, bool):
            raise BadgeError("people_invalid")
        if isinstance(item, str) and re.fullmatch(r"\d{1,10}", item.strip()):
            item = int(item.strip())
        if not isinstance(item, int) or not 0 < item < 2**31:
            raise BadgeError("people_invalid")
        ids.append(item)
    return tuple(dict.fromkeys(ids))


def _colours(value: object) -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise BadgeError("colour_invalid", role="")
    out = {}
    for role, colour in value.items():
        if not isinstance(role, str) or role not in ROLES:
            raise BadgeError("role_invalid", role=str(role))
        if colour in (None, ""):
            continue
        if not isinstance(colour, str) or not _COLOUR.fullmatch(colour.strip()):
            raise BadgeError("colour_invalid", role=role)
        out[role] = colour.strip().lower()
    return out


#: The console's filters: everyone, a role, a group, chosen people, or those changed since their last print.
FILTERS = {"all": "全部人员", "role": "按身份", "group": "按分组 / 代表团", "people": "指定人员",
           "changed": "仅上次打印后有变化的人员"}


def options_from_form(*, how: object, size: object, role: object, group: object, people: object,
                      colours: object, strict: bool = True) -> Options:
    """Options from the console's form, whose one filter (``how``, a key of :data:`FILTERS`) says which
    of its inputs counts. :raise BadgeError: as :func:`parse_options`, and ``filter_invalid``; a
    filter with its input empty is refused, never widened to everyone (``strict``; the preview, not
    strict, then shows the first card of all)."""
    how = how if isinstance(how, str) else ""
    if how not in FILTERS:
        raise BadgeError("filter_invalid")
    options = parse_options(size=size, role=role if how == "role" else None,
                            group=group if how == "group" else None, people=people if how == "people" else (),
                            changed=how == "changed", colours=colours)
    if not strict:
        return options
    if how == "role" and options.role is None:
        raise BadgeError("role_invalid", role="")
    if how == "group" and options.group is None:
        raise BadgeError("group_invalid")
    if how == "people" and not options.people:
        raise BadgeError("people_invalid")
    return options


@dataclass(frozen=True)
class Card:
    contact_id: int
    name: str
    unit: str
    role: str
    group: str
    title: str
    photo: str | None
    code: str

    @property
    def fingerprint(self) -> str:
        """What the printed card shows, hashed: a card whose fingerprint changed needs reprinting."""
        text = "\x1f".join((self.name, self.unit, self.role, self.group, self.title, self.photo or "", self.code))
        return hashlib.sha1(text.encode()).hexdigest()[:12]


def _clean(text: str | None) -> str:
    return _CONTROL.sub("", text or "").strip()


def _card(p: Person, code: str) -> Card:
    return Card(p.contact_id, _clean(p.name), _clean(p.unit_name), p.role, _clean(p.group), _clean(p.title), p.photo,
                code)


def cards_of(meeting: Meeting, options: Options) -> list[Card]:
    """The cards ``options`` selects, in the roster's order (role, rank, unit, name).

    :raise BadgeError: ``person_not_listed`` (a chosen person is not on the roster).
    """
    people: list[Person] = roster(meeting.id)
    if options.people:
        listed = {p.contact_id for p in people}
        if not set(options.people) <= listed:
            raise BadgeError("person_not_listed")
        chosen = set(options.people)
        people = [p for p in people if p.contact_id in chosen]
    if options.role is not None:
        people = [p for p in people if p.role == options.role]
    if options.group is not None:
        people = [p for p in people if (p.group or "") == options.group]
    codes = personal_codes_of(meeting, [p.contact_id for p in people])
    cards = [_card(p, codes[p.contact_id]) for p in people]
    if options.changed:
        printed = last_printed(meeting.id)
        cards = [c for c in cards if printed.get(c.contact_id) != c.fingerprint]
    return cards


def last_printed(meeting_id: int) -> dict[int, str]:
    """Each person's fingerprint on their last printed card (the finished print jobs' results)."""
    results = db.session.scalars(
        select(Job.result).where(Job.meeting_id == meeting_id, Job.kind == JOB_KIND, Job.state == "done")
        .order_by(Job.id.desc()).limit(BASELINE_JOBS))
    out: dict[int, str] = {}
    for result in results:
        for cid, fp in ((result or {}).get("printed") or {}).items():
            out.setdefault(int(cid), fp)
    return out


def check_selection(meeting: Meeting, options: Options) -> int:
    """How many cards ``options`` selects, before a job is asked for: a print of nobody is refused
    at once, not after a wait. :raise BadgeError: ``person_not_listed``, ``badges_empty``."""
    count = len(cards_of(meeting, options))
    if not count:
        raise BadgeError("badges_empty")
    return count


def page_data(meeting: Meeting) -> dict:
    """What the console's page offers: the people (for choosing), groups, roles present, how many
    changed since their last print, and the colours of the last print (its table is the default)."""
    people = roster(meeting.id)
    last = db.session.scalars(select(Job.args).where(Job.meeting_id == meeting.id, Job.kind == JOB_KIND)
                              .order_by(Job.id.desc()).limit(1)).first()
    try:
        colours = parse_options(**last[1]).colours if last else {}
    except (BadgeError, TypeError, IndexError, KeyError):
        colours = {}
    printed = last_printed(meeting.id)
    codes = personal_codes_of(meeting, [p.contact_id for p in people]) if printed else {}
    changed = sum(1 for p in people if not printed or printed.get(p.contact_id) != _card(p, codes[p.contact_id])
                  .fingerprint)
    return {"people": people, "groups": sorted({p.group for p in people if p.group}),
            "roles": {role: sum(1 for p in people if p.role == role) for role in ROLES},
            "changed": changed, "ever_printed": bool(printed),
            "colours": {role: colours.get(role) or DEFAULT_COLOURS[role] for role in ROLES}}


# -- drawing ----------------------------------------------------------------------------------------
class Face(NamedTuple):
    name: str
    #: Regular outlines drawn bold (filled and stroked): the text stays text.
    emboldened: bool = False


class _Fonts:
    """The face for each string. The cached faces first (:mod:`.pdffont`): bold covers GB2312, regular
    every CJK Unified Ideograph. A bold string beyond GB2312 (王堃, a name common enough) is the
    regular face emboldened, not a bold face converted for it: converting a face for a thousand names'
    characters costs seconds. Only a character beyond both (CJK Extension B: 王𠀾) gets a face of the
    document's own rare strings, one conversion for them all."""

    def __init__(self, strings: set[str], bold: bool):
        regular = pdffont.register("", bold=False)
        covered_regular = pdfmetrics.getFont(regular).face.charToGlyph
        self.faces: dict[str, Face] = {}
        rare = {s for s in strings if any(ord(ch) not in covered_regular for ch in s)}
        extra = Face(pdffont.register(set("".join(rare)), bold=False), bold) if rare else None
        base = Face(pdffont.register("", bold=True)) if bold else Face(regular)
        covered_base = pdfmetrics.getFont(base.name).face.charToGlyph
        for text in strings:
            if text in rare:
                self.faces[text] = extra
            elif not all(ord(ch) in covered_base for ch in text):
                self.faces[text] = Face(regular, True)
        self.base = base

    def __call__(self, text: str) -> Face:
        return self.faces.get(text, self.base)


def _fit(text: str, font: str, width: float, max_size: float, min_size: float) -> tuple[float, float]:
    """The font size (and, past ``min_size``, the horizontal scale in %) that fits ``text`` in ``width``."""
    natural = pdfmetrics.stringWidth(text, font, 1)
    if natural <= 0:
        return max_size, 100.0
    size = max(min_size, min(max_size, width / natural))
    return size, min(100.0, 100.0 * width / (natural * size))


def _line(c: rl_canvas.Canvas, text: str, face: Face, x: float, y: float, width: float, max_size: float,
          min_size: float, *, colour=INK, centred: bool = False) -> float:
    """Draw ``text`` on one line fitted to ``width`` (baseline ``y``); returns the size used."""
    if not text:
        return 0.0
    size, scale = _fit(text, face.name, width, max_size, min_size)
    drawn = pdfmetrics.stringWidth(text, face.name, size) * scale / 100
    t = c.beginText(x + (width - drawn) / 2 if centred else x, y)
    t.setFont(face.name, size)
    t.setHorizScale(scale)
    t.setFillColor(colour)
    if not face.emboldened:
        t.textOut(text)
        c.drawText(t)
        return size
    # Fill, then stroke the outline: bold strokes from regular outlines. The render mode and the line
    # width are graphics state: saved and restored, they end with this text.
    c.saveState()
    c.setLineWidth(size * 0.035)
    t.setStrokeColor(colour)
    t.setTextRenderMode(2)
    t.textOut(text)
    c.drawText(t)
    c.restoreState()
    return size


def _greedy(text: str, font: str, width: float, size: float) -> list[str]:
    """``text`` in lines that fit ``width`` at ``size``, each as full as it goes (CJK breaks anywhere)."""
    lines, line = [], ""
    for ch in text:
        if line and pdfmetrics.stringWidth(line + ch, font, size) > width:
            lines.append(line)
            line = ch.lstrip()
        else:
            line += ch
    if line:
        lines.append(line)
    return lines


def _wrap(text: str, font: str, width: float, size: float, max_lines: int) -> list[str] | None:
    """``text`` in at most ``max_lines`` lines that fit at ``size``, else None. Balanced: "新疆…综合"
    over "科" reads worse than two even lines."""
    lines = _greedy(text, font, width, size)
    if len(lines) > max_lines:
        return None
    if len(lines) > 1:
        natural = pdfmetrics.stringWidth(text, font, size)
        for share in (1.0, 1.1, 1.2, 1.35):
            even = _greedy(text, font, min(width, natural / len(lines) * share + size), size)
            if len(even) == len(lines):
                return even
    return lines


def _block(c, text: str, face: Face, x: float, top: float, width: float, max_size: float, min_size: float,
           max_lines: int, *, colour=INK, centred: bool = False, leading: float = 1.2) -> float:
    """Draw ``text`` in up to ``max_lines`` lines below ``top`` (shrinking as needed); returns its bottom."""
    if not text:
        return top
    font = face.name
    size = max_size
    while True:
        lines = _wrap(text, font, width, size, max_lines)
        if lines is not None or size <= min_size:
            break
        size = max(min_size, size - 0.5)
    if lines is None:  # still too long at the smallest size: the last line narrows to hold the rest
        every = _greedy(text, font, width, size) or [text]
        lines = [*every[:max_lines - 1], "".join(every[max_lines - 1:])]
    y = top - size
    for line in lines:
        _line(c, line, face, x, y, width, size, size * 0.5, colour=colour, centred=centred)
        y -= size * leading
    return y + size * leading - size * 0.25


#: The QR mask. Choosing the best of the eight (the spec's penalty score) is 85% of making a code
#: with the qrcode package: 30 ms of a card's 35. A personal code is signed bytes in base32, as good
#: as random, so every mask scores alike: mask 2 averaged within 9% of the best score on such codes
#: (worst 29%), and every mask decodes the same (error correction M either way).
QR_MASK = 2


_ALNUM = re.compile(r"[0-9A-Z $%*+\-./:]*")


@cache
def _qr_version(length: int) -> int:
    """The QR version that holds an alphanumeric text of ``length`` (every personal code has the same
    length: found once, not by trying versions for each card)."""
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, box_size=1, mask_pattern=QR_MASK)
    qr.add_data("A" * length)
    qr.make(fit=True)
    return qr.version


def _qr_matrix(code: str) -> list[list[bool]]:
    version = _qr_version(len(code)) if _ALNUM.fullmatch(code) else None
    qr = qrcode.QRCode(version=version, error_correction=ERROR_CORRECT_M, border=0, box_size=1,
                       mask_pattern=QR_MASK)
    qr.add_data(code)
    qr.make(fit=version is None)
    return qr.get_matrix()


class _RawPath:
    """PDF path operators written here (``canvas.drawPath`` takes anything with ``getCode``):
    reportlab's ``rect`` formats each number through its pure-Python float writer, which cost more
    than the rest of the card for a QR's few hundred rectangles."""

    def __init__(self, ops: list[str]):
        self.ops = ops

    def getCode(self) -> str:  # noqa: N802 - reportlab's name
        return " ".join(self.ops)


def _draw_qr(c: rl_canvas.Canvas, code: str, x: float, y: float, side: float, quiet: int = 2) -> None:
    """The QR of ``code`` in a ``side`` square at (x, y), with a ``quiet``-module white margin inside
    it (the card around is white too). Drawn in module units: runs of dark modules are one rectangle
    each, the whole code one path."""
    matrix = _qr_matrix(code)
    n = len(matrix)
    module = side / (n + 2 * quiet)
    ops = []
    for row_index, row in enumerate(matrix):
        y0 = n - row_index - 1
        col = 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                # A hair of overlap closes the seams a rasterizer's anti-aliasing would leave between rows.
                ops.append(f"{start} {y0 - 0.02:.2f} {col - start} 1.04 re")
            else:
                col += 1
    c.saveState()
    c.transform(module, 0, 0, module, x + quiet * module, y + quiet * module)
    c.setFillColor(colors.black)
    c.drawPath(_RawPath(ops), stroke=0, fill=1)
    c.restoreState()


def load_photo(read: Callable[[str], bytes], key: str, px: tuple[int, int]) -> tuple[bytes | None, str | None]:
    """The photo under storage ``key`` (``read`` reads a blob) as a ``px`` (3:4) JPEG, or (None, why)
    for one that cannot be printed safely: missing, too big in bytes or pixels, not an image of
    :data:`PHOTO_FORMATS`, broken. Thread-safe: Pillow decodes, scales and encodes outside the GIL."""
    try:
        data = read(key)
    except (ValueError, OSError):
        return None, "photo_missing"
    if len(data) > PHOTO_MAX_BYTES:
        return None, "photo_too_large"
    try:
        with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as img:  # reads the header only
            if img.width * img.height > PHOTO_MAX_PIXELS or img.width < 1 or img.height < 1:
                return None, "photo_too_large"
            img.verify()
        with Image.open(io.BytesIO(data), formats=PHOTO_FORMATS) as img:  # verify() spends the file
            img.draft("RGB", px)  # a JPEG decodes at a fraction of its size: fast, little memory
            if img.getexif().get(ORIENTATION, 1) != 1:  # a phone held sideways: turned upright first
                img = ImageOps.exif_transpose(img)
            small = ImageOps.fit(img.convert("RGB"), px, Image.Resampling.BILINEAR)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=85)
    except Image.DecompressionBombError:  # Pillow's own guard, past twice its pixel limit
        return None, "photo_too_large"
    except Exception:  # Pillow's failures on hostile files are of many kinds; none may stop the print
        return None, "photo_unreadable"
    return out.getvalue(), None


def _role_label(role: str) -> str:
    """Two-character roles spaced as badges print them (代 表)."""
    return " ".join(role) if len(role) == 2 else role


def _load_photos(cards: list[Card], px: tuple[int, int]) -> dict[str, tuple[bytes | None, str | None]]:
    """Each photo of ``cards`` at ``px``, kept beside its blob in storage (a derived file, made again
    from the blob whenever it is missing), so a reprint opens no photo twice."""
    keys = list(dict.fromkeys(card.photo for card in cards if card.photo))
    if not keys:
        return {}
    backend = storage.get_storage()  # here: the threads have no app context
    derived = f"badge-{px[0]}x{px[1]}.jpg"

    def one(key: str) -> tuple[bytes | None, str | None]:
        try:
            kept = backend.read_derived(key, derived)
        except (ValueError, OSError):
            kept = None
        if kept is not None:
            return kept, None
        jpeg, note = load_photo(backend.read, key, px)
        if jpeg is not None:
            backend.put_derived(key, derived, jpeg)
        return jpeg, note

    with ThreadPoolExecutor(PHOTO_THREADS) as pool:
        return dict(zip(keys, pool.map(one, keys), strict=True))


class _Painter:
    def __init__(self, c: rl_canvas.Canvas, meeting_title: str, cards: list[Card], options: Options):
        self.c, self.title, self.options = c, _clean(meeting_title), options
        self.bold = _Fonts({self.title, *(card.name for card in cards), *map(_role_label, {c.role for c in cards})},
                           bold=True)
        self.regular = _Fonts({s for card in cards for s in (card.unit, card.group, card.title)}, bold=False)
        self.notes: list[dict] = []
        # Photos go to reportlab as files: given bytes, it decodes each JPEG again only to name it by
        # a digest of its pixels; given a path, it names it by the path and copies the JPEG through.
        self.folder = tempfile.TemporaryDirectory(prefix="huiyi-badges-")
        self.photos: dict[str, tuple[str | None, str | None]] = {}
        for index, (key, (jpeg, note)) in enumerate(_load_photos(cards, SIZES[options.size].photo_px).items()):
            path = None
            if jpeg is not None:
                path = os.path.join(self.folder.name, f"{index}.jpg")
                with open(path, "wb") as f:
                    f.write(jpeg)
            self.photos[key] = (path, note)

    def close(self) -> None:
        self.folder.cleanup()

    def photo(self, card: Card) -> str | None:
        if not card.photo:
            return None
        path, note = self.photos[card.photo]
        if note:
            self.notes.append({"contact_id": card.contact_id, "name": card.name, "code": note,
                               "message": PHOTO_NOTES[note]})
        return path

    def card(self, card: Card, x: float, y: float, size: Size) -> None:
        c = self.c
        c.saveState()
        c.translate(x, y)
        colour = colors.HexColor(self.options.colour_of(card.role))
        photo = self.photo(card)
        if size.key == "small":
            self._small(card, colour, photo, size.width, size.height)
        else:
            self._large(card, colour, photo, size.width, size.height)
        c.restoreState()

    def _small(self, card: Card, colour, photo, w: float, h: float) -> None:
        c, pad = self.c, 3 * mm
        band = 10 * mm
        _line(c, self.title, self.bold(self.title), pad, h - pad - 8, w - 2 * pad, 9, 6, colour=colour, centred=True)
        c.setStrokeColor(colour)
        c.setLineWidth(0.6)
        c.line(pad, h - 9 * mm, w - pad, h - 9 * mm)
        qr_side = 27 * mm
        _draw_qr(c, card.code, w - pad - qr_side + 2 * mm, band + 2 * mm, qr_side)
        left = pad
        if photo is not None:
            c.drawImage(photo, pad, band + 4 * mm, 18 * mm, 24 * mm)
            left = pad + 20 * mm
        width = w - pad - qr_side + 2 * mm - left - 1 * mm
        _line(c, card.name, self.bold(card.name), left, h - 19 * mm, width, 20, 11)
        bottom = _block(c, card.unit, self.regular(card.unit), left, h - 22 * mm, width, 8.5, 6, 2)
        if card.title:
            _line(c, card.title, self.regular(card.title), left, bottom - 8, width, 7.5, 6, colour=GREY)
        c.setFillColor(colour)
        c.rect(0, 0, w, band, stroke=0, fill=1)
        label = _role_label(card.role)
        used = _line(c, label, self.bold(label), pad, 3.3 * mm, 30 * mm, 15, 9, colour=colors.white)
        role_w = pdfmetrics.stringWidth(label, self.bold(label).name, used) + 4 * mm
        if card.group:
            _line(c, card.group, self.regular(card.group), pad + role_w, 3.6 * mm, w - 2 * pad - role_w, 9, 6,
                  colour=colors.white)

    def _large(self, card: Card, colour, photo, w: float, h: float) -> None:
        c, pad = self.c, 7 * mm
        band_top, band_bottom = 24 * mm, 18 * mm
        c.setFillColor(colour)
        c.rect(0, h - band_top, w, band_top, stroke=0, fill=1)
        c.rect(0, 0, w, band_bottom, stroke=0, fill=1)
        title_font = self.bold(self.title)
        one_line = pdfmetrics.stringWidth(self.title, title_font.name, 15) <= w - 2 * pad
        _block(c, self.title, title_font, pad, h - (8.5 if one_line else 4.5) * mm, w - 2 * pad, 15, 9, 2,
               colour=colors.white, centred=True)
        row_top = h - band_top - 6 * mm
        qr_side = 36 * mm
        if photo is not None:
            c.drawImage(photo, pad + 2 * mm, row_top - 40 * mm, 30 * mm, 40 * mm)
            _draw_qr(c, card.code, w - pad - qr_side + 2 * mm, row_top - qr_side - 2 * mm, qr_side)
        else:
            _draw_qr(c, card.code, (w - qr_side) / 2, row_top - qr_side - 2 * mm, qr_side)
        name_y = row_top - 42 * mm - 14 * mm
        _line(c, card.name, self.bold(card.name), pad, name_y, w - 2 * pad, 34, 16, centred=True)
        bottom = _block(c, card.unit, self.regular(card.unit), pad, name_y - 5 * mm, w - 2 * pad, 12, 8, 2,
                        centred=True)
        if card.title:
            _line(c, card.title, self.regular(card.title), pad, bottom - 12, w - 2 * pad, 10, 7, colour=GREY,
                  centred=True)
        if card.group:
            _line(c, card.group, self.regular(card.group), pad, band_bottom + 4 * mm, w - 2 * pad, 12, 8,
                  colour=colour, centred=True)
        label = _role_label(card.role)
        _line(c, label, self.bold(label), pad, 5.5 * mm, w - 2 * pad, 26, 12, colour=colors.white, centred=True)


def _crop_marks(c: rl_canvas.Canvas, size: Size) -> None:
    left, bottom = size.grid_origin
    right, top = left + size.cols * size.width, bottom + size.rows * size.height
    c.setStrokeColor(MARK)
    c.setLineWidth(0.25)
    for i in range(size.cols + 1):
        x = left + i * size.width
        c.line(x, top + MARK_GAP, x, top + MARK_GAP + MARK_LEN)
        c.line(x, bottom - MARK_GAP, x, bottom - MARK_GAP - MARK_LEN)
    for j in range(size.rows + 1):
        y = bottom + j * size.height
        c.line(left - MARK_GAP, y, left - MARK_GAP - MARK_LEN, y)
        c.line(right + MARK_GAP, y, right + MARK_GAP + MARK_LEN, y)


@dataclass(frozen=True)
class Rendered:
    data: bytes
    pages: int
    notes: list[dict]


def render(meeting_title: str, cards: list[Card], options: Options, *, single: bool = False,
           progress: Callable[[int, int], None] | None = None) -> Rendered:
    """The PDF of ``cards``: A4 sheets with crop marks, or (``single``) one card a page of the card's
    own size (the console's preview)."""
    # reportlab wraps every stream (each photo's JPEG, each page) in ASCII85 by default, in pure
    # Python: for a thousand photos that is most of the print. A PDF carries binary streams as well.
    was, rl_config.useA85 = rl_config.useA85, 0
    try:
        return _render(meeting_title, cards, options, single=single, progress=progress)
    finally:
        rl_config.useA85 = was


def _render(meeting_title: str, cards: list[Card], options: Options, *, single: bool,
            progress: Callable[[int, int], None] | None) -> Rendered:
    size = SIZES[options.size]
    out = io.BytesIO()
    page = (size.width, size.height) if single else size.page
    c = rl_canvas.Canvas(out, pagesize=page, pageCompression=1, invariant=1)
    c.setTitle(f"{_clean(meeting_title)} · 胸卡")
    c.setCreator("会易")
    painter = _Painter(c, meeting_title, cards, options)
    per = 1 if single else size.per_sheet
    pages = 0
    try:
        for start in range(0, len(cards), per):
            for index, card in enumerate(cards[start:start + per]):
                x, y = (0, 0) if single else size.origin(index)
                painter.card(card, x, y, size)
            if not single:
                _crop_marks(c, size)
            c.showPage()
            pages += 1
            if progress is not None:
                progress(min(start + per, len(cards)), len(cards))
        c.save()
    finally:
        painter.close()
    return Rendered(out.getvalue(), pages, painter.notes)


# -- printing -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Printed:
    data: bytes
    filename: str
    count: int
    pages: int
    notes: list[dict]
    printed: dict[str, str]


def filename(meeting: Meeting, options: Options, now: datetime) -> str:
    title = "".join(ch for ch in _clean(meeting.title) if ch not in '\\/:*?"<>|').strip() or meeting.code
    kind = "胸卡" if options.size == "small" else "代表证"
    return f"{title}-{kind}-{local(now):%Y-%m-%d}.pdf"


def print_badges(meeting: Meeting, options: Options, *, actor: str, now: datetime | None = None,
                 progress: Callable[[int, int], None] | None = None) -> Printed:
    """The badges PDF of the people ``options`` selects, recorded in the audit log (``badges.print``).

    :raise BadgeError: ``person_not_listed``, ``badges_empty``.
    """
    now = now or datetime.now(UTC)
    cards = cards_of(meeting, options)
    if not cards:
        raise BadgeError("badges_empty")
    rendered = render(meeting.title, cards, options, progress=progress)
    name = filename(meeting, options, now)
    audit.record(actor, "badges.print", meeting_id=meeting.id, target=f"meeting:{meeting.id}", size=options.size,
                 role=options.role, group=options.group, chosen=len(options.people), changed=options.changed,
                 count=len(cards), pages=rendered.pages, photos_skipped=len(rendered.notes), file=name,
                 job=jobs.current_job_id())
    return Printed(rendered.data, name, len(cards), rendered.pages, rendered.notes,
                   {str(c.contact_id): c.fingerprint for c in cards})


def submit_print(meeting: Meeting, options: Options, *, actor: str, job_actor: str) -> int:
    """Ask for a print as a job (the console): returns the job id."""
    return jobs.submit(JOB_KIND, print_job, meeting.id, options.to_json(), actor, actor=job_actor,
                       meeting_id=meeting.id)


def print_job(meeting_id: int, options: dict, actor: str) -> dict:
    """The job behind the console's print: the PDF into storage, and what the page and the next
    "only the changed" print need (the fingerprints of the cards printed)."""
    meeting = db.session.get(Meeting, meeting_id)
    if meeting is None:  # deleted while the job waited
        raise MeetingError("meeting_not_found", code=str(meeting_id))
    opts = parse_options(**options)
    jobs.report_progress(0, None, "正在读取参会名单和照片")

    def progress(done: int, total: int) -> None:
        jobs.report_progress(done, total, f"正在生成胸卡（{total} 张）")

    printed = print_badges(meeting, opts, actor=actor, progress=progress)
    sha = storage.put(printed.data)
    jobs.report_progress(printed.count, printed.count, "已生成")
    return {"sha": sha, "filename": printed.filename, "content_type": "application/pdf", "count": printed.count,
            "pages": printed.pages, "notes": printed.notes, "printed": printed.printed}


# -- the console's preview ------------------------------------------------------------------------------
#: The preview's QR: a code's length and alphabet (so it looks as the real one will) but no signature:
#: a preview shown to a viewer must not hand out anyone's door code.
PREVIEW_CODE = ("HYPREVIEW" * 20)[:CODE_LEN]
SAMPLE = Card(0, "张三", "示例单位办公室", "代表", "第一代表团", "主任", None, PREVIEW_CODE)


def preview_png(meeting: Meeting, options: Options, *, scale: float = 3.0) -> bytes:
    """The first selected person's card as a PNG (a sample card when nobody is selected), from the
    same drawing as the print; its QR is a placeholder, never the person's code."""
    try:
        cards = cards_of(meeting, Options(size=options.size, role=options.role, group=options.group,
                                          people=options.people))
    except BadgeError:
        cards = []
    first = cards[0] if cards else SAMPLE
    first = Card(first.contact_id, first.name, first.unit, first.role, first.group, first.title, first.photo,
                 PREVIEW_CODE)
    rendered = render(meeting.title, [first], options, single=True)
    return pdf_page_png(rendered.data, scale=scale)


def pdf_page_png(data: bytes, *, page: int = 0, scale: float = 2.0) -> bytes:
    doc = pdfium.PdfDocument(data)
    try:
        image = doc[page].render(scale=scale).to_pil()
    finally:
        doc.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
