"""Survey pages: attendees answer on H5 (``/m/<code>/surveys/<id>``); organizers create surveys
(``/admin/<code>/surveys``), open/close one, read its summary and export the responses
(``/admin/<code>/surveys/<id>``)."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.exports import XLSX_TYPE
from app.services.meetings import organizers
from app.services.meetings.meetings import get_meeting
from app.services.meetings.visibility import participating_meeting
from app.services.votes import surveys
from app.services.votes.surveys import SurveyError
from app.tx import finish_with_error
from app.web.auth import current_contact, wechat_login_required
from app.web.console_auth import console_login_required, load_meeting
from app.web.votes import page_globals

bp = Blueprint("surveys", __name__)
bp.context_processor(page_globals)
#: Question rows on the creation form (blank rows are skipped); enough for a satisfaction survey.
QUESTION_SLOTS = 8


def _answers(survey) -> dict[str, object]:
    out: dict[str, object] = {}
    for q in survey.questions:
        key = f"q{q.id}"
        out[str(q.id)] = request.form.getlist(key) if q.kind == "multiple" else request.form.get(key, "")
    return out


def _questions() -> list[dict[str, object]]:
    """The creation form's question rows, in order; rows left without a question are skipped."""
    f, out = request.form, []
    for n in range(1, QUESTION_SLOTS + 1):
        if not f.get(f"q{n}_text", "").strip():
            continue
        out.append({"kind": f.get(f"q{n}_kind", "single"), "text": f.get(f"q{n}_text", ""),
                    "options": f.get(f"q{n}_options", "").splitlines(), "required": f.get(f"q{n}_required") == "1"})
    return out


@bp.route("/m/<meeting_code>/surveys/<int:survey_id>", methods=["GET", "POST"])
@wechat_login_required
def answer(meeting_code: str, survey_id: int):
    contact = current_contact()
    if contact is None:
        return redirect(url_for("attendee.signin_page", meeting_code=meeting_code))
    meeting = participating_meeting(meeting_code, contact)
    survey = surveys.get_survey(meeting, survey_id)
    error = None
    if request.method == "POST":
        try:
            surveys.submit_response(survey, contact, _answers(survey))
        except SurveyError as exc:
            finish_with_error(exc)
            if exc.code not in ("answer_missing", "answer_invalid"):
                return render_template("votes/message.html", meeting=meeting, title="未能提交", message=exc.message,
                                       ok=False, vote=None, subtitle="问卷调查", links=_back(meeting)), exc.status
            error = exc.message
        else:
            return render_template("votes/message.html", meeting=meeting, title="提交成功", message="感谢您的反馈。",
                                   ok=True, vote=None, subtitle="问卷调查", links=_back(meeting))
    return render_template("surveys/form.html", meeting=meeting, survey=survey, error=error,
                           answered=surveys.has_answered(survey, contact)), (422 if error else 200)


def _back(meeting) -> list[tuple[str, str]]:
    """Where a person goes after a survey: the meeting page lists its surveys (and everything else)."""
    return [("返回会议页面", url_for("attendee.meeting_page", meeting_code=meeting.code)),
            ("我的会议", url_for("mine.my_meetings"))]


@bp.route("/admin/<meeting_code>/surveys", methods=["GET", "POST"])
@console_login_required
def admin_list(meeting_code: str):
    meeting, me, right = load_meeting(meeting_code, "view")
    error = None
    if request.method == "POST":
        try:
            survey = surveys.create_survey(meeting, actor=me, title=request.form.get("title", ""),
                                           questions=_questions(), anonymous=request.form.get("anonymous") == "1")
        except SurveyError as exc:
            finish_with_error(exc)
            error = exc.message
        else:
            return redirect(url_for(".summary_page", meeting_code=meeting.code, survey_id=survey.id))
    return render_template("surveys/admin_list.html", meeting=meeting, me=me, right=right,
                           items=surveys.list_surveys(meeting), kinds=surveys.KIND_LABELS, slots=QUESTION_SLOTS,
                           form=request.form, error=error), (422 if error else 200)


@bp.get("/admin/<meeting_code>/surveys/<int:survey_id>")
@console_login_required
def summary_page(meeting_code: str, survey_id: int):
    meeting, me, right = load_meeting(meeting_code, "view")
    survey = surveys.get_survey(meeting, survey_id)
    count, questions = surveys.summary(survey)
    return render_template("surveys/summary.html", meeting=meeting, me=me, right=right, survey=survey, count=count,
                           questions=questions)


@bp.post("/admin/<meeting_code>/surveys/<int:survey_id>/<any(open, closed):state>")
@console_login_required
def set_state(meeting_code: str, survey_id: int, state: str):
    meeting = get_meeting(meeting_code)
    me = current_contact()
    surveys.set_state(meeting, surveys.get_survey(meeting, survey_id), state, actor=me)
    return redirect(url_for(".summary_page", meeting_code=meeting.code, survey_id=survey_id))


@bp.get("/admin/<meeting_code>/surveys/<int:survey_id>/export.xlsx")
@console_login_required
def export(meeting_code: str, survey_id: int):
    meeting = get_meeting(meeting_code)
    survey = surveys.get_survey(meeting, survey_id)
    me = current_contact()
    if surveys.export_in_job(survey):  # many responses: written by a job (issue 21.10)
        organizers.require_right(meeting, me, "votes")
        job_id = jobs.submit("survey_export", surveys.export_job, meeting.id, survey.id, me.id,
                             actor=jobs.console_actor(me.id), meeting_id=meeting.id)
        back = url_for(".summary_page", meeting_code=meeting.code, survey_id=survey.id)
        return redirect(url_for("console_people.job_page", code=meeting.code, job_id=job_id, back=back))
    data = surveys.export_xlsx(meeting, survey, actor=me)
    # Named for people, as the job's download is; send_file adds the RFC 5987 filename*.
    return send_file(BytesIO(data), as_attachment=True, download_name=surveys.export_filename(meeting, survey),
                     mimetype=XLSX_TYPE, max_age=0)
