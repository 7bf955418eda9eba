"""``flask --app wsgi jobs …``: the background jobs the database records (app/jobs.py)."""

from __future__ import annotations

import sys

import click
from flask import current_app

from app import jobs
from app.cli.common import emit, json_option
from models.jobs import JOB_STATES

jobs_cli = click.Group("jobs", help="后台任务：查看、与队列对账 / background jobs: list, reconcile with Redis.")


@jobs_cli.command("reconcile")
@json_option
def reconcile_command(as_json: bool) -> None:
    """Hand RQ again what the database says must run (what Redis lost, what dead workers held)."""
    try:
        counts = jobs.reconcile(current_app._get_current_object())
    except Exception as exc:  # Redis (or the database) unreachable: nothing handed over, nothing lost
        if as_json:
            emit({"error": {"code": "queue_unavailable", "message": f"任务队列不可用：{exc}"}}, True, "")
        click.echo(f"错误（queue_unavailable）：任务队列不可用，稍后再试（{exc}）", err=True)
        sys.exit(1)
    emit(counts, as_json, f"重新入队 {counts['requeued']} 个，中断后重跑 {counts['rerun']} 个，判定失败 {counts['lost']} 个")


def _row(job) -> dict:
    return {"id": job.id, "kind": job.kind, "state": job.state, "actor": job.actor, "meeting_id": job.meeting_id,
            "unit_id": job.unit_id, "done": job.progress_done, "total": job.progress_total,
            "message": job.progress_message, "error_code": job.error_code, "error_message": job.error_message,
            "attempts": job.attempts, "created_at": job.created_at.isoformat() if job.created_at else None,
            "enqueued_at": job.enqueued_at.isoformat() if job.enqueued_at else None,
            "finished_at": job.finished_at.isoformat() if job.finished_at else None}


@jobs_cli.command("list")
@click.option("--state", type=click.Choice(JOB_STATES), help="只列出该状态的任务 / only jobs in this state.")
@click.option("--limit", type=click.IntRange(1, 10000), default=100, show_default=True)
@json_option
def list_command(state: str | None, limit: int, as_json: bool) -> None:
    """The newest jobs, with their true state."""
    rows = [_row(job) for job in jobs.list_jobs(state, limit)]
    human = "\n".join(
        f"#{r['id']:<6} {r['kind']:<18} {jobs.STATE_LABELS[r['state']]:<4} {r['actor']:<20} "
        f"{r['done']}/{r['total'] if r['total'] is not None else '-'} {r['error_message'] or r['message'] or ''}"
        for r in rows) or "没有任务"
    emit({"jobs": rows}, as_json, human)
