"""Lodging (住宿): a meeting's hotels, room types and rooms; who sleeps where, by one-click allocation
(:mod:`app.services.logistics.allocate`) or by hand; publishing it; what the service card shows.

Every write to a room's occupants first locks the room's row (``SELECT … FOR UPDATE``) and reads
who is in it after the lock, so two organizers putting two people in the last bed take turns and
the second is refused (``room_full``). An allocation locks the meeting's ``lodging_states`` row and
then every room of the meeting (in id order, as a hand assignment locks its one room), so it never
interleaves with a hand change.

Once the allocation is published, a person whose room changes is told: a 会议通知 to that one person
(app/services/notify/notices.py), sent by WeChat template message with SMS when WeChat cannot reach
them, recorded per channel like every notice. Its actor is the console user making the change; the
command line, which has none, may not change a published allocation.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.services import audit
from app.services.errors import DomainError
from app.services.logistics.allocate import Guest, Pinned, RoomSpec, Unplaced, allocate, number_key
from app.services.logistics.people import ROLE_ORDER, Person, roster
from app.services.logistics.placing import clean_int, clean_phone, clean_text, flag
from app.services.meetings.lifecycle import require_editable
from app.services.notify import notices
from models import Contact, Hotel, InviteeRole, LodgingState, Meeting, Room, RoomAssignment, RoomType

#: Rooms a meeting may have (a congress of 2,000 in doubles needs 1,000).
MAX_ROOMS = 5000
#: Rooms added by one number range.
MAX_RANGE = 200
MAX_BEDS = 8
FLOOR_RANGE = (-5, 200)
_NUMBER = re.compile(r"[A-Za-z0-9]{1,16}")
_RANGE = re.compile(r"(\d{1,6})\s*[-~－～至到]\s*(\d{1,6})")
ROLES = tuple(role.value for role in InviteeRole)


class LodgingError(DomainError):
    messages = {
        "hotel_not_found": "找不到该酒店",
        "type_not_found": "找不到该房型",
        "room_not_found": "找不到该房间",
        "person_not_invited": "该人员不在本次会议的参会名单中",
        "hotel_exists": "已有名为“{name}”的酒店",
        "type_exists": "该酒店已有房型“{name}”",
        "room_exists": "{hotel}已有房间 {number}",
        "number_invalid": "房号只能由字母和数字组成（最多 16 位），或写成范围，如 1201-1220",
        "range_too_long": "一次最多添加 {limit} 个房间",
        "too_many_rooms": "每次会议最多 {limit} 个房间",
        "beds_invalid": "床位数应为 1 到 {limit} 的整数",
        "floor_invalid": "楼层应为 -5 到 200 的整数",
        "gender_invalid": "性别限制只能是“男”“女”或不限",
        "role_invalid": "适用身份无效：{role}",
        "hotel_in_use": "“{name}”还有已安排入住的人员，请先调整这些人员的住宿",
        "type_in_use": "房型“{name}”下还有房间，请先删除这些房间",
        "room_in_use": "房间 {number} 已有人入住，请先调整这些人员的住宿",
        "room_full": "房间 {number} 已满（{beds} 床）",
        "room_gender": "房间 {number} 仅限{gender}士入住",
        "gender_mixed": "房间 {number} 已有{other}士入住，同一房间不能男女混住",
        "gender_unknown_shared": "{name}未填写性别，只能单独入住，房间 {number} 已有人入住",
        "room_alone": "房间 {number} 住有一位未填写性别的人员，不能再安排他人同住",
        "room_role": "房间 {number} 的房型“{type}”不对“{role}”开放",
        "room_not_accessible": "{name}需要无障碍房间，房间 {number} 不是无障碍房间",
        "not_assigned": "{name}尚未安排住宿",
        "assign_conflict": "该人员的住宿刚被其他人修改，请刷新后重试",
        "no_rooms": "还没有房间，请先添加酒店、房型和房间",
        "nobody": "没有需要安排住宿的人员（报名时选择需要住宿、且已通过审核的人员）",
        "published_no_actor": "住宿安排已发布，发布后的调整需通知本人，请在会务后台操作",
        "already_published": "住宿安排已发布",
        "not_published": "住宿安排尚未发布",
        "nobody_assigned": "还没有人安排了房间，请先分配",
    }
    statuses = {"hotel_not_found": 404, "type_not_found": 404, "room_not_found": 404, "person_not_invited": 404,
                "hotel_exists": 409, "type_exists": 409, "room_exists": 409, "hotel_in_use": 409, "type_in_use": 409,
                "room_in_use": 409, "room_full": 409, "gender_mixed": 409, "gender_unknown_shared": 409,
                "room_alone": 409, "assign_conflict": 409, "already_published": 409}


# -- reading ---------------------------------------------------------------------------------------

def _id(value: object) -> int | None:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 12 else None


def get_hotel(meeting: Meeting, hotel_id: object) -> Hotel:
    hotel = db.session.get(Hotel, _id(hotel_id) or 0)
    if hotel is None or hotel.meeting_id != meeting.id:
        raise LodgingError("hotel_not_found")
    return hotel


def get_type(meeting: Meeting, type_id: object) -> RoomType:
    room_type = db.session.get(RoomType, _id(type_id) or 0)
    if room_type is None or db.session.get(Hotel, room_type.hotel_id).meeting_id != meeting.id:
        raise LodgingError("type_not_found")
    return room_type


def get_room(meeting: Meeting, room_id: object, *, lock: bool = False) -> Room:
    query = select(Room).where(Room.id == (_id(room_id) or 0), Room.meeting_id == meeting.id)
    room = db.session.scalar(query.with_for_update() if lock else query)
    if room is None:
        raise LodgingError("room_not_found")
    return room


def state_of(meeting_id: int) -> LodgingState | None:
    return db.session.get(LodgingState, meeting_id)


def is_published(meeting_id: int) -> bool:
    state = state_of(meeting_id)
    return bool(state and state.published_at)


def hotels_of(meeting: Meeting) -> list[Hotel]:
    return list(db.session.scalars(select(Hotel).where(Hotel.meeting_id == meeting.id).order_by(Hotel.id)))


def needing_rooms(people: list[Person], assigned: set[int]) -> list[Person]:
    """Who lodging is for: those whose registration asks for a room, and anyone given one anyway."""
    return [p for p in people if p.needs_room or p.contact_id in assigned]


def delegation_of(person: Person) -> str:
    return f"group:{person.group}" if person.group else f"unit:{person.unit_id}"


def guest_of(person: Person) -> Guest:
    return Guest(contact_id=person.contact_id, gender=person.gender if person.gender in ("男", "女") else None,
                 group=delegation_of(person), rank=person.rank, role_order=ROLE_ORDER.get(person.role, len(ROLE_ORDER)),
                 role=person.role, arrival=person.arrival, accessible=person.accessible)


def room_specs(meeting_id: int) -> list[RoomSpec]:
    rows = db.session.execute(
        select(Room.id, Room.hotel_id, RoomType.beds, Room.number, Room.floor, Room.gender, Room.accessible,
               RoomType.roles)
        .join(RoomType, RoomType.id == Room.type_id).where(Room.meeting_id == meeting_id)).all()
    return [RoomSpec(room_id=rid, hotel_id=hid, capacity=beds, number=number, floor=floor, gender=gender,
                     accessible=accessible, roles=tuple(sorted(roles or ())), hotel_order=hid)
            for rid, hid, beds, number, floor, gender, accessible, roles in rows]


def assignments_of(meeting_id: int) -> list[RoomAssignment]:
    return list(db.session.scalars(select(RoomAssignment).where(RoomAssignment.meeting_id == meeting_id)))


# -- hotels, types, rooms --------------------------------------------------------------------------

def save_hotel(meeting: Meeting, form: dict, *, actor: str, hotel: Hotel | None = None) -> Hotel:
    require_editable(meeting)
    name = clean_text(form.get("name"), "酒店名称", 64, required=True)
    address = clean_text(form.get("address"), "地址", 200)
    phone = clean_phone(form.get("phone"), "联系电话")
    clash = db.session.scalar(select(Hotel.id).where(Hotel.meeting_id == meeting.id, Hotel.name == name))
    if clash is not None and (hotel is None or clash != hotel.id):
        raise LodgingError("hotel_exists", name=name)
    if hotel is None:
        hotel = Hotel(meeting_id=meeting.id)
        db.session.add(hotel)
    hotel.name, hotel.address, hotel.phone = name, address, phone
    db.session.flush()
    audit.record(actor, "lodging.hotel", meeting_id=meeting.id, target=f"hotel:{hotel.id}", name=name)
    return hotel


def delete_hotel(meeting: Meeting, hotel: Hotel, *, actor: str) -> None:
    require_editable(meeting)
    used = db.session.scalar(select(func.count()).select_from(RoomAssignment).join(Room, Room.id == RoomAssignment.room_id)
                             .where(Room.hotel_id == hotel.id))
    if used:
        raise LodgingError("hotel_in_use", name=hotel.name)
    db.session.execute(delete(Room).where(Room.hotel_id == hotel.id))
    db.session.execute(delete(RoomType).where(RoomType.hotel_id == hotel.id))
    db.session.delete(hotel)
    db.session.flush()
    audit.record(actor, "lodging.hotel_delete", meeting_id=meeting.id, target=f"hotel:{hotel.id}", name=hotel.name)


def clean_roles(values) -> list[str]:
    out = []
    for value in values or ():
        role = clean_text(value, "适用身份", 16)
        if role and role not in ROLES:
            raise LodgingError("role_invalid", role=role)
        if role and role not in out:
            out.append(role)
    return sorted(out, key=ROLES.index)


def add_type(meeting: Meeting, hotel: Hotel, form: dict, *, actor: str, roles=()) -> RoomType:
    require_editable(meeting)
    name = clean_text(form.get("name"), "房型名称", 32, required=True)
    beds = clean_beds(form.get("beds"))
    price = clean_text(form.get("price"), "价格", 32)
    roles = clean_roles(roles)
    if db.session.scalar(select(RoomType.id).where(RoomType.hotel_id == hotel.id, RoomType.name == name)):
        raise LodgingError("type_exists", name=name)
    room_type = RoomType(hotel_id=hotel.id, name=name, beds=beds, price=price, roles=roles)
    db.session.add(room_type)
    db.session.flush()
    audit.record(actor, "lodging.type", meeting_id=meeting.id, target=f"room_type:{room_type.id}", name=name,
                 beds=beds)
    return room_type


def clean_beds(value: object) -> int:
    try:
        return clean_int(value, "beds_invalid", MAX_BEDS)
    except DomainError:
        raise LodgingError("beds_invalid", limit=MAX_BEDS) from None


def delete_type(meeting: Meeting, room_type: RoomType, *, actor: str) -> None:
    require_editable(meeting)
    if db.session.scalar(select(func.count()).select_from(Room).where(Room.type_id == room_type.id)):
        raise LodgingError("type_in_use", name=room_type.name)
    db.session.delete(room_type)
    db.session.flush()
    audit.record(actor, "lodging.type_delete", meeting_id=meeting.id, target=f"room_type:{room_type.id}")


def clean_floor(value: object) -> int | None:
    text = clean_text(value, "楼层", 8)
    if not text:
        return None
    if not re.fullmatch(r"-?\d{1,3}", text) or not FLOOR_RANGE[0] <= int(text) <= FLOOR_RANGE[1]:
        raise LodgingError("floor_invalid")
    return int(text)


def clean_gender(value: object) -> str | None:
    text = clean_text(value, "性别限制", 8)
    if text in ("", "不限", "无", "-"):
        return None
    text = {"男性": "男", "女性": "女", "男士": "男", "女士": "女"}.get(text, text)
    if text not in ("男", "女"):
        raise LodgingError("gender_invalid")
    return text


def room_numbers(value: object) -> list[str]:
    """'1208' -> ['1208']; '1201-1205' -> ['1201', …, '1205'] (the width of the first kept)."""
    text = clean_text(value, "房号", 40, required=True)
    if m := _RANGE.fullmatch(text):
        first, last = int(m.group(1)), int(m.group(2))
        if last < first:
            raise LodgingError("number_invalid")
        if last - first + 1 > MAX_RANGE:
            raise LodgingError("range_too_long", limit=MAX_RANGE)
        width = len(m.group(1))
        return [str(n).zfill(width) for n in range(first, last + 1)]
    if not _NUMBER.fullmatch(text):
        raise LodgingError("number_invalid")
    return [text]


def guess_floor(number: str) -> int | None:
    """'1208' is on floor 12, '305' on 3: hotels number rooms so (a number under 100 says nothing)."""
    return int(number[:-2]) if number.isdigit() and len(number) >= 3 and int(number[:-2]) <= FLOOR_RANGE[1] else None


def add_rooms(meeting: Meeting, hotel: Hotel, form: dict, *, actor: str) -> list[Room]:
    """One room or a range of numbers (1201-1220) of one type."""
    require_editable(meeting)
    room_type = get_type(meeting, form.get("type_id"))
    if room_type.hotel_id != hotel.id:
        raise LodgingError("type_not_found")
    numbers = room_numbers(form.get("number"))
    floor = clean_floor(form.get("floor"))
    gender = clean_gender(form.get("gender"))
    accessible = flag(form.get("accessible"))
    existing = set(db.session.scalars(select(Room.number).where(Room.hotel_id == hotel.id, Room.number.in_(numbers))))
    if existing:
        raise LodgingError("room_exists", hotel=hotel.name, number=min(existing, key=number_key))
    count = db.session.scalar(select(func.count()).select_from(Room).where(Room.meeting_id == meeting.id)) or 0
    if count + len(numbers) > MAX_ROOMS:
        raise LodgingError("too_many_rooms", limit=MAX_ROOMS)
    rooms = [Room(meeting_id=meeting.id, hotel_id=hotel.id, type_id=room_type.id, number=n,
                  floor=floor if floor is not None else guess_floor(n), gender=gender, accessible=accessible)
             for n in numbers]
    db.session.add_all(rooms)
    db.session.flush()
    audit.record(actor, "lodging.rooms", meeting_id=meeting.id, target=f"hotel:{hotel.id}", numbers=numbers[:MAX_RANGE],
                 type=room_type.name)
    return rooms


def delete_room(meeting: Meeting, room: Room, *, actor: str) -> None:
    require_editable(meeting)
    room = get_room(meeting, room.id, lock=True)
    if db.session.scalar(select(func.count()).select_from(RoomAssignment).where(RoomAssignment.room_id == room.id)):
        raise LodgingError("room_in_use", number=room.number)
    db.session.delete(room)
    db.session.flush()
    audit.record(actor, "lodging.room_delete", meeting_id=meeting.id, target=f"room:{room.id}", number=room.number)


# -- who sleeps where ------------------------------------------------------------------------------

def _lock_state(meeting: Meeting) -> LodgingState:
    """The meeting's lodging row, locked: allocations and publication take turns on it."""
    state = db.session.scalar(select(LodgingState).where(LodgingState.meeting_id == meeting.id).with_for_update())
    if state is not None:
        return state
    try:
        with db.session.begin_nested():
            db.session.add(LodgingState(meeting_id=meeting.id))
    except IntegrityError:
        pass  # another transaction made it: lock theirs
    return db.session.scalar(select(LodgingState).where(LodgingState.meeting_id == meeting.id).with_for_update())


