"""The exceptions at the door (guests, walk-ins, unbinding, leave) and the meeting's log.

The door page is for staff at the sign-in desk, often on a phone: every action is a plain form
(post/redirect/get through ``form_action``), back to the section it came from. The log page is
read-only and open to every right.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for

from app.services.meetings import leaves
from app.services.meetings import log as meeting_log
from app.services.signin import door
from app.services.signin.rules import get_session
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from models import InviteeRole

bp = Blueprint("console_door", __name__, url_prefix="/admin")


def _session(meeting):
    return get_session(meeting, request.values.get("s", type=int))


def _back(meeting, session, anchor: str, **params) -> str:
    return url_for(".page", code=meeting.code, s=session.position, **params) + f"#{anchor}"


def _signed(name: str, outcome) -> str:
    if outcome.created:
        return f"{name} 已签到（第 {outcome.seq} 位）"
    return f"{name} 此前已签到（第 {outcome.seq} 位），无需重复签到"


@bp.get("/<code>/door")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "door")
    session = _session(meeting)
    query = (request.args.get("q") or "").strip()[:32]
    return render_template(
        "console/door.html", meeting=meeting, me=me, right=right, tab="door", session=session,
        walk_ins=door.pending_walk_ins(meeting), leaves=leaves.leaves_of(meeting),
        people=leaves.expected_people(meeting), query=query,
        found=door.find_people(meeting, query) if query else [], roles=list(InviteeRole),
        default_role=door.GUEST_DEFAULT_ROLE, mask_phone=door.mask_phone)


@bp.post("/<code>/door/guest")
@console_login_required
def guest(code: str):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)
    form = request.form

    def action():
        done = door.add_guest(meeting, session, name=form.get("name", ""), phone=form.get("phone", ""),
                              unit_text=form.get("unit_text", ""), role=form.get("role", ""),
                              note=form.get("note", ""), actor=me)
        message = _signed(done.contact.name, done.signin)
        return f"{done.existing}。{message}" if done.existing else message

    return form_action(action, _back(meeting, session, "guest"))


@bp.post("/<code>/door/walk-ins/<int:invitee_id>/approve")
@console_login_required
def approve(code: str, invitee_id: int):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)

    def action():
        outcome = door.approve_walk_in(meeting, session, invitee_id, actor=me, note=request.form.get("note", ""))
        return "已通过。" + _signed(outcome.record.contact.name, outcome)

    return form_action(action, _back(meeting, session, "walk-ins"))


@bp.post("/<code>/door/walk-ins/<int:invitee_id>/refuse")
@console_login_required
def refuse(code: str, invitee_id: int):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)

    def action():
        invitee = door.refuse_walk_in(meeting, invitee_id, actor=me, reason=request.form.get("reason", ""))
        return f"已拒绝 {invitee.contact.name} 的签到申请"

    return form_action(action, _back(meeting, session, "walk-ins"))


@bp.post("/<code>/door/unbind")
@console_login_required
def unbind(code: str):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)
    form = request.form

    def action():
        contact = door.unbind_person(meeting, form.get("contact_id"), actor=me, reason=form.get("reason", ""),
                                     confirmed=form.get("confirmed") == "1")
        return f"已解除 {contact.name} 的微信绑定。请本人用新微信重新扫码，按提示填写单位、姓名和手机号即可绑定"

    return form_action(action, _back(meeting, session, "unbind", q=(form.get("q") or "")[:32]))


@bp.post("/<code>/door/leave")
@console_login_required
def leave(code: str):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)
    form = request.form

    def action():
        contact = leaves.person(form.get("contact_id"))
        leaves.record_leave(meeting, contact, reason=form.get("reason", ""), approver=form.get("approver", ""),
                            actor=actor_of(me))
        return f"已登记 {contact.name} 请假"

    return form_action(action, _back(meeting, session, "leave"))


@bp.post("/<code>/door/leave/<int:contact_id>/cancel")
@console_login_required
def cancel_leave(code: str, contact_id: int):
    meeting, me, _right = load_meeting(code, "door")
    session = _session(meeting)

    def action():
        contact = leaves.person(contact_id)
        leaves.cancel_leave(meeting, contact, actor=actor_of(me))
        return f"已取消 {contact.name} 的请假"

    return form_action(action, _back(meeting, session, "leave"))


@bp.get("/<code>/log")
@console_login_required
def log(code: str):
    meeting, me, right = load_meeting(code, "view")
    args = request.args
    prefix, actor, reason = args.get("action", ""), args.get("actor", ""), args.get("reason", "")
    audit = meeting_log.audit_page(meeting, page=args.get("page", 1, type=int), prefix=prefix, actor=actor)
    denials = meeting_log.denials_page(meeting, page=args.get("dpage", 1, type=int), reason=reason)
    prefixes, actors = meeting_log.audit_filters(meeting)
    current = {"action": prefix, "actor": actor, "reason": reason, "page": audit.page, "dpage": denials.page}

    def log_url(anchor: str, **changes) -> str:
        """This page with ``changes`` to its filters and pages (empty ones left out)."""
        params = {k: v for k, v in {**current, **changes}.items() if v not in ("", None, 1)}
        return url_for(".log", code=meeting.code, **params) + f"#{anchor}"

    return render_template(
        "console/log.html", meeting=meeting, me=me, right=right, tab="log", audit=audit, denials=denials,
        prefixes=prefixes, actors=actors, reasons=meeting_log.denial_reasons(meeting), prefix=prefix, actor=actor,
        reason=reason, when=meeting_log.when, log_url=log_url)
