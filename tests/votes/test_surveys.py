"""Surveys: question kinds, one response per person (also under concurrency), summary, export."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

import openpyxl
import pytest
from sqlalchemy import func, select

from app.services.meetings.organizers import OrganizerError
from app.services.votes import surveys
from app.services.votes.surveys import SurveyError, create_survey, set_state, submit_response, summary
from models import Contact, Meeting, SurveyParticipation, SurveyResponse

QUESTIONS = [
    {"kind": "single", "text": "会议安排是否合理", "options": ["合理", "一般", "不合理"]},
    {"kind": "multiple", "text": "您最关注的议题", "options": ["经济", "民生", "生态", "=HYPERLINK(\"x\")"]},
    {"kind": "rating", "text": "总体满意度"},
    {"kind": "text", "text": "意见和建议", "required": False},
]


def opened(vm, **kw):
    s = create_survey(vm.meeting, actor=vm.organizer, title="会议满意度调查", questions=QUESTIONS, **kw)
    return set_state(vm.meeting, s, "open", actor=vm.organizer)


def answers(s, single=0, multiple=(0, 1), rating=5, text=""):
    q = [x.id for x in s.questions]
    return {q[0]: single, q[1]: list(multiple), q[2]: rating, q[3]: text}


def code_of(fn):
    with pytest.raises(SurveyError) as err:
        fn()
    return err.value.code


def test_rules_summary_and_export(db, vm):
    s = opened(vm)
    submit_response(s, vm.people[0], answers(s, 0, (0, 1), 5, "建议增加茶歇"))
    submit_response(s, vm.people[1], answers(s, 1, (1,), 4))
    submit_response(s, vm.people[2], answers(s, 0, (3,), 3, "=cmd|' /C calc'!A0"))
    assert code_of(lambda: submit_response(s, vm.people[0], answers(s))) == "already_answered"
    assert code_of(lambda: submit_response(s, vm.people[3], answers(s, rating=6))) == "answer_invalid"
    assert code_of(lambda: submit_response(s, vm.people[3], answers(s, single=3))) == "answer_invalid"
    assert code_of(lambda: submit_response(s, vm.people[3], {s.questions[0].id: 0})) == "answer_missing"
    n, qs = summary(s)
    assert n == 3
    assert qs[0].counts == [("合理", 2), ("一般", 1), ("不合理", 0)]
    assert qs[1].counts[:2] == [("经济", 1), ("民生", 2)]
    assert qs[2].average == 4.0 and qs[2].counts == [("1", 0), ("2", 0), ("3", 1), ("4", 1), ("5", 1)]
    assert sorted(qs[3].texts) == sorted(["建议增加茶歇", "=cmd|' /C calc'!A0"])
    rows = db.session.scalars(select(SurveyResponse)).all()
    assert all(r.contact_id is None and r.submitted_at is None for r in rows)  # anonymous by default

    ws = openpyxl.load_workbook(io.BytesIO(surveys.export_xlsx(vm.meeting, s, actor=vm.organizer))).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][0] == "1. 会议安排是否合理" and len(values) == 4
    evil = [c for row in ws.iter_rows() for c in row if c.value == "=cmd|' /C calc'!A0"]
    assert evil and all(c.data_type == "s" and c.quotePrefix for c in evil)

    set_state(vm.meeting, s, "closed", actor=vm.organizer)
    assert code_of(lambda: submit_response(s, vm.people[4], answers(s))) == "survey_closed"


def test_create_validation_and_rights(db, factory, vm):
    assert code_of(lambda: create_survey(vm.meeting, actor=vm.organizer, title="", questions=QUESTIONS)) == \
        "title_missing"
    assert code_of(lambda: create_survey(vm.meeting, actor=vm.organizer, title="x",
                                         questions=[{"kind": "single", "text": "q", "options": ["a"]}])) == \
        "question_invalid"
    with pytest.raises(OrganizerError):
        create_survey(vm.meeting, actor=vm.people[0], title="越权", questions=QUESTIONS)
    s = opened(vm, anonymous=False)
    with pytest.raises(OrganizerError):
        surveys.export_xlsx(vm.meeting, s, actor=vm.people[0])
    assert code_of(lambda: submit_response(s, factory.contact(), answers(s))) == "not_eligible"
    submit_response(s, vm.people[0], answers(s))
    ws = openpyxl.load_workbook(io.BytesIO(surveys.export_xlsx(vm.meeting, s, actor=vm.organizer))).active
    assert ws["A1"].value == "姓名" and ws["A2"].value == vm.people[0].name


@pytest.mark.slow
def test_same_person_twenty_times_at_once(app, committed_db):
    from tests.factories import Factory
    from tests.votes.conftest import build

    vm = build(Factory(committed_db), "SURV1", delegates=1, observers=0)
    s = opened(vm)
    committed_db.session.commit()
    survey_id, meeting_id, contact_id = s.id, vm.meeting.id, vm.delegates[0].id
    barrier = threading.Barrier(20)

    def submit(_):
        from app.extensions import db

        with app.app_context():
            barrier.wait()
            try:
                survey = surveys.get_survey(db.session.get(Meeting, meeting_id), survey_id)
                submit_response(survey, db.session.get(Contact, contact_id), answers(survey))
                db.session.commit()
                return "ok"
            except SurveyError as exc:
                db.session.rollback()
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(submit, range(20)))
    assert sorted(outcomes) == ["already_answered"] * 19 + ["ok"]
    assert committed_db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    assert committed_db.session.scalar(select(func.count()).select_from(SurveyParticipation)) == 1


def test_survey_pages(db, client, factory, vm):
    from tests.votes.conftest import login

    s = opened(vm)
    attendee = factory.identity(vm.people[0])
    db.session.commit()
    login(client, attendee.id)
    url = f"/m/{vm.meeting.code}/surveys/{s.id}"
    page = client.get(url).get_data(as_text=True)
    assert "会议安排是否合理" in page and page.count('type="radio"') == 3 + 5 and page.count('type="checkbox"') == 4
    q = [x.id for x in s.questions]
    missing = client.post(url, data={f"q{q[0]}": "0"})
    assert missing.status_code == 422 and "第 2 题为必答题" in missing.get_data(as_text=True)
    ok = client.post(url, data={f"q{q[0]}": "1", f"q{q[1]}": ["0", "2"], f"q{q[2]}": "4", f"q{q[3]}": "<b>好</b>"})
    done = ok.get_data(as_text=True)
    assert ok.status_code == 200 and "提交成功" in done
    # A survey's page says so (not 投票表决) and leads on: the meeting page lists its surveys.
    assert "问卷调查" in done and "投票表决" not in done
    assert f'href="/m/{vm.meeting.code}"' in done and 'href="/m/my"' in done
    again = client.post(url, data={f"q{q[0]}": "1", f"q{q[1]}": ["0"], f"q{q[2]}": "4"})
    assert again.status_code == 409 and "每人只能提交一次" in again.get_data(as_text=True)
    assert client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}").status_code == 403
    assert client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}/export.xlsx").status_code == 403
    login(client, vm.organizer_identity_id)
    summary_html = client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}").get_data(as_text=True)
    assert "平均 4.0 分" in summary_html and "&lt;b&gt;好&lt;/b&gt;" in summary_html and "<b>好</b>" not in summary_html
    assert client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}/export.xlsx").status_code == 200
    assert client.post(f"/admin/{vm.meeting.code}/surveys/{s.id}/closed").status_code == 302
    login(client, factory.identity(vm.people[1]).id)
    assert "问卷已结束" in client.get(url).get_data(as_text=True)
