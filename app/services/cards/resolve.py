"""A person's card: the scopes overlaid field by field, today's agenda and the next item, the
scan reply's headline. Reads only; the clock is always passed in (``now``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from sqlalchemy import select

from app.extensions import db
from app.services.cards import book as books
from app.services.cards.fields import FIELDS, SECTIONS, tel_href
from app.services.timeutil import LOCAL_TZ, local
from models import Invitee, Meeting

SCOPE_LABELS = {"default": "会议地点", "meeting": "全体", "role": "按身份", "group": "按分组", "person": "个人", "list": "参会名单",
                "allocated": "会务安排"}


@dataclass(frozen=True)
class Item:
    """One line of the agenda: ``at`` is None for an item with no time."""

    day: date
    time: str
    title: str
    place: str = ""
    at: datetime | None = None
    speaker: str = ""


@dataclass
class Card:
    fields: dict[str, str] = field(default_factory=dict)
    #: field -> the scope its value came from (SCOPE_LABELS' keys)
    sources: dict[str, str] = field(default_factory=dict)
    day: date | None = None
    #: The agenda of ``day`` (today when the meeting has items today, else its next day with items).
    agenda: list[Item] = field(default_factory=list)
    next_item: Item | None = None
    today: date | None = None
    now: datetime | None = None
    #: The card lists the whole of the meeting's agenda (its rows are the first day's): the page
    #: need not list it again.
    shows_agenda: bool = False
    #: The meeting has an agenda (without one the items are only its sign-in sessions).
    has_agenda: bool = False

    @property
    def empty(self) -> bool:
        """Nothing an organizer set for the card: only the meeting's own venue and sessions, which
        the meeting page shows anyway."""
        return not self.has_agenda and all(source == "default" for source in self.sources.values())

    def sections(self) -> list[tuple[str, list[tuple[str, str, str]]]]:
        """[(section title, [(field key, label, value)])] with only the fields set, for display."""
        out = []
        for title, fields in SECTIONS:
            shown = [(f.key, f.label, self.fields[f.key]) for f in fields if self.fields.get(f.key)]
            if shown:
                out.append((title, shown))
        return out

    def tel(self, key: str) -> str | None:
        value = self.fields.get(key)
        return tel_href(value) if value and FIELDS[key].kind == "phone" else None

    @property
    def day_label(self) -> str:
        if self.day is None:
            return "议程"
        return "今日议程" if self.day == self.today else f"议程（{self.day.month}月{self.day.day}日）"

    def when(self, item: Item) -> str:
        """An item's time as the card says it: "14:30", or "12月4日 14:30" on another day."""
        return _when(item, self.today)


def meeting_items(meeting: Meeting) -> list[Item]:
    """The meeting's items in time order. The agenda's rows carry a time of day but no date: they
    are the first day's. Sessions on later days (a congress's half-days) are items of their own
    days; with no agenda at all, every session is an item."""
    first_day = local(meeting.starts_at).date()
    items: list[Item] = []
    for row in meeting.agenda or []:
        hm = row.get("time") or ""
        at = None
        if hm:
            hours, minutes = (int(x) for x in hm.split(":"))
            at = datetime.combine(first_day, time(hours, minutes), LOCAL_TZ)
        items.append(Item(first_day, hm, row.get("title") or "", row.get("place") or "", at,
                          row.get("speaker") or ""))
    for session in meeting.sessions:
        start = local(session.starts_at)
        if items and start.date() == first_day and any(i.day == first_day for i in items):
            continue  # the first day is the agenda's
        items.append(Item(start.date(), f"{start:%H:%M}", session.title, "", start))
    # Sort by day, then time; untimed rows keep their place after the timed row before them.
    keyed, last = [], ""
    for index, item in enumerate(items):
        last = item.time or last
        keyed.append(((item.day, last, index), item))
    return [item for _key, item in sorted(keyed, key=lambda k: k[0])]


def _place_agenda(card: Card, items: list[Item], now: datetime) -> None:
    today = local(now).date()
    card.today, card.now = today, now
    days = sorted({i.day for i in items})
    if days:
        card.day = today if today in days else next((d for d in days if d > today), days[-1])
        card.agenda = [i for i in items if i.day == card.day]
    card.next_item = next((i for i in items if i.at is not None and i.at > now), None)


def overlay(book: books.Book, meeting: Meeting, *, contact_id: int | None, role: str | None,
            group: str | None, seat: str | None) -> tuple[dict[str, str], dict[str, str]]:
    """The fields of one person, and the scope each came from. The meeting's venue is the default
    any scope overrides. The invitee list's group and seat are the person's own: they beat the
    meeting, role and group scopes and lose only to the person's card."""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}
    if meeting.venue:
        values["venue"], sources["venue"] = meeting.venue, "default"
    layers = book.layers(contact_id, role, group)
    personal = [(k, v) for k, v in (("group", group), ("seat", seat)) if v]
    for scope, fields in layers:
        if scope == "person":
            for k, v in personal:
                values[k], sources[k] = v, "list"
            personal = []
        for key, value in fields.items():
            values[key], sources[key] = value, scope
    for k, v in personal:
        values[k], sources[k] = v, "list"
    return values, sources


