"""The service card's services: scopes overlaid field by field, the agenda and the next item at an
injected time, the per-person spreadsheet (every bad row reported before anything is written), and
the door's per-process copy."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from app.services import meeting_cache
from app.services.cards import book as books
from app.services.cards import importer, store
from app.services.cards.fields import CardError, tel_href
from app.services.cards.resolve import card_for, door_cards, headline_parts
from app.services.meetings.meetings import get_meeting
from app.services.timeutil import LOCAL_TZ
from models import ServiceCard


def at(hhmm: str, day: int = 23) -> datetime:
    h, m = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, day, h, m, tzinfo=LOCAL_TZ)


def test_the_most_specific_scope_wins_field_by_field(db, cards):
    m = cards.meeting
    store.set_fields(m, "meeting", None, {"meal_name": "午餐", "meal_place": "2 楼宴会厅", "seat": "自由就座",
                                          "duty_phone": "0571-8888 0000", "liaison_name": "会务组"}, actor="t")
    store.set_fields(m, "role", "列席", {"seat": "列席区"}, actor="t")
    store.set_fields(m, "group", "第一代表团", {"meal_place": "3 楼小宴会厅", "liaison_name": "周联络",
                                             "liaison_phone": "13900001234", "seat": "一团区域"}, actor="t")
    store.set_fields(m, "person", cards.wang.id, {"seat": "主席台 1 号", "hotel_room": "1208"}, actor="t")

    zhang = card_for(m, cards.zhang.id, now=at("13:00"))
    assert zhang.fields["seat"] == "A-01" and zhang.sources["seat"] == "list"  # the list's seat beats the group's
    assert zhang.fields["meal_place"] == "3 楼小宴会厅" and zhang.fields["meal_name"] == "午餐"
    assert (zhang.fields["liaison_name"], zhang.sources["liaison_name"]) == ("周联络", "group")
    assert zhang.fields["group"] == "第一代表团" and zhang.fields["venue"] == "区行政中心"
    assert zhang.tel("liaison_phone") == "tel:13900001234" and zhang.tel("duty_phone") == "tel:057188880000"

    li = card_for(m, cards.li.id, now=at("13:00"))
    assert li.fields["seat"] == "一团区域"  # role 列席 < group < the list (li has no seat there)
    wang = card_for(m, cards.wang.id, now=at("13:00"))
    assert (wang.fields["seat"], wang.sources["seat"]) == ("主席台 1 号", "person")
    assert wang.fields["meal_place"] == "2 楼宴会厅" and wang.fields["hotel_room"] == "1208"
    zhao = card_for(m, cards.zhao.id, now=at("13:00"))
    assert zhao.fields["seat"] == "自由就座" and "group" not in zhao.fields

    # A person's card can be cleared field by field: the wider scope shows through again.
    store.set_fields(m, "person", cards.wang.id, {"seat": ""}, actor="t")
    assert card_for(m, cards.wang.id, now=at("13:00")).fields["seat"] == "自由就座"
    store.set_fields(m, "person", cards.wang.id, {"hotel_room": ""}, actor="t")
    assert db.session.scalar(select(func.count()).select_from(ServiceCard).where(
        ServiceCard.scope == "person")) == 0  # an empty scope leaves no row


def test_a_stranger_sees_only_the_meeting_card(db, cards, factory):
    store.set_fields(cards.meeting, "person", cards.zhang.id, {"hotel_room": "1208"}, actor="t")
    outsider = factory.contact(name="外人")
    card = card_for(cards.meeting, outsider.id, now=at("13:00"))
    assert "hotel_room" not in card.fields and "seat" not in card.fields


@pytest.mark.parametrize(("scope", "key", "values", "code"), [
    ("meeting", None, {"seat": "x" * 33}, "field_too_long"),
    ("meeting", None, {"duty_phone": "请拨打值班室"}, "phone_invalid"),
    ("meeting", None, {"map_url": "javascript:alert(1)"}, "url_invalid"),
    ("meeting", None, {"colour": "红"}, "field_unknown"),
    ("group", "第九代表团", {"seat": "x"}, "group_unknown"),
    ("role", "嘉宾", {"seat": "x"}, "role_unknown"),
    ("person", "999999", {"seat": "x"}, "person_not_invited"),
    ("person", "abc", {"seat": "x"}, "person_not_invited"),
    ("planet", None, {"seat": "x"}, "scope_invalid"),
])
def test_bad_input_is_refused_with_a_code_and_writes_nothing(db, cards, scope, key, values, code):
    with pytest.raises(CardError) as err:
        store.set_fields(cards.meeting, scope, key, values, actor="t")
    assert err.value.code == code and err.value.message
    assert db.session.scalar(select(func.count()).select_from(ServiceCard)) == 0


def test_the_agenda_and_the_next_item_follow_the_injected_clock(db, cards):
    m = cards.meeting
    card = card_for(m, cards.zhang.id, now=at("13:00"))
    assert card.day_label == "今日议程"
    assert [i.title for i in card.agenda] == ["全体会议", "分组讨论", "合影", "闭幕"]
    assert card.next_item.title == "分组讨论" and card.when(card.next_item) == "14:30"
    assert card_for(m, cards.zhang.id, now=at("14:30")).next_item.title == "闭幕"  # one starting now is not next
    assert card_for(m, cards.zhang.id, now=at("17:30")).next_item is None
    before = card_for(m, cards.zhang.id, now=at("20:00", day=22))
    assert before.day_label == "议程（11月23日）" and before.when(before.next_item) == "11月23日 12:30"


def test_the_headline_says_only_what_the_person_has(db, cards):
    m = cards.meeting
    store.set_fields(m, "group", "第一代表团", {"meal_name": "午餐", "meal_place": "2 楼宴会厅"}, actor="t")
    door = door_cards(m)
    parts = door.headline(contact_id=cards.zhang.id, role="代表", group="第一代表团", seat="3 排 12 号",
                          now=at("13:00"))
    assert parts == ("座位 3 排 12 号", "午餐 2 楼宴会厅", "下一项 14:30 分组讨论")
    assert door.headline(contact_id=cards.zhao.id, role="代表", group=None, seat=None,
                         now=at("17:30")) == ()
    assert headline_parts(card_for(m, cards.li.id, now=at("17:30"))) == ("午餐 2 楼宴会厅",)


def test_a_meeting_without_an_agenda_has_no_next_item_in_the_headline(db, factory):
    meeting = factory.meeting("NOAG", starts_at=at("12:00"), hours=2)
    person = factory.contact()
    factory.invitee(meeting, person)
    assert door_cards(meeting).headline(contact_id=person.id, role="代表", group=None, seat=None,
                                        now=at("09:00")) == ()
    assert card_for(meeting, person.id, now=at("09:00")).agenda[0].title == meeting.sessions[0].title


def test_the_door_reads_the_cards_once_and_sees_a_change_at_once(db, cards):
    m = cards.meeting
    books.clear()
    meeting_cache.clear()
    store.set_fields(m, "meeting", None, {"meal_place": "食堂"}, actor="t")
    db.session.commit()
    m = get_meeting(m.code, cached=True)  # as the door looks it up: the meeting cache's copy
    door_cards(m)  # fills this process's copy of the cards
    zhao = cards.zhao.id
    queries = []

    def seen(_conn, _cursor, statement, *_args):
        queries.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        m = get_meeting(m.code, cached=True)
        assert door_cards(m).headline(contact_id=zhao, role="代表", group=None, seat=None,
                                     now=at("17:30")) == ("用餐 食堂",)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert queries == []  # neither the meeting nor its cards: both from this process's copies
    store.set_fields(m, "meeting", None, {"meal_place": "2 楼宴会厅"}, actor="t")
    db.session.commit()
    m = get_meeting(m.code, cached=True)
    assert door_cards(m).headline(contact_id=cards.zhao.id, role="代表", group=None, seat=None,
                                 now=at("17:30")) == ("用餐 2 楼宴会厅",)


def test_tel_links_keep_only_what_a_dialer_reads():
    assert tel_href("0571-8888 0000 转 123") == "tel:057188880000,123"
    assert tel_href("+86 139 0000 1234") == "tel:+8613900001234"


# -- the per-person spreadsheet ---------------------------------------------------------------------

def csv(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8")


HEADER = ["单位", "姓名", "手机", "座位", "用餐地点", "桌号", "联络员电话", "乘车路线"]


def test_import_reports_every_bad_row_before_writing(db, cards, factory):
    outsider = factory.contact(name="局外人", phone="13800009999")
    data = csv([HEADER,
                ["发改委", "张三", "13800001111", "3 排 12 号", "2 楼宴会厅", "5", "", ""],  # 2: by phone
                ["区发展和改革委员会", "李四", "", "3 排 13 号", "", "", "", "1 号线"],  # 3: by unit + name
                ["", "局外人", outsider.phone, "1 排", "", "", "", ""],  # 4: not on the list
                ["发改委", "王小五", "13800003333", "1 排", "", "", "", ""],  # 5: name differs
                ["发改委", "赵六", "13800004444", "", "", "", "请找会务组", ""],  # 6: not a phone
                ["发改委", "李四", "", "9 排", "", "", "", ""],  # 7: row 3's person again
                ["发改委", "钱七", "", "1 排", "", "", "", ""],  # 8: nobody of that name
                ["", "王五", "", "1 排", "", "", "", ""],  # 9: no phone and no unit
                ["发改委", "王五", "", "x" * 40, "", "", "", ""],  # 10: too long
                ["发改委", "张三", "13800138000", "", "", "", "", "示例"],  # the template's example row
                ])
    plan = importer.check_import(cards.meeting, data, "服务卡.csv")
    assert [(r["row"], r["code"]) for r in plan.rejected] == [
        (4, "not_invited"), (5, "name_mismatch"), (6, "phone_invalid"), (7, "person_repeated"),
        (8, "person_not_found"), (9, "unit_missing"), (10, "field_too_long")]
    assert all(r["message"] for r in plan.rejected)
    assert [(r[0], r[1]) for r in plan.rows] == [(2, cards.zhang.id), (3, cards.li.id)]
    assert plan.rows[0][2] == {"seat": "3 排 12 号", "meal_place": "2 楼宴会厅", "meal_table": "5"}
    assert [s["code"] for s in plan.skipped] == ["example_row"]
    assert db.session.scalar(select(func.count()).select_from(ServiceCard)) == 0  # the check writes nothing

    token = importer.hold(cards.meeting, plan)
    message = importer.apply(cards.meeting, token, actor="t")
    db.session.commit()  # the held check is dropped once the import commits
    assert message == "服务卡已导入：新建 2 人，更新 0 人，7 行有问题未导入"
    assert card_for(cards.meeting, cards.li.id, now=at("13:00")).fields["bus_route"] == "1 号线"
    # Importing again: empty cells keep what the card has, filled ones replace it.
    again = importer.check_import(cards.meeting, csv([HEADER, ["发改委", "张三", "13800001111", "", "", "6", "", ""]]),
                                  "x.csv")
    importer.write(cards.meeting, again, actor="t")
    card = card_for(cards.meeting, cards.zhang.id, now=at("13:00"))
    assert (card.fields["seat"], card.fields["meal_table"]) == ("3 排 12 号", "6")
    with pytest.raises(CardError) as err:
        importer.apply(cards.meeting, token, actor="t")  # a check is applied once
    assert err.value.code == "import_expired"


def test_an_import_with_nothing_to_write_says_so(db, cards):
    plan = importer.check_import(cards.meeting, csv([HEADER, ["发改委", "张三", "13800001111", "", "", "", "", ""]]),
                                 "x.csv")
    with pytest.raises(CardError) as err:
        importer.write(cards.meeting, plan, actor="t")
    assert err.value.code == "nothing_to_import"


def test_a_first_scans_headline_is_the_same_as_the_doors(db, cards):
    from app.services.cards.resolve import card_headline
    from models import Invitee

    store.set_fields(cards.meeting, "meeting", None, {"meal_place": "食堂"}, actor="t")
    assert card_headline(cards.meeting, cards.zhang.id, now=at("13:00")) == (
        "座位 A-01", "用餐 食堂", "下一项 14:30 分组讨论")
    db.session.scalar(select(Invitee).where(Invitee.contact_id == cards.li.id)).status = "pending"
    db.session.flush()
    assert card_headline(cards.meeting, cards.li.id, now=at("13:00")) == ()  # a walk-in not yet approved


def test_the_doors_headline_agrees_with_the_full_card(db, cards):
    from models import Invitee

    m = cards.meeting
    store.set_fields(m, "meeting", None, {"meal_name": "午餐", "meal_place": "食堂", "seat": "自由就座"}, actor="t")
    store.set_fields(m, "role", "领导", {"seat": "主席台", "meal_place": "小餐厅"}, actor="t")
    store.set_fields(m, "group", "第一代表团", {"meal_table": "一团 1 桌", "seat": "一团区"}, actor="t")
    store.set_fields(m, "person", cards.li.id, {"meal_name": "工作餐"}, actor="t")
    store.set_fields(m, "person", cards.wang.id, {"seat": "主席台 1 号"}, actor="t")
    door = door_cards(m)
    for person in (cards.zhang, cards.li, cards.wang, cards.zhao):
        invitee = db.session.scalar(select(Invitee).where(Invitee.contact_id == person.id))
        for now in (at("09:00"), at("14:00"), at("17:30")):
            assert door.headline(contact_id=person.id, role=invitee.role, group=invitee.group_name,
                                 seat=invitee.seat, now=now) == headline_parts(card_for(m, person.id, now=now))


def test_a_bare_table_number_is_called_a_table(db, cards):
    store.set_fields(cards.meeting, "person", cards.zhao.id, {"meal_name": "晚餐", "meal_table": "5"}, actor="t")
    store.set_fields(cards.meeting, "person", cards.li.id, {"meal_table": "第 6 桌"}, actor="t")
    assert headline_parts(card_for(cards.meeting, cards.zhao.id, now=at("17:30"))) == ("晚餐 5 桌",)
    assert headline_parts(card_for(cards.meeting, cards.li.id, now=at("17:30"))) == ("用餐 第 6 桌",)


def test_an_archived_meetings_card_is_the_record(db, cards):
    from app.services.errors import DomainError

    cards.meeting.state = "archived"
    with pytest.raises(DomainError) as err:
        store.set_fields(cards.meeting, "meeting", None, {"seat": "A"}, actor="t")
    assert err.value.code == "state_invalid"
