"""/admin/system: the system administrators' page — units, their office accounts, who organizes
for each unit, and the administrators themselves. Every action checks ``grants.require_admin``."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from sqlalchemy import func, select

from app.extensions import db
from app.services.contacts import units as unit_svc
from app.services.meetings import grants
from app.web.auth import current_contact
from app.web.console_auth import actor_of, console_login_required, form_action
from models import Contact, Unit, UnitAccount

bp = Blueprint("console_system", __name__, url_prefix="/admin/system")


def _admin():
    me = current_contact()
    grants.require_admin(me)
    return me


@bp.get("")
@console_login_required
def page():
    me = _admin()
    units = db.session.execute(
        select(Unit, func.count(Contact.id)).outerjoin(Contact, (Contact.unit_id == Unit.id) & Contact.active)
        .group_by(Unit.id).order_by(Unit.name)
    ).all()
    accounts = db.session.execute(select(UnitAccount.unit_id, UnitAccount.username).order_by(UnitAccount.username)).all()
    by_unit: dict[int, list[str]] = {}
    for unit_id, username in accounts:
        by_unit.setdefault(unit_id, []).append(username)
    return render_template("console/system.html", me=me, units=units, accounts=by_unit,
                           organizers=grants.unit_organizers(), admins=grants.system_admins())


def _form(name: str) -> str:
    return (request.form.get(name) or "").strip()


@bp.post("/units")
@console_login_required
def add_unit():
    me = _admin()
    return form_action(lambda: "已添加单位：" + unit_svc.add_unit(
        _form("code"), _form("name"), actor=actor_of(me),
        aliases=[a for a in _form("aliases").replace("，", ",").split(",") if a.strip()]).name,
        url_for("console_system.page"))


@bp.post("/accounts")
@console_login_required
def add_account():
    me = _admin()
    return form_action(lambda: "已创建登录账号：" + unit_svc.add_unit_account(
        unit_svc.get_unit(_form("unit")), _form("username"), request.form.get("password") or "",
        actor=actor_of(me)).username, url_for("console_system.page"))


@bp.post("/organizers")
@console_login_required
def add_organizer():
    me = _admin()

    def action():
        unit, contact, created = grants.add_unit_organizer(_form("unit"), _form("phone"), actor=actor_of(me))
        return f"{contact.name} 可以组织 {unit.name} 的会议" + ("" if created else "（原已授权）")

    return form_action(action, url_for("console_system.page"))


@bp.post("/organizers/remove")
@console_login_required
def remove_organizer():
    me = _admin()

    def action():
        unit, contact = grants.remove_unit_organizer(_form("unit"), _form("phone"), actor=actor_of(me))
        return f"已取消 {contact.name} 组织 {unit.name} 会议的权限"

    return form_action(action, url_for("console_system.page"))


@bp.post("/admins")
@console_login_required
def add_admin():
    me = _admin()
    return form_action(lambda: grants.add_system_admin(_form("phone"), actor=actor_of(me))[0].name + " 已是系统管理员",
                       url_for("console_system.page"))


@bp.post("/admins/remove")
@console_login_required
def remove_admin():
    me = _admin()
    return form_action(lambda: "已取消 " + grants.remove_system_admin(_form("phone"), actor=actor_of(me)).name
                       + " 的系统管理员身份", url_for("console_system.page"))
