"""/admin/<code>/reports: the meeting's 报表 page and its downloads (issue 16).

The page lists the registry's kinds (app/services/reports/registry.py) with an xlsx and a PDF link
for the whole meeting and for each session. Who may download what is the one rule
(organizers.RIGHTS): every right reads the numbers (``view``), staff and owners also the lists of
people with contacts or answers (``reports``). A small export is answered at once; one that grows
with a large meeting runs as a job, and the page shows its progress and offers the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from io import BytesIO

from flask import Blueprint, redirect, render_template, request, send_file, url_for

from app import jobs
from app.services.meetings import organizers
from app.services.reports import export as ex
from app.services.reports.base import Context
from app.services.reports.registry import all_kinds, get_kind
from app.services.reports.summary import chart_data
from app.web.console_auth import actor_of, console_login_required, load_meeting

bp = Blueprint("console_reports", __name__, url_prefix="/admin")


@bp.get("/<code>/reports")
@console_login_required
def page(code: str):
    meeting, me, right = load_meeting(code, "view")
    allowed = organizers.RIGHTS[right]
    job = jobs.job_for(request.args.get("job", type=int) or 0, {jobs.console_actor(me.id)})
    kinds = [{"kind": k, "allowed": k.action in allowed} for k in all_kinds()]
    charts = chart_data(Context(meeting, None, datetime.now(UTC)))
    return render_template("console/reports.html", meeting=meeting, me=me, right=right, tab="reports",
                           kinds=kinds, sessions=list(meeting.sessions), job=job, charts=charts)


@bp.get("/<code>/reports/<kind>.<any(xlsx, pdf):fmt>")
@console_login_required
def download(code: str, kind: str, fmt: str):
    meeting, me, _right = load_meeting(code, "view")
    report = get_kind(kind)
    organizers.require_right(meeting, me, report.action)
    position = request.args.get("s", type=int)
    session = ex.session_of(meeting, position)
    if ex.runs_as_job(meeting, report):
        job_id = jobs.submit("report_export", ex.export_job, meeting.id, report.key, fmt,
                             session.position if session else None, actor_of(me), actor=jobs.console_actor(me.id),
                             meeting_id=meeting.id)
        return redirect(url_for(".page", code=meeting.code, job=job_id) + "#export-job")
    out = ex.export(meeting, report.key, fmt, position=session.position if session else None, actor=actor_of(me))
    # send_file writes filename= (ASCII) and filename*=UTF-8'' (RFC 5987) for the Chinese name.
    return send_file(BytesIO(out.data), as_attachment=True, download_name=out.filename, mimetype=out.content_type,
                     max_age=0)
