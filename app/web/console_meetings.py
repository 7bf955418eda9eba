"""The meeting list (/admin), creating a meeting, and a meeting's settings, state, sessions and agenda.

Every view loads the meeting through ``load_meeting`` with the action it performs: a page with
"view" (viewers and staff see it read-only), every change with "edit" (owners). The long forms
(create, settings, agenda) show a refused submission again with what was typed and the reason,
writes dropped; the short ones go back to their page with the reason flashed (``form_action``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.extensions import db
from app.services.errors import DomainError
from app.services.meetings import lifecycle, listing, organizers
from app.services.meetings import sessions as session_svc
from app.services.meetings.meetings import MeetingError
from app.services.timeutil import local, parse_local
from app.tx import finish_with_error
from app.web.auth import current_contact
from app.web.console_auth import actor_of, console_login_required, form_action, load_meeting
from models import Meeting, MeetingSession, Unit

bp = Blueprint("console_meetings", __name__, url_prefix="/admin")

#: Blank agenda rows under the filled ones, so the editor works without JavaScript.
BLANK_AGENDA_ROWS = 3


@bp.context_processor
def _labels():
    return {"presence_names": lifecycle.PRESENCE_NAMES, "admission_names": lifecycle.ADMISSION_NAMES,
            "local": local}


def _now() -> datetime:
    return datetime.now(UTC)


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _when(prefix: str, label: str, *, date_from: tuple[str, ...] = ()) -> datetime | None:
    """``<prefix>_date`` + ``<prefix>_time`` typed in China time; a blank date takes the first
    date typed among ``date_from``'s (the end's date is the start's unless told). None when
    nothing is typed.

    :raise MeetingError: ``time_invalid``.
    """
    own_day, hm = _text(f"{prefix}_date"), _text(f"{prefix}_time")
    if not own_day and not hm:
        return None
    day = next((d for d in (_text(f"{p}_date") for p in (prefix, *date_from)) if d), "")
    value = parse_local(f"{day} {hm}") if day and hm else None
    if value is None:
        raise MeetingError("time_invalid", value=f"{label} {day} {hm}".strip())
    return value


def _same_minute(typed: datetime | None, current: datetime) -> datetime | None:
    """The form shows times to the minute: a time typed back unchanged keeps its stored seconds,
    so saving an untouched form changes nothing."""
    if typed is not None and typed == current.replace(second=0, microsecond=0):
        return current
    return typed


def _resubmit(action: Callable[[], str | None], back: Callable[[], str],
              again: Callable[[DomainError], str]):
    """Like ``form_action``, but a refused form is shown again (status 422) with what was typed."""
    try:
        message = action()
    except DomainError as exc:
        if exc.status in (403, 404):
            raise
        finish_with_error(exc)
        return again(exc), 422
    if message:
        flash(message, "ok")
    return redirect(back())


# -- the list ---------------------------------------------------------------------------------------
@bp.get("")
@console_login_required
def index():
    me = current_contact()
    q = (request.args.get("q") or "").strip()[:100]
    state = request.args.get("state") or ""
    if state not in listing.STATE_FILTERS:
        state = ""
    found = listing.meetings_for(me, now=_now(), q=q, state=state, page=request.args.get("page", 1, type=int))
    return render_template("console/meetings.html", me=me, found=found, q=q, state=state,
                           units=organizers.organizing_units(me), state_filters=_STATE_FILTERS)


_STATE_FILTERS = (("", "全部（不含已归档）"), ("draft", "草稿"), ("published", "已发布"), ("closed", "已结束"),
                  ("archived", "已归档"), ("all", "全部（含已归档）"))


# -- create -----------------------------------------------------------------------------------------
@bp.route("/new", methods=["GET", "POST"])
@console_login_required
def create():
    me = current_contact()
    units = organizers.organizing_units(me)
    if not units:
        raise lifecycle.MeetingChangeError("no_organizing_unit")
    if request.method == "GET":
        return render_template("console/meeting_form.html", me=me, units=units, form={}, error=None)
    created: list[Meeting] = []

    def action():
        meeting = lifecycle.new_meeting(
            me, actor=actor_of(me), unit_code=_text("unit"), title=_text("title"),
            starts_at=_when("starts", "开始时间"), ends_at=_when("ends", "结束时间", date_from=("starts",)),
            venue=_text("venue"), intro=_text("intro"), admission=_text("admission") or "invitees",
            code=_text("code"))
        created.append(meeting)
        return f"已创建会议（草稿）：{meeting.title}。请核对设置、添加参会人员，然后发布。"

    return _resubmit(action, lambda: url_for(".settings", code=created[0].code),
                     lambda exc: render_template("console/meeting_form.html", me=me, units=units,
                                                 form=request.form, error=exc.message))


# -- settings ---------------------------------------------------------------------------------------
def _settings_page(meeting: Meeting, me, right: str, *, form=None, error: str | None = None) -> str:
    return render_template(
        "console/settings.html", meeting=meeting, me=me, right=right, tab="settings", form=form, error=error,
        my_units=organizers.organizing_units(me), all_units=db.session.scalars(select(Unit).order_by(Unit.name)).all(),
        listed={u.code for u in meeting.units}, invitees=lifecycle.invitee_count(meeting),
        transitions=[v for v, (source, _t, _w) in lifecycle.TRANSITIONS.items() if source == meeting.state],
    )


@bp.get("/<code>/settings")
@console_login_required
def settings(code: str):
    meeting, me, right = load_meeting(code, "view")
    return _settings_page(meeting, me, right)


@bp.post("/<code>/settings")
@console_login_required
def save_settings(code: str):
    meeting, me, right = load_meeting(code, "edit")

    def action():
        form = request.form
        # The page's form sends every field; the boxes and the unit list count only when it was
        # that form (a box left unticked is simply absent), so a partial post changes only what it names.
        whole = "rotating_qr_was" in form
        rotating = form.get("rotating_qr") == "1"
        # Left as it was, the screen code is the service's to decide (on when presence becomes "scan").
        touched = whole and rotating != (form.get("rotating_qr_was") == "1")
        change = lifecycle.update_settings(
            meeting, actor=actor_of(me), editor=me, title=form.get("title"),
            starts_at=_same_minute(_when("starts", "开始时间"), meeting.starts_at),
            ends_at=_same_minute(_when("ends", "结束时间", date_from=("starts",)), meeting.ends_at),
            venue=form.get("venue"), intro=form.get("intro"), unit_code=_text("unit") or None,
            admission=_text("admission") or None, listed_unit_codes=form.getlist("units") if whole else None,
            presence=_text("presence") or None,
            late_after_minutes=(_text("late_after_minutes") or "0") if "late_after_minutes" in form else None,
            rotating_qr=rotating if touched else None,
            mask_names=form.get("mask_names") == "1" if whole else None,
            sms_fallback=form.get("sms_fallback") == "1" if whole else None)
        if not change.changes:
            return "没有需要保存的修改"
        message = "已保存"
        if change.rotating_qr_auto:
            message += "；签到方式为“仅扫码”，已同时开启大屏动态二维码"
        if change.unnotified:
            message += (f"。注意：会议{'、'.join(change.unnotified)}已变更，系统不会自动通知参会人员，"
                        "请另行告知")
        return message

    return _resubmit(action, lambda: url_for(".settings", code=code),
                     lambda exc: _settings_page(meeting, me, right, form=request.form, error=exc.message))


@bp.post("/<code>/state/<any(publish, close, archive, reopen, close_signin):verb>")
@console_login_required
def change_state(code: str, verb: str):
    meeting, me, _right = load_meeting(code, "edit")

    def action():
        if verb == "close_signin":
            closed = lifecycle.close_signin(meeting, actor=actor_of(me), now=_now())
            return f"已截止签到（{len(closed)} 个场次）" if closed else "各场次签到均已截止"
        lifecycle.transition(meeting, verb, actor=actor_of(me))
        return {"publish": "会议已发布，参会人员可以查看会议并签到",
                "close": "会议已结束，不再接受签到",
                "archive": "会议已归档，会议列表中默认不再显示",
                "reopen": "会议已重新开放"}[verb]

    return form_action(action, url_for(".settings", code=code))


@bp.post("/<code>/screen-link")
@console_login_required
def replace_screen_link(code: str):
    meeting, me, _right = load_meeting(code, "edit")

    def action():
        lifecycle.replace_screen_link(meeting, actor=actor_of(me))
        return "已更换大屏链接：旧链接立即失效，请在投影电脑上打开新链接"

    return form_action(action, url_for("console.page", code=code))


# -- copy -------------------------------------------------------------------------------------------
@bp.route("/<code>/copy", methods=["GET", "POST"])
@console_login_required
def copy(code: str):
    source, me, right = load_meeting(code, "edit")
    units = organizers.organizing_units(me)
    if not units:
        raise lifecycle.MeetingChangeError("no_organizing_unit")

    def page(form, error=None):
        return render_template("console/meeting_form.html", me=me, units=units, form=form, error=error,
                               source=source, invitees=lifecycle.invitee_count(source))

    if request.method == "GET":
        return page({"starts_time": local(source.starts_at).strftime("%H:%M"),
                     "unit": source.organizing_unit.code if source.organizing_unit else ""})
    created: list[Meeting] = []

    def action():
        starts_at = _when("starts", "开始时间")
        if starts_at is None:
            raise lifecycle.MeetingChangeError("time_missing", field="新会议的开始时间")
        meeting = lifecycle.copy_meeting(source, actor=actor_of(me), editor=me, starts_at=starts_at,
                                         unit_code=_text("unit"), with_invitees=request.form.get("with_invitees") == "1",
                                         code=_text("code"))
        created.append(meeting)
        return f"已复制为新的草稿：{meeting.title}。请核对时间、场次和参会人员后发布。"

    return _resubmit(action, lambda: url_for(".settings", code=created[0].code),
                     lambda exc: page(request.form, exc.message))


# -- sessions and agenda ----------------------------------------------------------------------------
def _sessions_page(meeting: Meeting, me, right: str, *, agenda=None, error: str | None = None) -> str:
    rows = agenda if agenda is not None else list(meeting.agenda or [])
    return render_template(
        "console/sessions.html", meeting=meeting, me=me, right=right, tab="sessions", error=error,
        agenda_rows=rows + [{} for _ in range(BLANK_AGENDA_ROWS)],
        signins=session_svc.signin_counts(meeting), next_position=session_svc.next_position(meeting),
        default_lead_hours=int(session_svc.DEFAULT_SIGNIN_LEAD / timedelta(hours=1)),
    )


@bp.get("/<code>/sessions")
@console_login_required
def sessions(code: str):
    meeting, me, right = load_meeting(code, "view")
    return _sessions_page(meeting, me, right)


def _session_fields(current: MeetingSession | None = None) -> dict:
    fields = {"title": _text("title"), "starts_at": _when("starts", "开始时间"),
              "ends_at": _when("ends", "结束时间", date_from=("starts",)),
              "signin_opens_at": _when("opens", "签到开始时间", date_from=("starts",)),
              "signin_closes_at": _when("closes", "签到截止时间", date_from=("ends", "starts"))}
    if current is not None:
        fields = {k: _same_minute(v, getattr(current, k)) if k != "title" else v for k, v in fields.items()}
    return fields


@bp.post("/<code>/sessions")
@console_login_required
def add_session(code: str):
    meeting, me, _right = load_meeting(code, "edit")

    def action():
        s = session_svc.add_session(meeting, actor=actor_of(me), **_session_fields())
        return f"已添加第 {s.position} 场：{s.title}"

    return form_action(action, url_for(".sessions", code=code))


@bp.post("/<code>/sessions/<int:position>")
@console_login_required
def update_session(code: str, position: int):
    meeting, me, _right = load_meeting(code, "edit")

    def action():
        current = session_svc.get_session_at(meeting, position)
        s = session_svc.update_session(meeting, position, actor=actor_of(me), **_session_fields(current))
        return f"已保存第 {s.position} 场：{s.title}"

    return form_action(action, url_for(".sessions", code=code))


@bp.post("/<code>/sessions/<int:position>/remove")
@console_login_required
def remove_session(code: str, position: int):
    meeting, me, _right = load_meeting(code, "edit")

    def action():
        session_svc.remove_session(meeting, position, actor=actor_of(me))
        return f"已删除第 {position} 场（该场次的签到码随之失效）"

    return form_action(action, url_for(".sessions", code=code))


@bp.post("/<code>/agenda")
@console_login_required
def save_agenda(code: str):
    meeting, me, right = load_meeting(code, "edit")
    columns = {key: request.form.getlist(key) for key in session_svc.AGENDA_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    rows = [{key: (values[i] if i < len(values) else "") for key, values in columns.items()} for i in range(count)]

    def action():
        agenda = session_svc.set_agenda(meeting, rows, actor=actor_of(me))
        return f"议程已保存（{len(agenda)} 项）"

    return _resubmit(action, lambda: url_for(".sessions", code=code) + "#agenda",
                     lambda exc: _sessions_page(meeting, me, right, agenda=rows, error=exc.message))
