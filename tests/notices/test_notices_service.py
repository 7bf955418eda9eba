"""会议通知: recipients, one message per person per round, 回执 and 请假 into real leave, counts."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app import jobs
from app.services.live.headcount import people_of
from app.services.notify import deliveries
from app.services.notify import notices as svc
from app.wechat import templates as wechat_templates
from models import Job, Leave, NoticeDelivery, NoticeRecipient
from tests.notices.conftest import inbox


def _send(app, db, nm, **kw):
    draft = svc.draft_for(nm.meeting)
    notice = svc.create(nm.meeting, title=draft["title"], body=draft["body"], audience=kw.pop("audience", {"all": True}),
                        actor=nm.organizer, **kw)
    count = svc.send(notice, nm.meeting, actor=nm.organizer)
    db.session.commit()
    assert jobs.run_pending(app) is True
    return notice, count


def test_draft_is_generated_from_the_meeting(nm):
    draft = svc.draft_for(nm.meeting)
    assert draft["title"] == "关于召开全区经济工作会议的通知"
    assert "区行政中心三楼会议室" in draft["body"] and "请假" in draft["body"]


def test_notice_reaches_each_follower_once_and_others_are_recorded(app, db, nm, sim):
    notice, count = _send(app, db, nm)
    assert count == 12
    for person in nm.people:
        got = inbox(sim, nm.openids[person.id]) if person.id in nm.openids else []
        assert len(got) == (1 if person.id in nm.openids else 0)
    message = inbox(sim, nm.openids[nm.people[0].id])[0]
    assert wechat_templates.problems({k: v["value"] for k, v in message["data"].items()}) == []
    assert message["shown"]["thing1"] == "全区经济工作会议"
    recipient = db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == nm.people[0].id))
    assert message["url"].endswith(f"/n/{recipient.token}")
    counts = svc.counts(notice)
    assert counts["total"] == 12 and counts["unread"] == 12
    assert counts["wechat_sent"] + counts["wechat_delivered"] == 9 and counts["wechat_skipped"] == 3
    # The job running again (a retry) sends nobody anything.
    deliveries.send_round(notice.id, 1)
    db.session.commit()
    assert sum(len(inbox(sim, o)) for o in nm.openids.values()) == 9


def test_audience_by_unit_group_and_person(app, db, nm):
    units = {p.unit_id for p in nm.people}
    first_unit = min(units)
    by_unit = svc.resolve(nm.meeting, svc.Audience.parse({"units": [first_unit]}))
    assert set(by_unit) == {p.id for p in nm.people if p.unit_id == first_unit}
    by_group = svc.resolve(nm.meeting, svc.Audience.parse({"groups": ["第二代表团"]}))
    assert set(by_group) == {p.id for p in nm.people[6:]}
    mixed = svc.resolve(nm.meeting, svc.Audience.parse({"groups": ["第二代表团"], "people": [nm.people[0].id, "x"]}))
    assert set(mixed) == {nm.people[0].id} | {p.id for p in nm.people[6:]}
    with pytest.raises(svc.NoticeError) as refused:
        svc.create(nm.meeting, title="通知", body="", audience={}, actor=nm.organizer)
    assert refused.value.code == "audience_empty"


def test_answers_leave_approval_and_counts(app, db, nm):
    notice, _ = _send(app, db, nm)
    rows = {r.contact_id: r for r in db.session.scalars(select(NoticeRecipient))}
    meeting = nm.meeting
    svc.attend(rows[nm.people[0].id], meeting, channel="wechat")
    svc.attend(rows[nm.people[1].id], meeting, channel="wechat")
    svc.ask_leave(rows[nm.people[2].id], meeting, reason="外出公干", channel="wechat")
    svc.ask_leave(rows[nm.people[3].id], meeting, reason="身体不适", channel="browser")
    svc.mark_read(rows[nm.people[4].id])
    with pytest.raises(svc.NoticeError) as refused:
        svc.ask_leave(rows[nm.people[5].id], meeting, reason="  ", channel="wechat")
    assert refused.value.code == "leave_reason_missing"
    db.session.commit()
    counts = svc.counts(notice)
    assert (counts["attend"], counts["leave_pending"], counts["read"], counts["unread"]) == (2, 2, 1, 7)

    expected_before = len(people_of(meeting)[0])
    svc.decide_leave(notice, meeting, rows[nm.people[2].id].id, approve=True, note="", actor=nm.organizer)
    svc.decide_leave(notice, meeting, rows[nm.people[3].id].id, approve=False, note="请安排他人参会",
                     actor=nm.organizer)
    db.session.commit()
    leave = db.session.scalar(select(Leave).where(Leave.contact_id == nm.people[2].id))
    assert leave.reason == "外出公干" and leave.approver == "会务张"
    assert len(people_of(meeting)[0]) == expected_before - 1  # out of 应到
    counts = svc.counts(notice)
    assert (counts["leave_approved"], counts["leave_refused"], counts["leave_pending"]) == (1, 1, 0)
    with pytest.raises(svc.NoticeError) as twice:
        svc.decide_leave(notice, meeting, rows[nm.people[2].id].id, approve=True, note="", actor=nm.organizer)
    assert twice.value.code == "not_pending"
    with pytest.raises(svc.NoticeError) as decided:
        svc.ask_leave(rows[nm.people[3].id], meeting, reason="还是想请假", channel="wechat")
    assert decided.value.code == "leave_decided"


def test_remind_goes_only_to_the_unanswered_once(app, db, nm, sim):
    notice, _ = _send(app, db, nm)
    rows = {r.contact_id: r for r in db.session.scalars(select(NoticeRecipient))}
    svc.attend(rows[nm.people[0].id], nm.meeting, channel="wechat")
    db.session.commit()
    notice.last_round_at = notice.last_round_at.replace(year=notice.last_round_at.year - 1)  # long ago
    assert svc.remind_unanswered(notice, nm.meeting, actor=nm.organizer) == 11
    db.session.commit()
    jobs.run_pending(app)
    assert len(inbox(sim, nm.openids[nm.people[0].id])) == 1  # answered: not reminded
    second = inbox(sim, nm.openids[nm.people[1].id])
    assert len(second) == 2 and second[1]["shown"]["thing4"].startswith("您尚未回执")
    with pytest.raises(svc.NoticeError) as again:
        svc.remind_unanswered(notice, nm.meeting, actor=nm.organizer)
    assert again.value.code == "too_soon"
    per_round = db.session.execute(select(NoticeDelivery.round, func.count()).where(
        NoticeDelivery.channel == "wechat").group_by(NoticeDelivery.round)).all()
    assert dict(per_round) == {1: 12, 2: 11}


def test_wechat_reports_mark_delivered_and_failed(app, db, nm, sim):
    refused = nm.openids[nm.people[1].id]
    sim.state.template_status[refused] = "failed:user block"
    notice, _ = _send(app, db, nm)
    for delivery in db.session.scalars(select(NoticeDelivery).where(NoticeDelivery.status == "sent")).all():
        status = "failed:user block" if delivery.recipient_id == _recipient(db, nm.people[1]).id else "success"
        deliveries.record_wechat_report(delivery.provider_id, status)
    db.session.commit()
    counts = svc.counts(notice)
    assert counts["wechat_delivered"] == 8 and counts["wechat_failed"] == 1
    failed = db.session.scalar(select(NoticeDelivery).where(NoticeDelivery.status == "failed"))
    assert failed.reason == "对方已拒收公众号消息"


def _recipient(db, person):
    return db.session.scalar(select(NoticeRecipient).where(NoticeRecipient.contact_id == person.id))


def test_confidentiality_reminder_counts_confirmations_and_reminds_the_rest(app, db, nm, sim):
    from app.services.documents import confidentiality

    draft = svc.draft_for(nm.meeting, "confidentiality")
    assert confidentiality.terms_of(nm.meeting).text in draft["body"]
    notice = svc.create(nm.meeting, title=draft["title"], body=draft["body"], audience={"all": True},
                        actor=nm.organizer, kind="confidentiality", ask_reply=True)
    assert notice.ask_reply is False  # nothing to answer: the confirmation is the documents' gate's
    svc.send(notice, nm.meeting, actor=nm.organizer)
    db.session.commit()
    jobs.run_pending(app)
    message = inbox(sim, nm.openids[nm.people[0].id])[0]
    assert message["shown"]["thing4"] == "请阅读保密须知并确认"
    version = confidentiality.terms_of(nm.meeting).version
    for person in nm.people[:5]:
        confidentiality.confirm(nm.meeting, person, version, "h5")
    db.session.commit()
    counts = svc.counts(notice)
    assert (counts["confirmed"], counts["unanswered"]) == (5, 7)
    notice.last_round_at = notice.last_round_at.replace(year=notice.last_round_at.year - 1)
    assert svc.remind_unanswered(notice, nm.meeting, actor=nm.organizer) == 7


def test_two_hundred_invitees_wechat_sms_answers_and_leave(app, db, factory, sim, sms_sim):
    """The issue's run: a notice to 200; some confirm, some ask leave and are approved (they leave
    应到), those without the account (and one WeChat refused) get an SMS; the counts are right."""
    from tests.notices.conftest import build

    nm = build(factory, sim, size=200, following=160, code="NOTE200")
    refused = nm.people[3]
    sim.state.fail_template_for(nm.openids[refused.id], 43101)
    sms_sim.state.fail_number(nm.people[199].phone)  # an empty number: taken, then reported undelivered
    notice, count = _send(app, db, nm, sms_fallback=True)
    assert count == 200
    counts = svc.counts(notice)
    assert counts["wechat_sent"] == 159 and counts["wechat_failed"] == 1 and counts["wechat_skipped"] == 40
    assert counts["sms_sent"] == 41  # 40 without the account, 1 refused on WeChat
    for person in nm.people[160:]:
        texts = sms_sim.state.inbox(person.phone)
        assert len(texts) == 1
        token = _recipient(db, person).token
        assert texts[0].text.startswith("【会易】全区经济工作会议定于") and texts[0].text.endswith(f"/n/{token}")
    assert len(sms_sim.state.inbox(refused.phone)) == 1
    assert sms_sim.state.inbox(nm.people[0].phone) == []  # reached on WeChat: no SMS

    # Receipts: the provider reports every SMS in one push; the empty number's says why.
    answers = sms_sim.push_receipts()
    assert [status for status, _body in answers] == [200]
    db.session.commit()
    counts = svc.counts(notice)
    assert (counts["sms_delivered"], counts["sms_failed"]) == (40, 1)
    failed = db.session.scalar(select(NoticeDelivery).where(NoticeDelivery.channel == "sms",
                                                             NoticeDelivery.status == "failed"))
    assert failed.recipient_id == _recipient(db, nm.people[199]).id and "空号" in failed.reason

    meeting = nm.meeting
    rows = {r.contact_id: r for r in db.session.scalars(select(NoticeRecipient))}
    for person in nm.people[:100]:
        svc.attend(rows[person.id], meeting, channel="wechat")
    for person in nm.people[100:110]:
        svc.ask_leave(rows[person.id], meeting, reason="另有公务", channel="browser")
    db.session.commit()
    expected_before = len(people_of(meeting)[0])
    for person in nm.people[100:108]:
        svc.decide_leave(notice, meeting, rows[person.id].id, approve=True, note="", actor=nm.organizer)
    db.session.commit()
    counts = svc.counts(notice)
    assert (counts["attend"], counts["leave_approved"], counts["leave_pending"], counts["unanswered"]) == (100, 8, 2, 90)
    assert len(people_of(meeting)[0]) == expected_before - 8
    assert db.session.scalar(select(func.count()).select_from(Leave)) == 8


def test_the_notice_fills_only_fields_wechat_shows_today(app, db, nm, sim):
    """Research notes §7: since 2023 WeChat drops ``first``/``remark`` and shows category keywords
    within their type's limits. What the phone shows is all that was sent, in every round and kind."""
    nm.meeting.title = "中国共产党某某省某某市第十五次代表大会第三次全体会议"  # 27 characters
    db.session.commit()
    notice, _ = _send(app, db, nm)
    message = inbox(sim, nm.openids[nm.people[0].id])[0]
    sent = {field: item["value"] for field, item in message["data"].items()}
    assert set(sent) == {"thing1", "time2", "thing3", "thing4"} and not set(sent) & wechat_templates.DROPPED_FIELDS
    assert wechat_templates.problems(sent) == [] and message["shown"] == sent
    assert sent["thing1"] == nm.meeting.title[:19] + "…"
    for round_no in (1, 2):
        for kind in ("notice", "confidentiality"):
            notice.kind = kind
            assert wechat_templates.problems(deliveries.template_data(notice, nm.meeting, round_no)) == []


def test_a_long_round_goes_on_in_new_jobs_without_sending_twice(app, db, nm, sim, sms_sim, monkeypatch):
    """One job never outlives the queue's timeout: past its slice it hands the rest of the round to
    a new job; together they reach everyone once (WeChat batches of 2, then SMS one by one)."""
    monkeypatch.setattr(deliveries, "SLICE_S", 0)
    monkeypatch.setattr(deliveries, "BATCH", 2)
    notice, _ = _send(app, db, nm, sms_fallback=True)
    while jobs.run_pending(app):
        pass
    assert db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == "notice")) > 5
    for person in nm.people:
        got = len(inbox(sim, nm.openids[person.id])) if person.id in nm.openids else len(sms_sim.state.inbox(person.phone))
        assert got == 1, person.name
    counts = svc.counts(notice)
    assert (counts["wechat_sent"], counts["sms_sent"], counts["wechat_pending"], counts["sms_pending"]) == (9, 3, 0, 0)
