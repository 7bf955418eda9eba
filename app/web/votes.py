"""Vote pages: attendees vote on the H5 meeting page; organizers create, run and export votes.

Attendees: ``/m/<code>/votes`` (open and finished votes), ``/m/<code>/votes/<id>`` (the ballot),
``/m/<code>/votes/<id>/results`` (when the vote allows). Organizers: ``/admin/<code>/votes`` and
``/admin/<code>/votes/<id>`` (live bars polling ``results.json``, open/close, big screen, xlsx).
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from types import SimpleNamespace

from flask import Blueprint, jsonify, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.exports import XLSX_TYPE
from app.services.meetings.meetings import get_meeting
from app.services.meetings.visibility import participating_meeting
from app.services.timeutil import parse_local
from app.services.votes import results as vote_results
from app.services.votes import rules as vote_rules
from app.services.votes import votes
from app.services.votes.rules import VoteError
from app.tx import finish_with_error
from app.web.auth import current_contact, session_identity_id, wechat_login_required
from app.web.console_auth import console_login_required, load_meeting
from models import InviteeRole

bp = Blueprint("votes", __name__)

#: Headline and explanation for each refused ballot (the service's message is the explanation
#: where it already says more than the headline).
REFUSALS = {
    "already_voted": ("您已投票", "每人只能投一次，您之前的选择已记录。"),
    "vote_closed": ("投票已结束", "投票已截止，本次选择未被记录。"),
    "not_eligible": ("您不在本次投票范围内", "如有疑问请联系会务组。"),
    "vote_not_open": ("投票尚未开始", "请等待会务组开启投票后再试。"),
    "busy": ("系统繁忙", "系统繁忙，请稍后重试；稍后刷新页面可查看投票是否已记录。"),
}


@bp.context_processor
def page_globals():
    """The vote labels; the survey pages (surveys.py) share them."""
    return {"kind_labels": vote_rules.KIND_LABELS, "state_labels": vote_rules.STATE_LABELS,
            "state_of": vote_rules.effective_state, "pass_rule": vote_results.PASS_RULE}


def _message(meeting, title: str, message: str, *, ok: bool = False, status: int = 200, vote=None, links=()):
    return render_template("votes/message.html", meeting=meeting, title=title, message=message, ok=ok,
                           vote=vote, links=links), status


# -- attendees -------------------------------------------------------------------------------------
@bp.get("/m/<meeting_code>/votes")
@wechat_login_required
def attendee_list(meeting_code: str):
    contact = current_contact()
    meeting = participating_meeting(meeting_code, contact)
    items = [(v, contact is not None and votes.has_voted(v, contact)) for v in votes.visible_votes(meeting)]
    return render_template("votes/list.html", meeting=meeting, items=items, contact=contact)


@bp.get("/m/<meeting_code>/votes/<int:vote_id>")
@wechat_login_required
def ballot_page(meeting_code: str, vote_id: int):
    contact = current_contact()
    if contact is None:
        return redirect(url_for("attendee.signin_page", meeting_code=meeting_code))
    meeting = participating_meeting(meeting_code, contact)
    vote = votes.get_vote(meeting, vote_id)
    return render_template("votes/ballot.html", meeting=meeting, vote=vote, state=vote_rules.effective_state(vote),
                           voted=votes.has_voted(vote, contact),
                           can_see=votes.results_visible(vote, is_organizer=False))


@bp.post("/m/<meeting_code>/votes/<int:vote_id>")
@wechat_login_required(load=False)
def cast(meeting_code: str, vote_id: int):
    # The busiest page of a vote reads no database in its request thread: the ballot's batch reads
    # the voter (the identity in the session cookie), the meeting and the vote (the receipt carries
    # them); the view loads the meeting and vote itself only to explain a refusal.
    try:
        receipt = votes.cast_ballot_in(meeting_code, vote_id, session_identity_id(), request.form.getlist("option"))
    except VoteError as exc:
        finish_with_error(exc)
        if exc.code == "voter_unknown":
            return redirect(url_for("attendee.signin_page", meeting_code=meeting_code))
        if exc.code == "busy":  # the database may be down: the page is made without reading it
            title, detail = REFUSALS["busy"]
            page, status = _message(SimpleNamespace(code=meeting_code, title="投票"), title, detail,
                                    status=exc.status, links=_back(SimpleNamespace(code=meeting_code)))
            return page, status, {"Retry-After": "5"}
        meeting = get_meeting(meeting_code)
        vote = votes.get_vote(meeting, vote_id)
        title, detail = REFUSALS.get(exc.code, ("投票未成功", exc.message))
        return _message(meeting, title, detail, status=exc.status, vote=vote, links=_back(meeting))
    meeting, vote = receipt.meeting, receipt.vote
    return _voted_page(request.script_root, meeting.code, meeting.title, vote.id, vote.title,
                       votes.results_visible(vote, is_organizer=False))


@lru_cache(maxsize=256)
def _voted_page(_script_root: str, meeting_code: str, meeting_title: str, vote_id: int, vote_title: str,
                results_link: bool) -> str:
    """The "投票成功" page: the same for every voter of a vote (nothing personal on it), so a burst of
    ballots renders it once per process; keyed by everything it shows."""
    meeting = SimpleNamespace(code=meeting_code, title=meeting_title)
    links = _back(meeting)
    if results_link:
        links.insert(0, ("查看结果", url_for(".attendee_results", meeting_code=meeting_code, vote_id=vote_id)))
    return _message(meeting, "投票成功", "您的选择已记录，感谢参与。", ok=True,
                    vote=SimpleNamespace(id=vote_id, title=vote_title), links=links)[0]


def _back(meeting) -> list[tuple[str, str]]:
    return [("返回投票列表", url_for(".attendee_list", meeting_code=meeting.code))]


@bp.get("/m/<meeting_code>/votes/<int:vote_id>/results")
@wechat_login_required
def attendee_results(meeting_code: str, vote_id: int):
    meeting = participating_meeting(meeting_code, current_contact())
    vote = votes.get_vote(meeting, vote_id)
    if not votes.results_visible(vote, is_organizer=False):
        return _message(meeting, "结果暂不公开", VoteError("results_hidden").message, status=403, vote=vote)
    return render_template("votes/results.html", meeting=meeting, vote=vote, res=vote_results.results(vote),
                           poll_url=url_for(".attendee_results_json", meeting_code=meeting.code, vote_id=vote.id))


@bp.get("/m/<meeting_code>/votes/<int:vote_id>/results.json")
@wechat_login_required
def attendee_results_json(meeting_code: str, vote_id: int):
    meeting = participating_meeting(meeting_code, current_contact())
    vote = votes.get_vote(meeting, vote_id)
    if not votes.results_visible(vote, is_organizer=False):
        raise VoteError("results_hidden")
    return jsonify(vote_results.results(vote).to_dict())


# -- organizers ------------------------------------------------------------------------------------
@bp.get("/admin/<meeting_code>/votes")
@console_login_required
def admin_list(meeting_code: str):
    meeting, me, right = load_meeting(meeting_code, "view")
    return _admin_list(meeting, me, right)


def _admin_list(meeting, me, right: str, error: str | None = None, status: int = 200):
    return render_template("votes/admin_list.html", meeting=meeting, me=me, right=right,
                           items=votes.list_votes(meeting), roles=[r.value for r in InviteeRole], error=error,
                           form=request.form), status


@bp.post("/admin/<meeting_code>/votes")
@console_login_required
def admin_create(meeting_code: str):
    meeting, me, right = load_meeting(meeting_code, "votes")
    f = request.form
    try:
        vote = votes.create_vote(
            meeting, actor=me, title=f.get("title", ""), kind=f.get("kind", "single"),
            options=f.get("options", "").splitlines(), min_choices=f.get("min_choices", 1, type=int),
            max_choices=f.get("max_choices", 1, type=int), anonymous=f.get("anonymous") == "1",
            eligibility=f.get("eligibility", "signed_in"), eligible_roles=f.getlist("eligible_roles"),
            eligible_groups=f.get("eligible_groups", "").replace("，", ",").split(","),
            results_visibility=f.get("results_visibility", "after_close"),
            opens_at=parse_local(f.get("opens_at", "")), closes_at=parse_local(f.get("closes_at", "")))
    except VoteError as exc:
        finish_with_error(exc)
        return _admin_list(meeting, me, right, exc.message, exc.status)
    return redirect(url_for(".admin_vote", meeting_code=meeting.code, vote_id=vote.id))


@bp.get("/admin/<meeting_code>/votes/<int:vote_id>")
@console_login_required
def admin_vote(meeting_code: str, vote_id: int):
    meeting, me, right = load_meeting(meeting_code, "view")
    vote = votes.get_vote(meeting, vote_id)
    return render_template("votes/admin_vote.html", meeting=meeting, me=me, right=right, vote=vote,
                           res=vote_results.results(vote),
                           on_screen=meeting.screen_mode == f"vote:{vote.id}",
                           poll_url=url_for(".admin_results_json", meeting_code=meeting.code, vote_id=vote.id))


@bp.get("/admin/<meeting_code>/votes/<int:vote_id>/results.json")
@console_login_required
def admin_results_json(meeting_code: str, vote_id: int):
    meeting, _me, _right = load_meeting(meeting_code, "view")
    return jsonify(vote_results.results(votes.get_vote(meeting, vote_id)).to_dict())


@bp.post("/admin/<meeting_code>/votes/<int:vote_id>/<any(open, close):action>")
@console_login_required
def admin_state(meeting_code: str, vote_id: int, action: str):
    meeting, me, _right = load_meeting(meeting_code, "votes")
    vote = votes.get_vote(meeting, vote_id)
    (votes.open_vote if action == "open" else votes.close_vote)(meeting, vote, actor=me)
    return redirect(url_for(".admin_vote", meeting_code=meeting.code, vote_id=vote.id))


@bp.post("/admin/<meeting_code>/votes/<int:vote_id>/screen")
@console_login_required
def admin_screen(meeting_code: str, vote_id: int):
    meeting, me, _right = load_meeting(meeting_code, "votes")
    vote = votes.get_vote(meeting, vote_id)
    votes.show_on_screen(meeting, vote if request.form.get("on") == "1" else None, actor=me)
    return redirect(url_for(".admin_vote", meeting_code=meeting.code, vote_id=vote.id))


@bp.get("/admin/<meeting_code>/votes/<int:vote_id>/export.xlsx")
@console_login_required
def admin_export(meeting_code: str, vote_id: int):
    meeting, me, _right = load_meeting(meeting_code, "votes")
    vote = votes.get_vote(meeting, vote_id)
    if vote_results.export_in_job(vote):  # a large named vote: written by a job (issue 21.10)
        job_id = jobs.submit("vote_export", vote_results.export_job, meeting.id, vote.id, me.id,
                             actor=jobs.console_actor(me.id), meeting_id=meeting.id)
        back = url_for(".admin_vote", meeting_code=meeting.code, vote_id=vote.id)
        return redirect(url_for("console_people.job_page", code=meeting.code, job_id=job_id, back=back))
    data = vote_results.export_xlsx(meeting, vote, actor=me)
    # Named for people, as the job's download is; send_file adds the RFC 5987 filename*.
    return send_file(BytesIO(data), as_attachment=True, download_name=vote_results.export_filename(meeting, vote),
                     mimetype=XLSX_TYPE, max_age=0)
