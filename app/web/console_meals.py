"""/admin/<code>/meals: 用餐与乘车 at the console (issue 18): sittings with their tables and the
kitchen's diet counts, routes with their cars and manifests, the automatic plan, moving a person,
and the exports (recorded jobs, their progress on the page).

Reading needs ``view``; everything that writes, and the exports (the manifests carry phone
numbers), needs ``logistics``. Every form goes through ``form_action``: a refusal is shown on the
page with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, redirect, render_template, request, url_for

from app import jobs
from app.services.logistics import buses, meals
from app.services.logistics.people import roster
from app.services.timeutil import local
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting

bp = Blueprint("console_meals", __name__, url_prefix="/admin")


def _render(template: str, meeting, me, right, **extra):
    return render_template(template, meeting=meeting, me=me, right=right, tab="logistics", subtab="meals",
                           day_of=lambda at: f"{local(at):%Y-%m-%d}", **extra)


def _write(code: str, action: Callable, back: str | None = None):
    """A logistics form: ``action(meeting, actor)`` returns the message shown after it."""
    meeting, me, _right = load_meeting(code, "logistics")
    return form_action(lambda: action(meeting, actor_of(me)), back or url_for(".page", code=code))


def _summary(result) -> str:
    text = f"已安排 {result.placed} 人" + (f"（保留原有 {result.kept} 人）" if result.kept else "")
    return text + (f"；{len(result.unplaced)} 人未能安排：{result.unplaced[0].reason}" if result.unplaced else "")


@bp.get("/<code>/meals")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    people = roster(meeting.id)
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    return _render("console/meals.html", meeting, me, right, sittings=meals.views(meeting, people=people),
                   routes=buses.views(meeting, people=people), people=len(people), job=job)


@bp.get("/<code>/meals/sittings/<int:sitting_id>")
@console_login_required
def sitting(code: str, sitting_id: int):
    meeting, me, right = load_meeting(code, "view")
    view = meals.views(meeting, [meals.get_sitting(meeting, sitting_id)])[0]
    return _render("console/meals_plan.html", meeting, me, right, view=view, kind="sitting",
                   places=view.tables, rest=view.unseated)


@bp.get("/<code>/meals/routes/<int:route_id>")
@console_login_required
def route(code: str, route_id: int):
    meeting, me, right = load_meeting(code, "view")
    view = buses.views(meeting, [buses.get_route(meeting, route_id)])[0]
    return _render("console/meals_plan.html", meeting, me, right, view=view, kind="route",
                   places=view.cars, rest=view.unplaced)


# -- meals -----------------------------------------------------------------------------------------

@bp.post("/<code>/meals/sittings")
@console_login_required
def sitting_add(code: str):
    return _write(code, lambda m, actor: f"已添加餐次“{meals.save_sitting(m, request.form, actor=actor).name}”")


@bp.post("/<code>/meals/sittings/<int:sitting_id>")
@console_login_required
def sitting_save(code: str, sitting_id: int):
    def action(m, actor):
        return f"已保存餐次“{meals.save_sitting(m, request.form, actor=actor, sitting=meals.get_sitting(m, sitting_id)).name}”"

    return _write(code, action)


@bp.post("/<code>/meals/sittings/<int:sitting_id>/delete")
@console_login_required
def sitting_delete(code: str, sitting_id: int):
    return _write(code, lambda m, actor: meals.delete_sitting(m, meals.get_sitting(m, sitting_id), actor=actor)
                  or "已删除餐次")


@bp.post("/<code>/meals/sittings/<int:sitting_id>/tables")
@console_login_required
def tables_add(code: str, sitting_id: int):
    def action(m, actor):
        return f"已添加 {len(meals.add_tables(m, meals.get_sitting(m, sitting_id), request.form, actor=actor))} 桌"

    return _write(code, action)


@bp.post("/<code>/meals/tables/<int:table_id>")
@console_login_required
def table_save(code: str, table_id: int):
    def action(m, actor):
        return f"已保存“{meals.update_table(m, meals.get_table(m, table_id), request.form, actor=actor).label}”"

    return _write(code, action)


@bp.post("/<code>/meals/tables/<int:table_id>/delete")
@console_login_required
def table_delete(code: str, table_id: int):
    return _write(code, lambda m, actor: meals.delete_table(m, meals.get_table(m, table_id), actor=actor)
                  or "已删除该桌，原在该桌的人员待重新安排")


@bp.post("/<code>/meals/sittings/<int:sitting_id>/assign")
@console_login_required
def sitting_assign(code: str, sitting_id: int):
    return _write(code, lambda m, actor: _summary(meals.auto_assign(
        m, meals.get_sitting(m, sitting_id), actor=actor, replace=request.form.get("replace") == "1")))


@bp.post("/<code>/meals/sittings/<int:sitting_id>/move")
@console_login_required
def sitting_move(code: str, sitting_id: int):
    def action(m, actor):
        label = meals.move(m, meals.get_sitting(m, sitting_id), request.form.get("contact_id"),
                           request.form.get("place_id"), actor=actor)
        return f"已调整到“{label}”" if label else "已取消该人员的桌位"

    return _write(code, action, url_for(".sitting", code=code, sitting_id=sitting_id))


# -- buses -----------------------------------------------------------------------------------------

@bp.post("/<code>/meals/routes")
@console_login_required
def route_add(code: str):
    return _write(code, lambda m, actor: f"已添加路线“{buses.save_route(m, request.form, actor=actor).name}”")


@bp.post("/<code>/meals/routes/<int:route_id>")
@console_login_required
def route_save(code: str, route_id: int):
    def action(m, actor):
        return f"已保存路线“{buses.save_route(m, request.form, actor=actor, route=buses.get_route(m, route_id)).name}”"

    return _write(code, action)


@bp.post("/<code>/meals/routes/<int:route_id>/delete")
@console_login_required
def route_delete(code: str, route_id: int):
    return _write(code, lambda m, actor: buses.delete_route(m, buses.get_route(m, route_id), actor=actor)
                  or "已删除路线")


@bp.post("/<code>/meals/routes/<int:route_id>/cars")
@console_login_required
def cars_add(code: str, route_id: int):
    def action(m, actor):
        return f"已添加 {len(buses.add_cars(m, buses.get_route(m, route_id), request.form, actor=actor))} 辆车"

    return _write(code, action)


@bp.post("/<code>/meals/cars/<int:car_id>")
@console_login_required
def car_save(code: str, car_id: int):
    def action(m, actor):
        return f"已保存“{buses.update_car(m, buses.get_car(m, car_id), request.form, actor=actor).label}”"

    return _write(code, action)


@bp.post("/<code>/meals/cars/<int:car_id>/delete")
@console_login_required
def car_delete(code: str, car_id: int):
    return _write(code, lambda m, actor: buses.delete_car(m, buses.get_car(m, car_id), actor=actor)
                  or "已删除该车，原乘该车的人员待重新安排")


@bp.post("/<code>/meals/routes/<int:route_id>/assign")
@console_login_required
def route_assign(code: str, route_id: int):
    return _write(code, lambda m, actor: _summary(buses.auto_assign(
        m, buses.get_route(m, route_id), actor=actor, replace=request.form.get("replace") == "1")))


@bp.post("/<code>/meals/routes/<int:route_id>/move")
@console_login_required
def route_move(code: str, route_id: int):
    def action(m, actor):
        label = buses.move(m, buses.get_route(m, route_id), request.form.get("contact_id"),
                           request.form.get("place_id"), actor=actor)
        return f"已调整到“{label}”" if label else "已取消该人员的车辆安排"

    return _write(code, action, url_for(".route", code=code, route_id=route_id))


@bp.post("/<code>/meals/export/<any(meals, buses):what>")
@console_login_required
def export(code: str, what: str):
    """用餐统计 or 乘车名单 as a recorded job; the page shows its progress and offers the file."""
    meeting, me, _right = load_meeting(code, "logistics")
    service = meals if what == "meals" else buses
    job_id = service.submit_export(meeting, actor=actor_of(me), job_actor=jobs.console_actor(me.id))
    return redirect(url_for(".page", code=code, job=job_id) + "#export-job")
