"""/admin/<code>/meals: 用餐与乘车 at the console (issue 18): sittings with their tables and the
kitchen's diet counts, routes with their cars and manifests, the automatic plan, moving a person,
and the exports (recorded jobs, their progress on the page).

Meals and buses have the same shape (a sitting or route holds tables or cars that hold people), so
one set of views serves both, ``what`` naming which: ``sittings``/``tables`` or ``routes``/``cars``.
Reading needs ``view``; everything that writes, and the exports (the manifests carry phone
numbers), needs ``logistics``. Every form goes through ``form_action``: a refusal is shown on the
page with nothing written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, redirect, render_template, request, url_for

from app import jobs
from app.services.logistics import buses, meals
from app.services.logistics.people import roster
from app.services.timeutil import local
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting

bp = Blueprint("console_meals", __name__, url_prefix="/admin")


@dataclass(frozen=True)
class Side:
    """The services and words of meals or of buses."""

    get: Callable
    save: Callable
    delete: Callable
    add_places: Callable
    get_place: Callable
    save_place: Callable
    delete_place: Callable
    service: object
    noun: str        # 餐次 | 路线
    counted: str     # "{} 桌" | "{} 辆车"
    unplace: str     # what taking someone off says


SIDES = {
    "sittings": Side(meals.get_sitting, meals.save_sitting, meals.delete_sitting, meals.add_tables, meals.get_table,
                     meals.update_table, meals.delete_table, meals, "餐次", "{} 桌", "已取消该人员的桌位"),
    "routes": Side(buses.get_route, buses.save_route, buses.delete_route, buses.add_cars, buses.get_car,
                   buses.update_car, buses.delete_car, buses, "路线", "{} 辆车", "已取消该人员的车辆安排"),
}
PLACES = {"tables": SIDES["sittings"], "cars": SIDES["routes"]}


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


@bp.get("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>")
@console_login_required
def plan(code: str, what: str, parent_id: int):
    """One sitting's table plan or one route's manifest, and the move form."""
    meeting, me, right = load_meeting(code, "view")
    side = SIDES[what]
    view = side.service.views(meeting, [side.get(meeting, parent_id)])[0]
    places, rest = (view.tables, view.unseated) if what == "sittings" else (view.cars, view.unplaced)
    return _render("console/meals_plan.html", meeting, me, right, view=view, what=what, places=places, rest=rest)


@bp.post("/<code>/meals/<any(sittings, routes):what>")
@console_login_required
def add(code: str, what: str):
    side = SIDES[what]
    return _write(code, lambda m, actor: f"已添加{side.noun}“{side.save(m, request.form, actor=actor).name}”")


@bp.post("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>/save")
@console_login_required
def save(code: str, what: str, parent_id: int):
    side = SIDES[what]

    def action(m, actor):  # save_sitting(..., sitting=…) or save_route(..., route=…)
        return f"已保存{side.noun}“{side.save(m, request.form, actor=actor, **{what[:-1]: side.get(m, parent_id)}).name}”"

    return _write(code, action)


@bp.post("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>/delete")
@console_login_required
def delete(code: str, what: str, parent_id: int):
    side = SIDES[what]
    return _write(code, lambda m, actor: side.delete(m, side.get(m, parent_id), actor=actor) or f"已删除{side.noun}")


@bp.post("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>/places")
@console_login_required
def add_places(code: str, what: str, parent_id: int):
    side = SIDES[what]

    def action(m, actor):
        return "已添加 " + side.counted.format(len(side.add_places(m, side.get(m, parent_id), request.form,
                                                                  actor=actor)))

    return _write(code, action)


@bp.post("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>/assign")
@console_login_required
def assign(code: str, what: str, parent_id: int):
    side = SIDES[what]
    return _write(code, lambda m, actor: _summary(side.service.auto_assign(
        m, side.get(m, parent_id), actor=actor, replace=request.form.get("replace") == "1")))


@bp.post("/<code>/meals/<any(sittings, routes):what>/<int:parent_id>/move")
@console_login_required
def move(code: str, what: str, parent_id: int):
    side = SIDES[what]

    def action(m, actor):
        label = side.service.move(m, side.get(m, parent_id), request.form.get("contact_id"),
                                  request.form.get("place_id"), actor=actor)
        return f"已调整到“{label}”" if label else side.unplace

    return _write(code, action, url_for(".plan", code=code, what=what, parent_id=parent_id))


@bp.post("/<code>/meals/<any(tables, cars):what>/<int:place_id>")
@console_login_required
def save_place(code: str, what: str, place_id: int):
    side = PLACES[what]

    def action(m, actor):
        return f"已保存“{side.save_place(m, side.get_place(m, place_id), request.form, actor=actor).label}”"

    return _write(code, action)


@bp.post("/<code>/meals/<any(tables, cars):what>/<int:place_id>/delete")
@console_login_required
def delete_place(code: str, what: str, place_id: int):
    side = PLACES[what]
    return _write(code, lambda m, actor: side.delete_place(m, side.get_place(m, place_id), actor=actor)
                  or "已删除，原在此处的人员待重新安排")


@bp.post("/<code>/meals/export/<any(meals, buses):what>")
@console_login_required
def export(code: str, what: str):
    """用餐统计 or 乘车名单 as a recorded job; the page shows its progress and offers the file."""
    meeting, me, _right = load_meeting(code, "logistics")
    service = meals if what == "meals" else buses
    job_id = service.submit_export(meeting, actor=actor_of(me), job_actor=jobs.console_actor(me.id))
    return redirect(url_for(".page", code=code, job=job_id) + "#export-job")