def _room_label(room: Room) -> str:
    hotel = db.session.get(Hotel, room.hotel_id)
    return f"{hotel.name} {room.number} 房间"


def check_fits(room: Room, room_type: RoomType, person: Person, occupants: list[Person | None]) -> None:
    """The rules a hand assignment keeps (the allocation keeps the same ones).

    ``occupants``: who else is in the room (None for someone no longer on the list: their gender
    is not known here, so they count as unknown)."""
    number = room.number
    if len(occupants) >= room_type.beds:
        raise LodgingError("room_full", number=number, beds=room_type.beds)
    if room_type.roles and person.role not in room_type.roles:
        raise LodgingError("room_role", number=number, type=room_type.name, role=person.role)
    if person.accessible and not room.accessible:
        raise LodgingError("room_not_accessible", name=person.name, number=number)
    gender = person.gender if person.gender in ("男", "女") else None
    if room.gender and gender != room.gender:
        raise LodgingError("room_gender", number=number, gender=room.gender)
    if gender is None and occupants:
        raise LodgingError("gender_unknown_shared", name=person.name, number=number)
    for other in occupants:
        other_gender = other.gender if other and other.gender in ("男", "女") else None
        if other_gender is None:
            raise LodgingError("room_alone", number=number)
        if other_gender != gender:
            raise LodgingError("gender_mixed", number=number, other=other_gender)


