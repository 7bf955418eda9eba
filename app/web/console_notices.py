"""/admin/<code>/notices: 会议通知 and 保密提醒 at the console: write (from the generated text), pick
who gets it, send, then follow who has read, confirmed, asked for leave (approve or refuse), and
remind the rest. Every action is a plain form (post/redirect/get through ``form_action``)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from app import jobs
from app.extensions import db
from app.services.notify import deliveries, sms
from app.services.notify import notices as svc
from app.web.console_auth import console_login_required, form_action, load_meeting
from models import Contact

bp = Blueprint("console_notices", __name__, url_prefix="/admin")
STATE_FILTERS = {"": "全部", "unanswered": "未回复", "attend": "确认参加", "leave": "请假"}


def _audience_from_form() -> dict:
    form = request.form
    return {"all": form.get("all") == "1", "units": form.getlist("units"), "roles": form.getlist("roles"),
            "groups": form.getlist("groups"), "people": form.getlist("people")}


def _options() -> dict:
    form = request.form
    return {"ask_reply": form.get("ask_reply") == "1", "sms_fallback": form.get("sms_fallback") == "1"}


@bp.get("/<code>/notices")
@console_login_required
def index(code: str):
    meeting, me, right = load_meeting(code, "notices")
    rows = [(n, svc.counts(n)) for n in svc.notices_of(meeting)]
    return render_template("console/notices.html", meeting=meeting, me=me, right=right, tab="notices", rows=rows,
                           kinds=svc.KINDS)


@bp.get("/<code>/notices/new")
@console_login_required
def new(code: str):
    meeting, me, right = load_meeting(code, "notices")
    kind = request.args.get("kind") if request.args.get("kind") in svc.KINDS else "notice"
    draft = svc.draft_for(meeting, kind)
    return render_template("console/notice.html", meeting=meeting, me=me, right=right, tab="notices", notice=None,
                           kind=kind, draft=draft, options=svc.audience_options(meeting), audience={"all": True},
                           sms=_sms_state())


@bp.post("/<code>/notices")
@console_login_required
def create(code: str):
    meeting, me, _right = load_meeting(code, "notices")
    created = {}

    def action():
        notice = svc.create(meeting, title=request.form.get("title", ""), body=request.form.get("body", ""),
                            audience=_audience_from_form(), actor=me, kind=request.form.get("kind", "notice"),
                            **_options())
        created["id"] = notice.id
        return "通知已保存为草稿，请核对发送范围后发送"

    response = form_action(action, url_for(".new", code=code, kind=request.form.get("kind", "notice")))
    return redirect(url_for(".detail", code=code, notice_id=created["id"])) if created else response


@bp.get("/<code>/notices/<int:notice_id>")
@console_login_required
def detail(code: str, notice_id: int):
    meeting, me, right = load_meeting(code, "notices")
    notice = svc.get_notice(meeting, notice_id)
    state = request.args.get("state") if request.args.get("state") in STATE_FILTERS else ""
    audience = svc.Audience.parse(notice.audience)
    job = (jobs.latest_job(deliveries.JOB_KIND, [notice.id, notice.rounds], meeting_id=meeting.id)
           if notice.rounds else None)
    return render_template(
        "console/notice.html", meeting=meeting, me=me, right=right, tab="notices", notice=notice, kind=notice.kind,
        draft={"title": notice.title, "body": notice.body}, audience=notice.audience,
        options=svc.audience_options(meeting) if notice.status == "draft" else None,
        will_reach=len(svc.resolve(meeting, audience)) if notice.status == "draft" else None,
        counts=svc.counts(notice), rows=svc.recipient_rows(notice, state or None) if notice.status == "sent" else [],
        state=state, state_filters=STATE_FILTERS, job=job, sms=_sms_state(),
        pending_leaves=svc.recipient_rows(notice, "leave") if notice.status == "sent" else [])


def _on_notice(code: str, notice_id: int, act, anchor: str = ""):
    """A form on one notice: ``act(notice, meeting, me)`` returns the message; back to the notice."""
    meeting, me, _right = load_meeting(code, "notices")
    notice = svc.get_notice(meeting, notice_id)
    return form_action(lambda: act(notice, meeting, me),
                       url_for(".detail", code=code, notice_id=notice_id) + anchor)


@bp.post("/<code>/notices/<int:notice_id>/edit")
@console_login_required
def edit(code: str, notice_id: int):
    def act(notice, _meeting, me):
        svc.update(notice, title=request.form.get("title", ""), body=request.form.get("body", ""),
                   audience=_audience_from_form(), actor=me, **_options())
        return "已保存"

    return _on_notice(code, notice_id, act)


@bp.post("/<code>/notices/<int:notice_id>/send")
@console_login_required
def send(code: str, notice_id: int):
    def act(notice, meeting, me):
        return f"已提交发送，共 {svc.send(notice, meeting, actor=me)} 人；发送进度与结果见本页"

    return _on_notice(code, notice_id, act)


@bp.post("/<code>/notices/<int:notice_id>/remind")
@console_login_required
def remind(code: str, notice_id: int):
    def act(notice, meeting, me):
        return f"已提交提醒，向 {svc.remind_unanswered(notice, meeting, actor=me)} 位未回复的人员再次发送"

    return _on_notice(code, notice_id, act)


@bp.post("/<code>/notices/<int:notice_id>/leave/<int:recipient_id>")
@console_login_required
def decide(code: str, notice_id: int, recipient_id: int):
    approve = request.form.get("decision") == "approve"

    def act(notice, meeting, me):
        recipient = svc.decide_leave(notice, meeting, recipient_id, approve=approve,
                                     note=request.form.get("note", ""), actor=me)
        name = recipient_name(recipient)
        return f"已批准 {name} 请假，其不再计入应到" if approve else f"已不批准 {name} 的请假"

    return _on_notice(code, notice_id, act, "#leaves")


def recipient_name(recipient) -> str:
    return db.session.get(Contact, recipient.contact_id).name


def _sms_state() -> dict:
    return {"configured": sms.configured()}
