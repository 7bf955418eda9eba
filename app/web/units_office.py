"""The unit office's directory page: log in, template, upload, dry-run report, confirm, history.

A unit account only ever sees its own unit: every import is loaded through
``contacts_import.get_import(..., unit=account.unit)`` or applied with ``unit=account.unit``.
The login lives under its own session key, separate from the H5 WeChat identity.

The request never reads the file (issue 21.10): the upload is stored and a job reads and checks
it; the import's page shows the job's progress, then the row report. A confirmation is applied
in the request only when small (``contacts_import.apply_inline``), else by a job as well.
"""

from __future__ import annotations

from functools import wraps
from io import BytesIO

from flask import Blueprint, g, redirect, render_template, request, send_file, session, url_for

from app import jobs
from app.client_address import client_ip
from app.services.contacts import importer as contacts_import
from app.services.contacts import unit_login
from app.services.contacts.reader import DEFAULT_MAX_BYTES, DirectoryFileError
from app.services.errors import DomainError
from app.services.timeutil import local
from app.tx import finish_with_error
from models import Job

bp = Blueprint("units_office", __name__, url_prefix="/units")

SESSION_KEY = "unit_account_id"
TEMPLATE_HEADERS = ["序号", "姓名", "手机号码", "单位", "职务", "部门", "备注"]