def _person(people: list[Person], contact_id: object) -> Person:
    cid = _id(contact_id)
    for person in people:
        if person.contact_id == cid:
            return person
    raise LodgingError("person_not_invited")


def assign(meeting: Meeting, contact_id: object, room_id: object, *, actor: str, acting: Contact | None,
           now: datetime | None = None) -> str:
    """Put a person in a room by hand (a move when they have one): every rule checked under the
    room's lock; the assignment is pinned (one-click allocation leaves it). Returns the message.

    :raise LodgingError: ``person_not_invited``, ``room_not_found``, ``room_full``, ``room_role``,
        ``room_not_accessible``, ``room_gender``, ``gender_unknown_shared``, ``room_alone``,
        ``gender_mixed``, ``assign_conflict``, ``published_no_actor``."""
    require_editable(meeting)
    now = now or datetime.now(UTC)
    people = roster(meeting.id)
    person = _person(people, contact_id)
    published = _published_for_change(meeting, acting)
    room = get_room(meeting, room_id, lock=True)
    current = db.session.scalar(select(RoomAssignment).where(
        RoomAssignment.meeting_id == meeting.id, RoomAssignment.contact_id == person.contact_id).with_for_update())
    if current is not None and current.room_id == room.id:
        current.pinned = True
        return f"{person.name}已在{_room_label(room)}"
    by_id = {p.contact_id: p for p in people}
    occupant_ids = db.session.scalars(select(RoomAssignment.contact_id).where(RoomAssignment.room_id == room.id))
    check_fits(room, db.session.get(RoomType, room.type_id), person, [by_id.get(cid) for cid in occupant_ids])
    before = current.room_id if current is not None else None
    try:
        with db.session.begin_nested():
            if current is None:
                db.session.add(RoomAssignment(meeting_id=meeting.id, room_id=room.id, contact_id=person.contact_id,
                                              pinned=True, assigned_by=actor[:96]))
            else:
                current.room_id, current.pinned, current.assigned_by = room.id, True, actor[:96]
    except IntegrityError:
        raise LodgingError("assign_conflict") from None
    audit.record(actor, "lodging.assign", meeting_id=meeting.id, target=f"contact:{person.contact_id}",
                 room=room.id, before=before)
    label = _room_label(room)
    if published:
        hotel = db.session.get(Hotel, room.hotel_id)
        where = f"{hotel.name} {room.number} 房间" + (f"（地址：{hotel.address}）" if hotel.address else "")
        _tell(meeting, [person.contact_id], acting, now, "住宿安排变更",
              f"您的住宿已{'调整' if before else '安排'}为：{where}。如有疑问请联系会务组。")
    return f"已将{person.name}{'调整' if before else '安排'}到{label}" + ("，并已通知本人" if published else "")


