"""A background job's status and result, for the person who asked for it (app/jobs.py).

``GET /jobs/<id>.json`` is polled by the shared progress bar (static/js/job_progress.js, macro
templates/_job_progress.html); ``GET /jobs/<id>/download`` streams the job's result file. Both answer
only the job's actor (the same console or unit-office login); anyone else gets the same 404 as for
a job that does not exist, so ids cannot be probed.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, send_file, session, url_for

from app import jobs
from app.client_address import client_ip
from app.services import audit, storage
from app.services.contacts import unit_login
from app.web.console_auth import console_identity
from app.web.units_office import SESSION_KEY as UNIT_SESSION_KEY
from models import Job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")

NOT_FOUND = {"error": {"code": "job_not_found", "message": "找不到该任务，或您无权查看"}}


def request_actors() -> set[str]:
    """Every ``actor`` name the visitor holds: their console login and their unit-office login."""
    actors: set[str] = set()
    identity = console_identity()
    if identity is not None and identity.contact_id is not None:
        actors.add(jobs.console_actor(identity.contact_id))
    account = unit_login.get_account(session.get(UNIT_SESSION_KEY))
    if account is not None:
        actors.add(jobs.unit_office_actor(account.id))
    return actors


def _downloadable(job: Job) -> bool:
    return job.state == "done" and isinstance(job.result, dict) and bool(job.result.get("sha"))


def status_dict(job: Job) -> dict:
    return {
        "id": job.id, "kind": job.kind, "state": job.state, "done": job.progress_done, "total": job.progress_total,
        "message": job.progress_message or jobs.describe(job), "error_code": job.error_code,
        "error_message": job.error_message,
        "download_url": url_for("jobs.download", job_id=job.id) if _downloadable(job) else None,
    }


@bp.get("/<int:job_id>.json")
def status(job_id: int):
    job = jobs.job_for(job_id, request_actors())
    if job is None:
        return jsonify(NOT_FOUND), 404
    response = jsonify(status_dict(job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/<int:job_id>/download")
def download(job_id: int):
    actors = request_actors()
    job = jobs.job_for(job_id, actors)
    if job is None or not _downloadable(job) or not storage.get_storage().exists(job.result["sha"]):
        return jsonify(NOT_FOUND), 404
    filename = str(job.result.get("filename") or f"任务{job.id}的结果")
    audit.record(job.actor, "job.download", meeting_id=job.meeting_id, target=f"job:{job.id}", ip=client_ip(),
                 filename=filename)
    # send_file writes both filename= (an ASCII fallback) and filename*=UTF-8'' (RFC 5987) for a
    # Chinese name, so every browser saves it under its real name.
    return send_file(storage.open(job.result["sha"]), as_attachment=True, download_name=filename,
                     mimetype=job.result.get("content_type") or "application/octet-stream", max_age=0)
