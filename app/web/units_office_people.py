"""The unit office's view of its own people (/units/people, /units/attendance, /units/meetings): the
roster with who has bound WeChat, their attendance across meetings, and the upcoming meetings they
are invited to.

The office's unit comes from its login (``units_office.login_required``) and is the only unit any
of these views reads: the services take it as an argument and never another (the attendance
service forces it whatever unit is asked for). The directory upload stays in ``units_office``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from flask import Blueprint, g, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.attendance import export as ex
from app.services.attendance import query as att
from app.services.attendance import unit_office as svc
from app.services.attendance.query import AttendanceError
from app.services.timeutil import local
from app.tx import finish_with_error
from app.web.units_office import login_required

bp = Blueprint("units_people", __name__, url_prefix="/units")

ATTENDANCE_PER_PAGE = 100
DEFAULT_DAYS = 90


def _now() -> datetime:
    return datetime.now(UTC)


def _unit():
    return g.unit_account.unit


def _actor() -> str:
    return f"unit_account:{g.unit_account.username}"


@bp.context_processor
def _globals():
    # The office's shell (units_office/base.html) shows the account from the office's own context.
    return {"local": local, "nav": request.endpoint, "account": g.get("unit_account")}


@bp.get("/people")
@login_required
def people():
    q = (request.args.get("q") or "").strip()[:50]
    show = request.args.get("show") if request.args.get("show") in svc.ROSTER_FILTERS else ""
    found = svc.roster(_unit(), q=q, show=show, page=request.args.get("page", 1, type=int))
    return render_template("units/people.html", found=found, q=q, show=show, filters=svc.ROSTER_FILTERS)


@bp.get("/meetings")
@login_required
def meetings():
    return render_template("units/meetings.html", upcoming=svc.upcoming(_unit(), now=_now()))


@bp.get("/meetings/<code>")
@login_required
def meeting(code: str):
    q = (request.args.get("q") or "").strip()[:50]
    show = request.args.get("show") if request.args.get("show") in svc.MEETING_FILTERS else ""
    found_meeting, found = svc.meeting_people(_unit(), code, now=_now(), q=q, show=show,
                                              page=request.args.get("page", 1, type=int))
    return render_template("units/meeting.html", meeting=found_meeting, found=found, q=q, show=show,
                           filters=svc.MEETING_FILTERS)


# -- attendance across meetings, the unit's people only -----------------------------------------------
def _args() -> dict:
    today = local(_now()).date()
    sort = request.args.get("sort") or "unit"
    return {
        "from": (request.args.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()).strip()[:20],
        "to": (request.args.get("to") or today.isoformat()).strip()[:20],
        "q": (request.args.get("q") or "").strip()[:100],
        "view": "people",
        "sort": sort if sort in att.SORT_KEYS else "unit",
        "dir": "desc" if request.args.get("dir") == "desc" else "asc",
    }


def _read(args: dict) -> att.Attendance:
    filters = att.make_filters(args["from"], args["to"], q=args["q"])
    return att.attendance(att.unit_office_viewer(_unit()), filters, now=_now())


@bp.get("/attendance")
@login_required
def attendance():
    args = _args()
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.unit_office_actor(g.unit_account.id)})
    try:
        result = _read(args)
    except AttendanceError as exc:
        finish_with_error(exc)
        return render_template("units/attendance.html", args=args, error=exc.message, result=None, job=job,
                               job_state=jobs.describe), exc.status
    rows = att.sort_rows(result.people, args["sort"], desc=args["dir"] == "desc")
    shown = att.page_of(rows, request.args.get("page", 1, type=int), ATTENDANCE_PER_PAGE)
    columns = [("name", "姓名"), (None, "职务"), *[c for c in _NUMBER_COLUMNS]]
    return render_template("units/attendance.html", args=args, error=None, result=result, shown=shown,
                           columns=columns, per_page=ATTENDANCE_PER_PAGE, job=job, job_state=jobs.describe)


_NUMBER_COLUMNS = [("invited", "应邀"), ("expected", "应到"), ("attended", "出席"), ("late", "迟到"),
                   ("leave", "请假"), ("absent", "缺席"), ("rate", "出勤率")]


@bp.get("/attendance/export")
@login_required
def attendance_export():
    args = _args()
    fmt = ex.check_format(request.args.get("format", ""))
    result = _read(args)
    desc = args["dir"] == "desc"
    if ex.runs_as_job(result, fmt):
        viewer = att.unit_office_viewer(_unit())
        job_id = jobs.submit("attendance_export", ex.export_job, viewer.to_args(), result.filters.to_args(), fmt,
                             args["sort"], desc, _actor(), actor=jobs.unit_office_actor(g.unit_account.id),
                             unit_id=_unit().id)
        return redirect(url_for(".attendance", **{k: v for k, v in args.items() if v and k != "view"}, job=job_id))
    out = ex.export(result, fmt, actor=_actor(), now=_now(), sort=args["sort"], desc=desc)
    return send_file(BytesIO(out.data), as_attachment=True, download_name=out.filename, mimetype=out.content_type,
                     max_age=0)