def unassign(meeting: Meeting, contact_id: object, *, actor: str, acting: Contact | None,
             now: datetime | None = None) -> str:
    """:raise LodgingError: ``person_not_invited``, ``not_assigned``, ``published_no_actor``."""
    require_editable(meeting)
    now = now or datetime.now(UTC)
    person = _person(roster(meeting.id), contact_id)
    published = _published_for_change(meeting, acting)
    current = db.session.scalar(select(RoomAssignment).where(
        RoomAssignment.meeting_id == meeting.id, RoomAssignment.contact_id == person.contact_id).with_for_update())
    if current is None:
        raise LodgingError("not_assigned", name=person.name)
    room = get_room(meeting, current.room_id, lock=True)
    db.session.delete(current)
    db.session.flush()
    audit.record(actor, "lodging.unassign", meeting_id=meeting.id, target=f"contact:{person.contact_id}", room=room.id)
    if published:
        _tell(meeting, [person.contact_id], acting, now, "住宿安排变更",
              f"您原安排的{_room_label(room)}已取消，会务组将另行通知；如有疑问请联系会务组。")
    return f"已取消{person.name}的住宿安排" + ("，并已通知本人" if published else "")


def _published_for_change(meeting: Meeting, acting: Contact | None) -> bool:
    published = is_published(meeting.id)
    if published and acting is None:
        raise LodgingError("published_no_actor")
    return published