def card_for(meeting: Meeting, contact_id: int | None, *, now: datetime) -> Card:
    """The card of ``contact_id`` (None: a visitor not in the directory sees the meeting's card)."""
    invitee = None
    if contact_id is not None:
        invitee = db.session.execute(select(Invitee.role, Invitee.group_name, Invitee.seat, Invitee.status).where(
            Invitee.meeting_id == meeting.id, Invitee.contact_id == contact_id)).first()
    if invitee is not None and invitee.status != "approved":
        invitee = None
    card = Card()
    book = books.load(meeting.id, [contact_id] if contact_id is not None else [])
    card.fields, card.sources = overlay(
        book, meeting, contact_id=contact_id if invitee is not None else None,
        role=invitee.role if invitee else None, group=invitee.group_name if invitee else None,
        seat=invitee.seat if invitee else None)
    if invitee is not None and contact_id is not None:
        for key, value in book.allocated.fields_at(contact_id, now).items():
            card.fields[key], card.sources[key] = value, "allocated"
    _place_agenda(card, meeting_items(meeting), now)
    card.has_agenda = bool(meeting.agenda)
    card.shows_agenda = card.has_agenda and card.day == local(meeting.starts_at).date()
    return card


class DoorCards:
    """The scan path's view of one meeting's cards for one round: the book and the items read
    once, then a headline per scanner with no query. It reads only the four fields a headline
    names, by the same precedence as :func:`overlay` (tested to agree), and answers a meeting with
    no cards and no agenda at once: the door pays for cards only where there are some."""

    HEADLINE_FIELDS = ("seat", "hotel_name", "hotel_room", "meal_name", "meal_place", "meal_table")

    def __init__(self, meeting: Meeting, book: books.Book) -> None:
        self.book = book
        # Without an agenda the items are the sign-in sessions themselves: "下一项" would name what
        # the person is signing in to, so the headline leaves it out.
        self.timed = [i for i in meeting_items(meeting) if i.at is not None] if meeting.agenda else []
        self.blank = not (self.timed or book.allocated or any(k in fields for fields in (book.meeting, *book.roles.values(),
                                                                       *book.groups.values(), *book.people.values())
                                            for k in self.HEADLINE_FIELDS))

    def headline(self, *, contact_id: int, role: str | None, group: str | None, seat: str | None,
                 now: datetime) -> tuple[str, ...]:
        if self.blank and not seat:
            return ()
        book = self.book
        own = book.people.get(contact_id)
        scopes = [s for s in (own, book.groups.get(group) if group else None,
                              book.roles.get(role) if role else None, book.meeting) if s]
        # The most specific scope that sets each field (plain loops: this runs for every scan).
        found: dict[str, str] = {}
        for scope in scopes:
            for key in self.HEADLINE_FIELDS:
                if key not in found and scope.get(key):
                    found[key] = scope[key]
        if seat and not (own and own.get("seat")):
            found["seat"] = seat  # the list's seat: the person's own, beaten only by their card
        if book.allocated:
            for key, value in book.allocated.fields_at(contact_id, now).items():
                if key in self.HEADLINE_FIELDS:
                    found[key] = value  # the allocation beats every scope, as on the card
        after = None
        for item in self.timed:
            if item.at > now:
                after = f"{_when(item, local(now).date())} {item.title}"
                break
        return _parts(found, after)


def _when(item: Item, today: date) -> str:
    if item.day == today:
        return item.time
    return f"{item.day.month}月{item.day.day}日 {item.time}".strip()


def _parts(f: dict[str, str], next_text: str | None) -> tuple[str, ...]:
    parts = []
    if f.get("seat"):
        parts.append(f"座位 {f['seat']}")
    hotel, room = f.get("hotel_name"), f.get("hotel_room")
    if hotel or room:
        parts.append(f"住宿 {hotel + ' ' + room if hotel and room else hotel or room}")
    place, table = f.get("meal_place"), f.get("meal_table")
    if table and table[-1].isdigit():
        table += " 桌"  # "12" alone could be anything; "第 5 桌", "一团 1 桌" say it themselves
    if place or table:
        parts.append(f"{f.get('meal_name') or '用餐'} {place + ' ' + table if place and table else place or table}")
    if next_text:
        parts.append(f"下一项 {next_text}")
    return tuple(parts)


def headline_parts(card: Card) -> tuple[str, ...]:
    """What the scan reply's first line says after the order number: the seat, the room, the meal,
    the next item, only those the person has ("座位 3 排 12 号", "住宿 西湖宾馆 1208", "午餐 2 楼宴会厅",
    "下一项 14:30 分组讨论")."""
    item = card.next_item
    return _parts(card.fields, f"{card.when(item)} {item.title}" if item is not None else None)


def door_cards(meeting: Meeting) -> DoorCards:
    """The door's cards of ``meeting``, built once per change in this process (app/services/cards/book.py)."""
    return books.for_door(meeting, DoorCards)


def card_headline(meeting: Meeting, contact_id: int, *, now: datetime) -> tuple[str, ...]:
    """The headline of one person outside the door's rounds (a first scan that just bound them)."""
    invitee = db.session.execute(select(Invitee.role, Invitee.group_name, Invitee.seat, Invitee.status).where(
        Invitee.meeting_id == meeting.id, Invitee.contact_id == contact_id)).first()
    if invitee is not None and invitee.status != "approved":
        return ()
    return door_cards(meeting).headline(contact_id=contact_id, role=invitee.role if invitee else None,
                                       group=invitee.group_name if invitee else None,
                                       seat=invitee.seat if invitee else None, now=now)
