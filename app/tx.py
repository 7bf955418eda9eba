"""The unit of work: a request (or job, or CLI command) commits once; side effects follow the commit.

Services only add and flush. They register side effects (Redis publishes, jobs, WeChat messages)
with :func:`on_commit`; those run after the boundary's commit succeeds and are dropped on rollback,
so nobody is told about a sign-in that was never stored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask, Response
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db_session import ON_COMMIT_KEY as _KEY
from app.extensions import db

log = logging.getLogger(__name__)


def on_commit(callback: Callable[[], None]) -> None:
    """Run ``callback`` after the current transaction commits (never if it rolls back)."""
    db.session().info.setdefault(_KEY, []).append(callback)


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


@contextmanager
def unit_of_work() -> Iterator[None]:
    """Commit once at the end of a job or CLI command; roll back on any error."""
    try:
        yield
        db.session.commit()
    except BaseException as exc:
        finish_with_error(exc)
        raise


def finish_with_error(exc: BaseException) -> None:
    """End a unit of work that failed: keep it only when the error is its own record."""
    if getattr(exc, "commit_anyway", False):
        db.session.commit()
    else:
        db.session.rollback()


def init_app(app: Flask) -> None:
    @app.after_request
    def _commit(response: Response) -> Response:
        if not db.session.registry.has():
            return response  # the request never touched the database (e.g. a batched scan)
        # Error handlers already committed or rolled back what an error left behind.
        if response.status_code < 400:
            db.session.commit()
        else:
            db.session.rollback()
        return response

    @app.teardown_request
    def _rollback(exc: BaseException | None) -> None:
        if exc is not None:
            db.session.rollback()
