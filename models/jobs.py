"""Background jobs as database rows: the intent, its state and its result.

RQ (Redis) only carries a job's id to a worker; the row is the truth. A job asked for while Redis
is down, or lost when Redis restarts or a worker dies, is still here and the reconciler
(:func:`app.jobs.reconcile`) hands it to a worker again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from models.base import JSONType, Model, UTCDateTime, created_at_column

JOB_STATES = ("queued", "running", "done", "failed")


class Job(Model):
    __tablename__ = "jobs"
    __table_args__ = (
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')", name="state"),
        # The reconciler's scan: only unfinished jobs, so the index stays small however long the history.
        sa.Index("ix_jobs_unfinished", "state", "id", postgresql_where=sa.text("state IN ('queued', 'running')"),
                 sqlite_where=sa.text("state IN ('queued', 'running')")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What it is for people and filters: ``document_convert``, ``reminder``, ``contacts_import``…
    kind: Mapped[str] = mapped_column(sa.String(32))
    #: ``module:function`` and its plain JSON arguments.
    func: Mapped[str] = mapped_column(sa.String(200))
    args: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    state: Mapped[str] = mapped_column(sa.String(16), default="queued")
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int | None] = mapped_column()
    progress_message: Mapped[str | None] = mapped_column(sa.String(200))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error_code: Mapped[str | None] = mapped_column(sa.String(64))
    error_message: Mapped[str | None] = mapped_column(sa.String(500))
    meeting_id: Mapped[int | None] = mapped_column(sa.ForeignKey("meetings.id", ondelete="SET NULL"), index=True)
    unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("units.id", ondelete="SET NULL"))
    #: Who asked (``contact:<id>`` at the console, ``unit_account:<id>`` at a unit office, ``system``):
    #: only they may see its status and download its result.
    actor: Mapped[str] = mapped_column(sa.String(96))
    created_at: Mapped[datetime] = created_at_column()
    #: When it was last handed to RQ; NULL while Redis never took it (asked while Redis was down).
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: Touched by the running job every few seconds: a stale heartbeat means its worker died.
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    #: Not before this time (a scheduled reminder): recorded ``queued`` but handed to RQ only by the
    #: reconciler once it has come. NULL: at once.
    run_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
