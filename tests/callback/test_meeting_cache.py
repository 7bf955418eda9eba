"""The scan path's per-process meeting cache: never serves a meeting older than its last change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.services import meeting_cache
from app.services.codes.scenes import make_scene
from app.services.identity.binding import bind, get_or_create_identity
from app.services.meetings.meetings import get_meeting
from models import Meeting, MeetingState


@pytest.fixture
def meeting(factory):
    unit = factory.unit("FGJ", "区发展和改革局")
    m = factory.meeting("CACHE1", title="缓存测试会议")
    for i, name in enumerate(["张三", "李四", "王五"]):
        c = factory.contact(unit, name=name, phone=f"1380013800{i}")
        factory.invitee(m, c)
        bind(get_or_create_identity(oa_openid=f"o-{i}"), unit_text="FGJ", name=name, phone=f"1380013800{i}", ip=None)
    meeting_cache.clear()
    return m


def scan(sim, openid, meeting):
    return sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene(meeting.code, 1))]).text


def test_each_request_gets_its_own_instance(db, meeting):
    first = get_meeting("CACHE1", cached=True)
    assert "CACHE1" in meeting_cache._entries
    db.session.expunge_all()
    second = get_meeting("CACHE1", cached=True)  # from the cache: merged, no query
    assert second is not meeting_cache._entries["CACHE1"][2]
    assert second in db.session and second.id == first.id
    assert [s.position for s in second.sessions] == [1]


def test_a_committed_change_is_seen_by_the_next_scan(db, sim, meeting):
    assert scan(sim, "o-0", meeting).startswith("签到成功")
    meeting.state = MeetingState.CLOSED
    db.session.commit()
    assert "会议已结束" in scan(sim, "o-1", meeting)


def test_another_process_change_is_seen_through_the_redis_version(db, sim, meeting, redis_client):
    assert scan(sim, "o-0", meeting).startswith("签到成功")
    # As another process would: change the row without this session's ORM, then bump the version.
    db.session.execute(sa.update(Meeting).where(Meeting.id == meeting.id).values(state=MeetingState.CLOSED))
    db.session.expire_all()
    redis_client.incr(meeting_cache.VERSION_KEY)
    assert "会议已结束" in scan(sim, "o-1", meeting)


def test_unknown_codes_are_not_cached(db, meeting):
    from app.services.meetings.meetings import MeetingError

    with pytest.raises(MeetingError):
        get_meeting("NOPE", cached=True)
    assert "NOPE" not in meeting_cache._entries
