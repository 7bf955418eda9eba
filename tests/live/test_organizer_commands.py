"""Organizer commands in the official account (人数, 未到, 催签 and menu clicks)."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from models import Reminder
from wechat_handlers.dispatch import HELP


def test_headcount_and_missing_by_text(db, sim, live):
    session = get_session(live.meeting)
    for p in live.people[:2]:
        sign_in(live.meeting, session, p, method="scan", check_window=False)
    db.session.commit()
    reply = sim.phone.send_text(live.organizer_openid, "人数")
    assert "应到 6 人，实到 2 人，签到率 33.3%" in reply.text
    assert f"http://huiyi.test/admin/{live.meeting.code}" in reply.text
    assert len(reply.text) < 600  # a chat bubble, not a report
    missing = sim.phone.send_text(live.organizer_openid, "未到")
    assert "未到 4 人" in missing.text and "代表2" in missing.text and "代表0" not in missing.text
    clicked = sim.phone.click_menu(live.organizer_openid, "ORG_HEADCOUNT")
    assert "实到 2 人" in clicked.text


def _reminders(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Reminder))


def test_remind_by_text_asks_first_then_sends_once_on_confirmation(db, sim, live):
    ask = sim.phone.send_text(live.organizer_openid, "催签")
    assert "将向 6 位未到人员" in ask.text and "5 分钟内回复“确认催签”" in ask.text
    assert _reminders(db) == 0  # nothing sent on the first word
    sim.clock.advance(2)
    sent = sim.phone.send_text(live.organizer_openid, "确认催签")
    assert "已提交催签" in sent.text and "6 位" in sent.text
    assert _reminders(db) == 1
    sim.clock.advance(2)
    again = sim.phone.send_text(live.organizer_openid, "确认催签")  # the confirmation is used up
    assert "刚才的催签已提交（6 人），无需再次确认" in again.text  # what became of it, not "nothing to confirm"
    assert _reminders(db) == 1
    sim.clock.advance(2)
    soon = sim.phone.click_menu(live.organizer_openid, "ORG_REMIND")  # the menu asks the same way
    assert "刚刚已发送催签" in soon.text
    assert _reminders(db) == 1


def test_menu_remind_asks_as_the_text_does(db, sim, live):
    ask = sim.phone.click_menu(live.organizer_openid, "ORG_REMIND")
    assert "将向 6 位未到人员" in ask.text and "确认催签" in ask.text
    assert _reminders(db) == 0
    sim.clock.advance(2)
    assert "已提交催签" in sim.phone.send_text(live.organizer_openid, "确认催签").text
    assert _reminders(db) == 1


def test_confirmation_without_a_question_or_after_it_expired_sends_nothing(db, sim, live, redis_client):
    alone = sim.phone.send_text(live.organizer_openid, "确认催签")
    assert "没有待确认的催签" in alone.text and "重新发送“催签”" in alone.text
    sim.clock.advance(2)
    sim.phone.send_text(live.organizer_openid, "催签")
    session = get_session(live.meeting)
    key = f"huiyi:remind-confirm:{live.organizer_openid}:{live.meeting.id}:{session.id}"
    assert 290 < redis_client.ttl(key) <= 300  # kept five minutes, per openid, meeting and session
    redis_client.pexpire(key, 1)  # five minutes later, as Redis sees it
    time.sleep(0.05)
    sim.clock.advance(2)
    late = sim.phone.send_text(live.organizer_openid, "确认催签")
    assert "没有待确认的催签" in late.text
    assert _reminders(db) == 0


def test_remind_needs_the_remind_right_at_both_steps(db, factory, sim, live, redis_client):
    from app.services.meetings.organizers import add_organizer
    from models import OrganizerRight

    watcher = factory.contact(live.units[0], name="只读周")
    add_organizer(live.meeting.code, watcher.phone, actor="test", right=OrganizerRight.VIEWER)
    factory.identity(watcher, oa_openid="o_viewer_remind")
    db.session.commit()
    ask = sim.phone.send_text("o_viewer_remind", "催签")
    assert "确认催签" not in ask.text and "6 位" not in ask.text
    assert not redis_client.keys("huiyi:remind-confirm:*")
    # even with a confirmation planted for them, a viewer cannot send
    session = get_session(live.meeting)
    redis_client.set(f"huiyi:remind-confirm:o_viewer_remind:{live.meeting.id}:{session.id}", 6, ex=300)
    sim.clock.advance(2)
    sim.phone.send_text("o_viewer_remind", "确认催签")
    assert _reminders(db) == 0


def test_non_organizers_get_the_default_help(db, factory, sim, live):
    factory.identity(live.people[0], oa_openid="o_attendee")
    db.session.commit()
    for openid in ("o_attendee", "o_stranger_never_bound"):
        for text in ("人数", "未到", "催签", "确认催签"):
            reply = sim.phone.send_text(openid, text)
            assert reply.text == HELP, (openid, text)
    assert sim.phone.click_menu("o_attendee", "ORG_HEADCOUNT").text == HELP
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 0


def test_qr_menu_gives_poster_qr_and_screen_links(app, db, sim, live):
    from app.services.live.headcount import check_screen_key

    reply = sim.phone.click_menu(live.organizer_openid, "ORG_QR")
    code = live.meeting.code
    assert f"/admin/codes/{code}/poster.pdf" in reply.text and f"/admin/codes/{code}/qr.png" in reply.text
    key = reply.text.split(f"/screen/{code}?k=")[1].split('"')[0]
    assert check_screen_key(app.config["SECRET_KEY"], code, key)
    assert sim.phone.click_menu("o_stranger_never_bound", "ORG_QR").text == HELP


def test_a_confirmation_retried_after_its_worker_died_is_told_what_became_of_it(app, client, db, sim, live,
                                                                                 monkeypatch):
    """WeChat sends 确认催签 again when the first answer never came (the worker died after the
    commit): the retry takes the message over and must neither send again nor say there was nothing
    to confirm."""
    import wechat_handlers.callback as callback
    import wechat_handlers.dedupe as dedupe
    from tests.callback.test_callback_hostile import signed_query
    from tests.callback.test_door_faults import WorkerKilled, _Later

    sim.phone.send_text(live.organizer_openid, "催签")
    body = ("<xml><ToUserName><![CDATA[gh_1]]></ToUserName>"
            f"<FromUserName><![CDATA[{live.organizer_openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            "<Content><![CDATA[确认催签]]></Content><MsgId>6900000000000000321</MsgId></xml>")

    def killed(*_args, **_kwargs):
        raise WorkerKilled

    with monkeypatch.context() as m:
        m.setattr(callback, "remember_reply", killed)  # after the commit, before any answer
        with pytest.raises(WorkerKilled):
            client.post("/wechat/callback", query_string=signed_query(app, nonce="n-confirm"), data=body)
    assert _reminders(db) == 1
    monkeypatch.setattr(dedupe, "time", _Later(5.0))
    retry = client.post("/wechat/callback", query_string=signed_query(app, nonce="n-confirm"), data=body)
    assert "刚才的催签已提交（6 人），无需再次确认" in retry.get_data(as_text=True)
    assert _reminders(db) == 1  # sent once