def _tell(meeting: Meeting, contact_ids: list[int], acting: Contact, now: datetime, title: str, body: str) -> int:
    """A notice to these people (not asking a reply; SMS where WeChat cannot reach them), sent after
    the commit. Someone no longer expected (on leave) is not told; returns how many are."""
    notice = notices.create(meeting, title=title, body=body, audience={"people": contact_ids}, actor=acting,
                            ask_reply=False, sms_fallback=True)
    try:
        return notices.send(notice, meeting, actor=acting, now=now)
    except notices.NoticeError as exc:
        if exc.code != "nobody":
            raise
        db.session.delete(notice)
        db.session.flush()
        return 0


@dataclass
class AllocationRun:
    placed: int
    kept: int
    unplaced: list[dict] = field(default_factory=list)
    notified: int = 0

    def as_json(self) -> dict:
        return {"placed": self.placed, "kept": self.kept, "unplaced": self.unplaced, "notified": self.notified}

    def message(self) -> str:
        text = f"已分配 {self.placed} 人，保留手工安排 {self.kept} 人"
        if self.unplaced:
            text += f"；{len(self.unplaced)} 人未能分配，原因见“未安排住宿的人员”"
        return text + (f"；已通知新安排的 {self.notified} 人" if self.notified else "")


def run_allocation(meeting: Meeting, *, actor: str, acting: Contact | None, now: datetime | None = None) -> AllocationRun:
    """One-click allocation. Before publication, every assignment not made by hand is redone;
    after it, everyone keeps their room (changing it would need telling them) and only those
    without one are placed (and told).

    :raise LodgingError: ``no_rooms``, ``nobody``, ``published_no_actor``."""
    require_editable(meeting)
    now = now or datetime.now(UTC)
    state = _lock_state(meeting)
    published = state.published_at is not None
    if published and acting is None:
        raise LodgingError("published_no_actor")
    # Every room of the meeting, locked in id order: no hand assignment slips in between.
    locked = list(db.session.scalars(select(Room.id).where(Room.meeting_id == meeting.id).order_by(Room.id)
                                     .with_for_update()))
    if not locked:
        raise LodgingError("no_rooms")
    current = assignments_of(meeting.id)
    if not published:
        redo = [a.id for a in current if not a.pinned]
        if redo:
            db.session.execute(delete(RoomAssignment).where(RoomAssignment.id.in_(redo)))
        current = [a for a in current if a.pinned]
    people = roster(meeting.id)
    by_id = {p.contact_id: p for p in people}
    kept_ids = {a.contact_id for a in current}
    wanted = needing_rooms(people, set())
    if not wanted and not kept_ids:
        raise LodgingError("nobody")
    pinned = [Pinned(a.contact_id, a.room_id, guest_of(by_id[a.contact_id]).gender if a.contact_id in by_id else None)
              for a in current]
    result = allocate([guest_of(p) for p in wanted if p.contact_id not in kept_ids], room_specs(meeting.id), pinned)
    if result.placed:
        db.session.execute(insert(RoomAssignment), [
            {"meeting_id": meeting.id, "room_id": p.room_id, "contact_id": p.contact_id, "pinned": False,
             "assigned_by": actor[:96], "created_at": now} for p in result.placed])
    state.allocated_at = now
    run = AllocationRun(placed=len(result.placed), kept=len(current),
                        unplaced=[_unplaced_row(u, by_id) for u in result.unplaced])
    audit.record(actor, "lodging.allocate", meeting_id=meeting.id, target=f"meeting:{meeting.id}", placed=run.placed,
                 kept=run.kept, unplaced=len(run.unplaced))
    if published and result.placed:
        run.notified = _tell(meeting, [p.contact_id for p in result.placed], acting, now, "住宿安排",
                             "会务组已为您安排住宿，酒店和房间见会议服务卡。如有疑问请联系会务组。")
    db.session.flush()
    return run