def login_required(view):
    """The unit office's login, for every /units page (this module's and units_office_people's)."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        account = unit_login.get_account(session.get(SESSION_KEY))
        if account is None:
            session.pop(SESSION_KEY, None)
            return redirect(url_for("units_office.login", next=request.path))
        g.unit_account = account
        return view(*args, **kwargs)

    return wrapper


@bp.context_processor
def _page_globals():
    return {"account": g.get("unit_account"), "status_labels": contacts_import.STATUS_LABELS,
            "modes": contacts_import.MODES, "default_mode": contacts_import.DEFAULT_MODE,
            "china_time": lambda dt: local(dt).strftime("%Y-%m-%d %H:%M") if dt else ""}


def _job_actor() -> str:
    return jobs.unit_office_actor(g.unit_account.id)


@bp.get("/login")
def login():
    return render_template("units_office/login.html")


@bp.post("/login")
def login_submit():
    username = request.form.get("username", "")
    try:
        account = unit_login.authenticate(username, request.form.get("password", ""), ip=client_ip())
    except unit_login.UnitLoginError as exc:
        finish_with_error(exc)
        return render_template("units_office/login.html", error=exc.message, username=username), exc.status
    session[SESSION_KEY] = account.id
    target = request.args.get("next", "")
    return redirect(target if target.startswith("/units/") else url_for(".index"))


@bp.post("/logout")
def logout():
    session.pop(SESSION_KEY, None)
    return redirect(url_for(".login"))


@bp.get("/")
@login_required
def index():
    return render_template("units_office/index.html", imports=contacts_import.history(g.unit_account.unit, 5))


@bp.get("/template.xlsx")
@login_required
def template_xlsx():
    return send_file(BytesIO(_template_bytes(g.unit_account.unit.name)), download_name="通讯录模板.xlsx",
                     as_attachment=True,
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def _template_bytes(unit_name: str) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "通讯录"
    ws.append(TEMPLATE_HEADERS)
    # The phone as text: Excel would otherwise show a long number in scientific notation. The
    # example row is recognised and skipped by the import (and says so), should it be left in.
    ws.append([1, "张三", "13800138000", unit_name, "科员", "办公室", "示例行，请替换为本单位人员（导入时自动跳过）"])
    ws["C2"].number_format = "@"
    for row in range(3, 1001):  # the office types its numbers into a text column: never 1.38E+10
        ws.cell(row=row, column=3).number_format = "@"
    for column, width in zip("ABCDEFG", (6, 12, 16, 24, 14, 14, 40), strict=True):
        ws.column_dimensions[column].width = width
    out = BytesIO()
    wb.save(out)
    return out.getvalue()


@bp.post("/upload")
@login_required
def upload():
    upload_file = request.files.get("file")
    if (request.content_length or 0) > DEFAULT_MAX_BYTES + 64 * 1024:
        error = DirectoryFileError("file_too_large", size_mb=request.content_length / 1024 / 1024,
                                   limit_mb=DEFAULT_MAX_BYTES / 1024 / 1024)
        return _index_error(error.message, 413)
    if upload_file is None or not upload_file.filename:
        return _index_error("请选择要上传的通讯录文件", 400)
    data = upload_file.read(DEFAULT_MAX_BYTES + 1)
    try:
        if len(data) > DEFAULT_MAX_BYTES:
            raise DirectoryFileError("file_too_large", size_mb=len(data) / 1024 / 1024,
                                     limit_mb=DEFAULT_MAX_BYTES / 1024 / 1024)
        if not data.strip(b" \t\r\n\x00\xef\xbb\xbf"):
            raise DirectoryFileError("empty_file")
        # Stored and handed to a job: the file is read there, not in this request.
        record = contacts_import.submit_preview(g.unit_account.unit, data, upload_file.filename,
                                                actor=g.unit_account.username, job_actor=_job_actor(),
                                                mode=request.form.get("mode") or contacts_import.DEFAULT_MODE)
    except DomainError as exc:
        finish_with_error(exc)
        return _index_error(exc.message, exc.status)
    return redirect(url_for(".report", import_id=record.id))


def _index_error(message: str, status: int):
    return render_template("units_office/index.html", error=message,
                           imports=contacts_import.history(g.unit_account.unit, 5)), status


def _running(job_id: int | None) -> Job | None:
    """The import's job while it is still to finish (this office's own job only)."""
    job = jobs.job_for(job_id, {_job_actor()}) if job_id else None
    return job if job is not None and job.state in ("queued", "running") else None


def _render_report(record, *, error: str | None = None, status: int = 200):
    view = contacts_import.report_view(record)
    checking = _running(view["job_id"]) if record.status == "checking" else None
    applying = _running(view["apply_job_id"]) if record.status == "previewed" else None
    failed_job = None
    if record.status == "checking" and checking is None and view["job_id"]:
        # The job ended without writing the report (it failed or was lost): say so, truthfully.
        failed_job = jobs.job_for(view["job_id"], {_job_actor()})
    if record.status == "previewed" and applying is None and view["apply_job_id"] and error is None:
        apply_job = jobs.job_for(view["apply_job_id"], {_job_actor()})
        if apply_job is not None and apply_job.state == "failed":  # nothing was written; say why
            error = f"导入未完成，通讯录未作修改：{apply_job.error_message or jobs.JOB_FAILED_MESSAGE}"
    return render_template("units_office/report.html", record=record, view=view, error=error,
                           job=checking or applying, failed_job=failed_job), status


@bp.get("/imports/<int:import_id>")
@login_required
def report(import_id: int):
    return _render_report(contacts_import.get_import(import_id, unit=g.unit_account.unit))


@bp.post("/imports/<int:import_id>/apply")
@login_required
def apply(import_id: int):
    unit = g.unit_account.unit
    try:
        record = contacts_import.submit_apply(import_id, actor=g.unit_account.username, unit=unit,
                                              job_actor=_job_actor(),
                                              confirm_deactivate=request.form.get("confirm_deactivate") == "1")
    except contacts_import.ContactImportError as exc:
        if exc.status == 404:
            raise
        finish_with_error(exc)
        return _render_report(contacts_import.get_import(import_id, unit=unit), error=exc.message,
                              status=exc.status if exc.status != 400 else 422)
    if record.status == "applied":
        return redirect(url_for(".history", applied=import_id))
    return redirect(url_for(".report", import_id=import_id))  # a job applies it: the page follows it


@bp.post("/imports/<int:import_id>/discard")
@login_required
def discard(import_id: int):
    contacts_import.discard(import_id, actor=g.unit_account.username, unit=g.unit_account.unit)
    return redirect(url_for(".history", discarded=import_id))


@bp.get("/history")
@login_required
def history():
    return render_template("units_office/history.html", imports=contacts_import.history(g.unit_account.unit, 50),
                           applied=request.args.get("applied", type=int),
                           discarded=request.args.get("discarded", type=int))
