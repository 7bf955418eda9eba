"""The template ids and channel rates come from the environment, as the README says."""

from __future__ import annotations

from app.config import Config


def test_template_ids_and_rates_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("WECHAT_REMINDER_TEMPLATE_ID", "tpl-remind-1")
    monkeypatch.setenv("WECHAT_NOTICE_TEMPLATE_ID", "tpl-notice-1")
    monkeypatch.setenv("NOTICE_WECHAT_PER_S", "20")
    monkeypatch.setenv("NOTICE_SMS_PER_S", "abc")  # unusable: the default, not a crash
    config = Config()
    assert (config.WECHAT_REMINDER_TEMPLATE_ID, config.WECHAT_NOTICE_TEMPLATE_ID) == ("tpl-remind-1", "tpl-notice-1")
    assert (config.NOTICE_WECHAT_PER_S, config.NOTICE_SMS_PER_S) == (20.0, 50.0)
    monkeypatch.setenv("NOTICE_SMS_PER_S", "-5")
    assert Config().NOTICE_SMS_PER_S == 50.0


def test_the_sent_template_is_the_configured_one(app, db, nm, sim, monkeypatch):
    from app import jobs
    from app.services.notify import notices as svc
    from tests.notices.conftest import inbox

    monkeypatch.setitem(app.config, "WECHAT_NOTICE_TEMPLATE_ID", "tpl-notice-1")
    notice = svc.create(nm.meeting, title="通知", body="正文", audience={"all": True}, actor=nm.organizer)
    svc.send(notice, nm.meeting, actor=nm.organizer)
    db.session.commit()
    jobs.run_pending(app)
    assert inbox(sim, nm.openids[nm.people[0].id])[0]["template_id"] == "tpl-notice-1"