def _unplaced_row(u: Unplaced, by_id: dict[int, Person]) -> dict:
    person = by_id.get(u.contact_id)
    return {"contact_id": u.contact_id, "name": person.name if person else "", "unit": person.unit_name if person else "",
            "code": u.code, "message": u.message}


def publish(meeting: Meeting, *, actor: str, acting: Contact | None, now: datetime | None = None) -> int:
    """Publish the allocation: people see their room on the service card, and from now on any
    change to it is sent to them. Everyone with a room is told once. Returns how many.

    :raise LodgingError: ``already_published``, ``nobody_assigned``, ``published_no_actor``."""
    require_editable(meeting)
    now = now or datetime.now(UTC)
    if acting is None:
        raise LodgingError("published_no_actor")
    state = _lock_state(meeting)
    if state.published_at is not None:
        raise LodgingError("already_published")
    assigned = sorted(a.contact_id for a in assignments_of(meeting.id))
    if not assigned:
        raise LodgingError("nobody_assigned")
    state.published_at, state.published_by = now, actor[:96]
    audit.record(actor, "lodging.publish", meeting_id=meeting.id, target=f"meeting:{meeting.id}", people=len(assigned))
    return _tell(meeting, assigned, acting, now, "住宿安排",
                 "您的住宿已安排好，酒店和房间见会议服务卡。如有疑问请联系会务组。")


