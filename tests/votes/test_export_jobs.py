"""Issue 21.10: a large vote or survey export is written by a job (the page shows its progress and
offers the download); a small one is answered at once. The rule is exports.runs_as_job."""

from __future__ import annotations

import io
import re

import openpyxl

from app import jobs
from app.services import exports
from app.services.votes.surveys import create_survey, set_state, submit_response
from app.services.votes.votes import create_vote, open_vote
from models import Job
from tests.votes.conftest import login

QUESTIONS = [{"kind": "single", "text": "会议安排是否合理", "options": ["合理", "一般"]},
             {"kind": "text", "text": "意见和建议", "required": False}]


def survey_with_answers(db, vm, n: int = 3):
    s = set_state(vm.meeting, create_survey(vm.meeting, actor=vm.organizer, title="满意度", questions=QUESTIONS),
                  "open", actor=vm.organizer)
    for i in range(n):
        submit_response(s, vm.people[i], {s.questions[0].id: i % 2, s.questions[1].id: f"=意见{i}"})
    db.session.commit()
    return s


def test_a_small_survey_export_is_answered_at_once(db, client, vm):
    s = survey_with_answers(db, vm)
    login(client, vm.organizer_identity_id)
    res = client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}/export.xlsx")
    assert res.status_code == 200 and res.data[:2] == b"PK"
    assert db.session.query(Job).count() == 0


def test_a_large_survey_export_is_written_by_a_job(app, db, client, vm, monkeypatch):
    s = survey_with_answers(db, vm)
    monkeypatch.setattr(exports, "INLINE_MAX_CELLS", 4)  # 3 answers x 3 columns is "large" now
    login(client, vm.organizer_identity_id)
    res = client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}/export.xlsx")
    assert res.status_code == 302 and f"/admin/{vm.meeting.code}/jobs/" in res.headers["Location"]
    job = db.session.query(Job).one()
    assert (job.kind, job.state, job.actor) == ("survey_export", "queued", jobs.console_actor(vm.organizer.id))
    assert "正在生成文件" in client.get(res.headers["Location"]).get_data(as_text=True)

    assert jobs.run_pending(app) is True
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    assert "文件已生成" in page and "区人民代表大会第三次会议-问卷-满意度.xlsx" in page
    download = client.get(re.search(r'id="job-download" href="([^"]+)"', page).group(1))
    assert download.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True))
    assert len(rows) == 4  # the same file; text stays text, never a formula
    assert sorted(r[1] for r in rows[1:]) == ["=意见0", "=意见1", "=意见2"]


def test_a_large_vote_export_is_written_by_a_job(app, db, client, vm, monkeypatch):
    vote = create_vote(vm.meeting, actor=vm.organizer, title="表决事项", options=["同意", "反对"])
    open_vote(vm.meeting, vote, actor=vm.organizer)
    db.session.commit()
    login(client, vm.organizer_identity_id)
    assert client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}/export.xlsx").status_code == 200
    monkeypatch.setattr(exports, "INLINE_MAX_CELLS", 4)
    res = client.get(f"/admin/{vm.meeting.code}/votes/{vote.id}/export.xlsx")
    assert res.status_code == 302 and f"/admin/{vm.meeting.code}/jobs/" in res.headers["Location"]
    assert jobs.run_pending(app) is True
    page = client.get(res.headers["Location"]).get_data(as_text=True)
    download = client.get(re.search(r'id="job-download" href="([^"]+)"', page).group(1))
    values = [c for row in openpyxl.load_workbook(io.BytesIO(download.data)).active.iter_rows(values_only=True)
              for c in row]
    assert "同意" in values and "表决事项" in values


def test_someone_elses_export_job_is_not_found(app, db, client, factory, vm, monkeypatch):
    s = survey_with_answers(db, vm)
    monkeypatch.setattr(exports, "INLINE_MAX_CELLS", 4)
    login(client, vm.organizer_identity_id)
    location = client.get(f"/admin/{vm.meeting.code}/surveys/{s.id}/export.xlsx").headers["Location"]
    other = factory.identity(vm.delegates[0])
    db.session.commit()
    login(client, other.id)
    assert client.get(location).status_code in (403, 404)
