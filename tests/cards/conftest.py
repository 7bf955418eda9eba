"""A meeting with groups and roles for the service card's tests, at fixed China times (ANCHOR)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.services.meetings.sessions import set_agenda
from models import Contact, Meeting
from tests.factories import ANCHOR


@dataclass
class CardData:
    meeting: Meeting
    zhang: Contact  # 第一代表团, 代表, seat on the list "A-01"
    li: Contact  # 第一代表团, 列席
    wang: Contact  # 第二代表团, 领导
    zhao: Contact  # no group


def build_cards(factory, *, starts_at=ANCHOR, code: str = "CARD1") -> CardData:
    unit = factory.unit("FGW", "区发展和改革委员会", aliases=["发改委"])
    meeting = factory.meeting(code, title="全区经济工作会议", starts_at=starts_at, hours=6, venue="区行政中心")
    zhang = factory.contact(unit, name="张三", phone="13800001111")
    li = factory.contact(unit, name="李四", phone="13800002222")
    wang = factory.contact(unit, name="王五", phone="13800003333")
    zhao = factory.contact(unit, name="赵六", phone="13800004444")
    factory.invitee(meeting, zhang, group_name="第一代表团", seat="A-01")
    factory.invitee(meeting, li, group_name="第一代表团", role="列席")
    factory.invitee(meeting, wang, group_name="第二代表团", role="领导")
    factory.invitee(meeting, zhao)
    set_agenda(meeting, [{"time": "12:30", "title": "全体会议"}, {"time": "14:30", "title": "分组讨论"},
                         {"time": "", "title": "合影"}, {"time": "17:00", "title": "闭幕"}], actor="test")
    factory.db.session.flush()
    return CardData(meeting, zhang, li, wang, zhao)


@pytest.fixture
def cards(factory):
    return build_cards(factory)


@pytest.fixture
def console(factory):
    from tests.console.conftest import build_console

    return build_console(factory)