def unpublish(meeting: Meeting, *, actor: str) -> None:
    """Take the publication back (people stop seeing rooms; later changes are not sent)."""
    require_editable(meeting)
    state = _lock_state(meeting)
    if state.published_at is None:
        raise LodgingError("not_published")
    state.published_at = None
    audit.record(actor, "lodging.unpublish", meeting_id=meeting.id, target=f"meeting:{meeting.id}")


# -- what the service card and the door show --------------------------------------------------------

def card_fields(meeting_id: int, contact_ids: Collection[int] | None = None) -> dict[int, dict[str, str]]:
    """contact id -> {"hotel_name", "hotel_room"} for everyone with a room (or only ``contact_ids``),
    once the allocation is published (a draft allocation is the organizers' only). Two queries."""
    if not is_published(meeting_id):
        return {}
    stmt = (select(RoomAssignment.contact_id, Hotel.name, Room.number)
            .join(Room, Room.id == RoomAssignment.room_id).join(Hotel, Hotel.id == Room.hotel_id)
            .where(RoomAssignment.meeting_id == meeting_id))
    if contact_ids is not None:
        stmt = stmt.where(RoomAssignment.contact_id.in_(list(contact_ids)))
    rows = db.session.execute(stmt).all()
    return {cid: {"hotel_name": hotel, "hotel_room": number} for cid, hotel, number in rows}


# -- the console's page ----------------------------------------------------------------------------

#: People listed with a pick-a-room select each (the rest are adjusted through the general form).
PICK_LIMIT = 50


@dataclass
class RoomRow:
    room: Room
    type: RoomType
    occupants: list[Person | None]
    #: contact ids of ``occupants`` (a person no longer on the list is None there).
    occupant_ids: list[int]

    @property
    def free(self) -> int:
        return max(0, self.type.beds - len(self.occupants))


