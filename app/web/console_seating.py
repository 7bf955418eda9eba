"""/admin/<code>/seating: the seat plans (座次) of a meeting, under the 会务安排 tab.

Everyone with a right on the meeting sees the plans and the hall (``view``); staff and owners
(``logistics``) edit plans, auto-assign, move people and export. A move is posted by the page's
script (click a person, then a seat) and answered in JSON; the forms post and come back (post /
redirect / get) with the outcome or the refusal, nothing written on a refusal. Exports run as
recorded jobs whose progress the page shows.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, url_for

from app import jobs
from app.services.logistics import seating, seating_print
from app.services.logistics.people import roster
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from app.web.errors import wants_json

bp = Blueprint("console_seating", __name__, url_prefix="/admin")


def _back(code: str, plan_id: int | None = None, anchor: str = "") -> str:
    return url_for(".page", code=code, plan=plan_id) + anchor


@bp.get("/<code>/seating")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    all_plans = seating.plans(meeting)
    wanted = request.args.get("plan", type=int)
    plan = next((p for p in all_plans if p.id == wanted), None) or seating.default_plan(meeting)
    view = reasons = None
    if plan is not None:
        view = seating.plan_view(meeting, plan, roster(meeting.id))
        reasons = seating.unseated_reasons(plan, view)
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    editing = plan if plan is not None and request.args.get("new") is None else None
    return render_template(
        "console/seating.html", meeting=meeting, me=me, right=right, tab="logistics", subtab="seating",
        plans=all_plans, plan=plan, view=view, reasons=reasons, job=job, editing=editing,
        numberings=seating.NUMBERING_LABELS, sessions=list(meeting.sessions),
        form_values=_form_values(meeting, editing),
        section_index={s["group"]: i for i, s in enumerate(plan.sections or ())} if plan is not None else {})


def _form_values(meeting, plan) -> dict[str, str]:
    if plan is None:
        return {"name": "主会场", "rows": "10", "seats_per_row": "20", "aisles": "5, 15", "numbering": "odd_right",
                "rostrum_rows": "1", "rostrum_seats": "9", "sections": "", "blocked": "", "rostrum_people": "",
                "session": "", "on_card": "1"}
    session = next((s.position for s in meeting.sessions if s.id == plan.session_id), "")
    return {"name": plan.name, "rows": str(plan.rows), "seats_per_row": str(plan.seats_per_row),
            "aisles": ", ".join(str(a) for a in plan.aisles or ()), "numbering": plan.numbering,
            "rostrum_rows": str(plan.rostrum_rows), "rostrum_seats": str(plan.rostrum_seats or ""),
            "sections": seating.sections_text(plan), "blocked": seating.blocked_text(plan),
            "rostrum_people": seating.rostrum_people_text(meeting, plan), "session": str(session),
            "on_card": "1" if plan.on_card else ""}


@bp.post("/<code>/seating/plans")
@console_login_required
def create(code: str):
    meeting, me, _right = load_meeting(code, "logistics")
    created: list[int] = []

    def action():
        plan = seating.create_plan(meeting, request.form, actor=actor_of(me))
        created.append(plan.id)
        return f"已创建座次方案“{plan.name}”"

    response = form_action(action, url_for(".page", code=code, new=1) + "#plan-form")
    if created:
        return redirect(_back(code, created[0]))
    return response


@bp.post("/<code>/seating/plans/<int:plan_id>")
@console_login_required
def update(code: str, plan_id: int):
    meeting, me, _right = load_meeting(code, "logistics")

    def action():
        plan, freed = seating.update_plan(meeting, plan_id, request.form, actor=actor_of(me))
        return f"已保存“{plan.name}”" + (f"；{freed} 人的座位已不在方案内，已取消" if freed else "")

    return form_action(action, _back(code, plan_id))


@bp.post("/<code>/seating/plans/<int:plan_id>/delete")
@console_login_required
def delete(code: str, plan_id: int):
    meeting, me, _right = load_meeting(code, "logistics")
    return form_action(lambda: f"已删除座次方案“{seating.delete_plan(meeting, plan_id, actor=actor_of(me))}”",
                       _back(code))


@bp.post("/<code>/seating/plans/<int:plan_id>/assign")
@console_login_required
def assign(code: str, plan_id: int):
    meeting, me, _right = load_meeting(code, "logistics")

    def action():
        out = seating.auto_assign(meeting, seating.get_plan(meeting, plan_id), actor=actor_of(me))
        text = f"自动排座完成：新安排 {out.placed} 人，保留手动安排 {out.kept} 人"
        if out.unseated:
            reasons: dict[str, int] = {}
            for u in out.unseated:
                reasons[u["message"]] = reasons.get(u["message"], 0) + 1
            text += "；未安排 " + "，".join(f"{n} 人（{m}）" for m, n in reasons.items())
        return text

    return form_action(action, _back(code, plan_id))


@bp.post("/<code>/seating/plans/<int:plan_id>/move")
@console_login_required
def move(code: str, plan_id: int):
    """Put a person on a seat (a seated person there swaps with them). JSON for the page's script."""
    meeting, me, _right = load_meeting(code, "logistics")

    def action():
        plan = seating.get_plan(meeting, plan_id)
        out = seating.move(meeting, plan, request.form.get("contact_id"), request.form.get("row"),
                           request.form.get("seat"), actor=actor_of(me), occupant=request.form.get("occupant", ""))
        return out

    if wants_json():
        return jsonify(ok=True, **action())  # a DomainError answers as JSON and rolls back (app/web/errors.py)
    return form_action(lambda: f"已安排到 {action()['seat']}", _back(code, plan_id))


@bp.post("/<code>/seating/plans/<int:plan_id>/unassign")
@console_login_required
def unassign(code: str, plan_id: int):
    meeting, me, _right = load_meeting(code, "logistics")

    def action():
        seating.unassign(meeting, seating.get_plan(meeting, plan_id), request.form.get("contact_id"),
                         actor=actor_of(me))
        return "已取消该人员的座位"

    if wants_json():
        action()
        return jsonify(ok=True)
    return form_action(action, _back(code, plan_id))


@bp.post("/<code>/seating/plans/<int:plan_id>/clear")
@console_login_required
def clear(code: str, plan_id: int):
    meeting, me, _right = load_meeting(code, "logistics")
    return form_action(
        lambda: f"已清空 {seating.clear(meeting, seating.get_plan(meeting, plan_id), actor=actor_of(me))} 个座位",
        _back(code, plan_id))


@bp.post("/<code>/seating/plans/<int:plan_id>/export.<any(pdf, xlsx):fmt>")
@console_login_required
def export(code: str, plan_id: int, fmt: str):
    meeting, me, _right = load_meeting(code, "logistics")
    job_id: list[int] = []

    def action():
        plan = seating.get_plan(meeting, plan_id)
        job_id.append(jobs.submit(seating_print.JOB_KIND, seating_print.export_job, meeting.id, plan.id, fmt,
                                  actor_of(me), actor=jobs.console_actor(me.id), meeting_id=meeting.id))

    response = form_action(action, _back(code, plan_id))
    if job_id:
        return redirect(url_for(".page", code=code, plan=plan_id, job=job_id[0]) + "#export-job")
    return response
