"""Organizer commands in the official account (人数, 未到, 催签 and menu clicks)."""

from __future__ import annotations

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


def test_remind_by_text_creates_one_reminder(db, sim, live):
    reply = sim.phone.send_text(live.organizer_openid, "催签")
    assert "已提交催签" in reply.text and "6 位" in reply.text
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1
    sim.clock.advance(2)
    again = sim.phone.click_menu(live.organizer_openid, "ORG_REMIND")
    assert "刚刚已发送催签" in again.text
    assert db.session.scalar(select(func.count()).select_from(Reminder)) == 1


def test_non_organizers_get_the_default_help(db, factory, sim, live):
    factory.identity(live.people[0], oa_openid="o_attendee")
    db.session.commit()
    for openid in ("o_attendee", "o_stranger_never_bound"):
        for text in ("人数", "未到", "催签"):
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