@dataclass
class HotelView:
    hotel: Hotel
    types: list[RoomType]
    rooms: list[RoomRow]

    @property
    def beds(self) -> int:
        return sum(r.type.beds for r in self.rooms)

    @property
    def taken(self) -> int:
        return sum(len(r.occupants) for r in self.rooms)


@dataclass
class Overview:
    hotels: list[HotelView]
    people: list[Person]
    #: contact id -> the room's label, for everyone with a room
    rooms_of: dict[int, str]
    #: {person, code, message, fits: [(room id, label)]} for those needing a room without one
    unplaced: list[dict]
    published_at: datetime | None
    allocated_at: datetime | None

    @property
    def open_rooms(self) -> list[tuple[int, str]]:
        return [(r.room.id, _option(h.hotel, r)) for h in self.hotels for r in h.rooms if r.free]


def _option(hotel: Hotel, row: RoomRow) -> str:
    gender = row.room.gender or next((p.gender for p in row.occupants if p and p.gender in ("男", "女")), None)
    return (f"{hotel.name} {row.room.number}（{row.type.name}，空 {row.free} 床" + (f"，{gender}" if gender else "")
            + ("，无障碍" if row.room.accessible else "") + "）")


def fits(row: RoomRow, person: Person) -> bool:
    try:
        check_fits(row.room, row.type, person, row.occupants)
    except LodgingError:
        return False
    return True


def overview(meeting: Meeting) -> Overview:
    """Hotels with their types and rooms and who is in each; who still needs a room and why."""
    hotels = hotels_of(meeting)
    types = list(db.session.scalars(select(RoomType).join(Hotel, Hotel.id == RoomType.hotel_id)
                                    .where(Hotel.meeting_id == meeting.id).order_by(RoomType.id)))
    rooms = list(db.session.scalars(select(Room).where(Room.meeting_id == meeting.id)))
    rooms.sort(key=lambda r: (r.hotel_id, r.floor if r.floor is not None else 10**6, number_key(r.number), r.id))
    current = assignments_of(meeting.id)
    people = roster(meeting.id)
    by_id = {p.contact_id: p for p in people}
    type_by_id = {t.id: t for t in types}
    rows: dict[int, RoomRow] = {r.id: RoomRow(r, type_by_id[r.type_id], [], []) for r in rooms}
    for a in sorted(current, key=lambda a: a.id):
        row = rows[a.room_id]
        row.occupants.append(by_id.get(a.contact_id))
        row.occupant_ids.append(a.contact_id)
    views = [HotelView(h, [t for t in types if t.hotel_id == h.id], [rows[r.id] for r in rooms if r.hotel_id == h.id])
             for h in hotels]
    hotel_by_id = {h.id: h for h in hotels}
    rooms_of = {a.contact_id: f"{hotel_by_id[rows[a.room_id].room.hotel_id].name} {rows[a.room_id].room.number}"
                for a in current}
    waiting = [p for p in needing_rooms(people, set()) if p.contact_id not in rooms_of]
    unplaced = []
    if waiting and rooms:
        dry = allocate([guest_of(p) for p in waiting], room_specs(meeting.id),
                       [Pinned(a.contact_id, a.room_id, guest_of(by_id[a.contact_id]).gender if a.contact_id in by_id
                               else None) for a in current])
        why = {u.contact_id: u for u in dry.unplaced}
        for person in waiting:
            u = why.get(person.contact_id)
            code, message = (u.code, u.message) if u else ("pending", "尚未分配，可点击“一键分配”")
            unplaced.append({"person": person, "code": code, "message": message, "fits": []})
    elif waiting:
        unplaced = [{"person": p, "code": "no_room", "message": "还没有房间", "fits": []} for p in waiting]
    open_rows = [(hotel_by_id[r.room.hotel_id], r) for r in rows.values() if r.free]
    for item in unplaced[:PICK_LIMIT]:
        item["fits"] = [(r.room.id, _option(h, r)) for h, r in open_rows if fits(r, item["person"])]
    state = state_of(meeting.id)
    return Overview(views, needing_rooms(people, set(rooms_of)), rooms_of, unplaced,
                    state.published_at if state else None, state.allocated_at if state else None)
