"""/admin/attendance: attendance across meetings (考勤) at the console, and its exports.

Which meetings count is the service's rule (:mod:`app.services.attendance.query`): the meetings
the organizer holds a right on, every meeting for a system administrator. The table sorts and
pages on the server (links, no script); a small export downloads at once, a large one runs as a
job whose progress the page shows.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

from flask import Blueprint, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app import jobs
from app.extensions import db
from app.services.attendance import export as ex
from app.services.attendance import query as svc
from app.services.attendance.query import AttendanceError
from app.services.errors import Forbidden
from app.services.timeutil import local
from app.tx import finish_with_error
from app.web.auth import current_contact
from app.web.console_auth import actor_of, console_login_required
from models import Contact, Job, Unit

bp = Blueprint("console_attendance", __name__, url_prefix="/admin/attendance")

PER_PAGE = 100
#: The range shown before anything is chosen: the last three months.
DEFAULT_DAYS = 90
VIEWS = {"people": "按人员", "units": "按单位", "meetings": "按会议"}
COLUMNS = {
    "people": [("name", "姓名"), ("unit", "单位"), (None, "职务")],
    "units": [("name", "单位"), (None, "人数")],
    "meetings": [("start", "日期"), ("name", "会议")],
}
NUMBER_COLUMNS = [("invited", "应邀"), ("expected", "应到"), ("attended", "出席"), ("late", "迟到"),
                  ("leave", "请假"), ("absent", "缺席"), ("rate", "出勤率")]
DEFAULT_SORT = {"people": ("unit", False), "units": ("rate", False), "meetings": ("start", False)}


def _now() -> datetime:
    return datetime.now(UTC)


def _args() -> dict:
    """The page's query, cleaned: what the form, the sort links, the pager and the export share."""
    today = local(_now()).date()
    view = request.args.get("view") if request.args.get("view") in VIEWS else "people"
    sort = request.args.get("sort") or DEFAULT_SORT[view][0]
    if sort not in svc.SORT_KEYS:
        sort = DEFAULT_SORT[view][0]
    codes = (request.args.get("meetings") or "").replace("，", ",").replace(" ", ",")
    return {
        "from": (request.args.get("from") or (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat()).strip()[:20],
        "to": (request.args.get("to") or today.isoformat()).strip()[:20],
        "unit": (request.args.get("unit") or "").strip()[:32],
        "q": (request.args.get("q") or "").strip()[:100],
        "meetings": ",".join(c for c in codes.split(",") if c.strip())[:2000],
        "view": view, "sort": sort,
        "dir": "desc" if request.args.get("dir") == "desc" else ("asc" if request.args.get("dir") else
                                                               ("desc" if DEFAULT_SORT[view][1] else "asc")),
    }


def _filters(args: dict) -> svc.Filters:
    codes = [c for c in args["meetings"].split(",") if c]
    # Meetings named by code: the dates are optional then (a series picked by hand).
    date_from, date_to = (args["from"], args["to"]) if not codes or request.args.get("from") else ("", "")
    return svc.make_filters(date_from, date_to, unit_code=args["unit"], codes=codes, q=args["q"])


def _me() -> Contact:
    """The organizer asking. A console login whose WeChat was since unbound (at the door, say) names
    no directory person, so it holds no right on any meeting: refused, as a meeting page refuses."""
    me = current_contact()
    if me is None:
        raise Forbidden("您的微信未绑定通讯录人员，不能查看考勤；请重新扫码绑定后再试")
    return me


def _units() -> list[Unit]:
    return list(db.session.scalars(select(Unit).order_by(Unit.id)))


@bp.get("")
@console_login_required
def page():
    me = _me()
    args = _args()
    job = _own_job(request.args.get("job", type=int), me)
    try:
        result = svc.attendance(svc.console_viewer(me), _filters(args), now=_now())
    except AttendanceError as exc:
        finish_with_error(exc)
        return render_template("console/attendance.html", me=me, args=args, error=exc.message, result=None,
                               units=_units(), views=VIEWS, job=job, job_state=jobs.describe), exc.status
    rows = getattr(result, args["view"])
    rows = svc.sort_rows(rows, args["sort"], desc=args["dir"] == "desc")
    shown = svc.page_of(rows, request.args.get("page", 1, type=int), PER_PAGE)
    return render_template("console/attendance.html", me=me, args=args, error=None, result=result, shown=shown,
                           units=_units(), views=VIEWS, columns=COLUMNS[args["view"]] + NUMBER_COLUMNS,
                           job=job, job_state=jobs.describe, per_page=PER_PAGE, local=local)


def _own_job(job_id: int | None, me) -> Job | None:
    """The export job the page was sent back with, if it is this person's."""
    if not job_id or me is None:
        return None
    return jobs.job_for(job_id, {actor_of(me)})


@bp.get("/export")
@console_login_required
def export():
    me = _me()
    args = _args()
    fmt = ex.check_format(request.args.get("format", ""))
    viewer = svc.console_viewer(me)
    filters = _filters(args)
    now = _now()
    result = svc.attendance(viewer, filters, now=now)
    sort, desc = (args["sort"], args["dir"] == "desc") if args["view"] == "people" else ("unit", False)
    if ex.runs_as_job(result, fmt):
        job_id = jobs.submit("attendance_export", ex.export_job, viewer.to_args(), filters.to_args(), fmt, sort,
                             desc, actor_of(me), actor=jobs.console_actor(me.id))
        return redirect(url_for(".page", **{k: v for k, v in args.items() if v}, job=job_id))
    out = ex.export(result, fmt, actor=actor_of(me), now=now, sort=sort, desc=desc)
    return _send(out)


def _send(out: ex.Export):
    # send_file writes filename= (ASCII) and filename*=UTF-8'' (RFC 5987) for the Chinese name.
    return send_file(BytesIO(out.data), as_attachment=True, download_name=out.filename, mimetype=out.content_type,
                     max_age=0)
