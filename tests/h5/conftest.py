"""Shared data and helpers for the attendee H5 page tests."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from app.services.codes.scenes import make_scene


@pytest.fixture
def meeting(factory):
    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    m = factory.meeting("H5TEST", title="全区经济工作会议", venue="区政府三楼大会议室",
                        intro="一、传达上级精神\n二、部署明年工作 <b>不是标签</b>",
                        agenda=[{"time": "09:00", "title": "主持人宣布开会", "speaker": "王主任"},
                                {"time": "09:10", "title": "工作报告"}])
    zhang = factory.contact(unit, name="张三", phone="13800138000")
    factory.invitee(m, zhang)
    return m


def scan(sim, openid: str, meeting, position: int = 1):
    return sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(meeting.code, position))])


def reply_link(text: str) -> str:
    """The first link in a WeChat text reply, as a path+query for the test client."""
    href = html.unescape(re.search(r'href="([^"]+)"', text).group(1))
    parts = urlsplit(href)
    return parts.path + ("?" + parts.query if parts.query else "")


def form_value(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else ""


ZHANG = {"unit_text": "发改局", "name": "张三", "phone": "138 0013 8000"}
