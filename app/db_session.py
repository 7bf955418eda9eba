"""The SQLAlchemy session class: what happens when a unit of work commits."""

from __future__ import annotations

import logging

from flask_sqlalchemy.session import Session as FlaskSession

log = logging.getLogger(__name__)
#: ``session.info`` key of the callbacks :func:`app.tx.on_commit` queues.
ON_COMMIT_KEY = "huiyi_on_commit"


class RunsCallbacksAfterCommit:
    """Session mixin: after ``commit()`` returns, run what :func:`on_commit` queued.

    They run once the commit is done rather than inside SQLAlchemy's ``after_commit`` event, so a
    callback may still read through the session (e.g. values the database set at commit time, such
    as a sign-in's order number).
    """

    def commit(self) -> None:
        super().commit()  # type: ignore[misc]
        callbacks = self.info.pop(ON_COMMIT_KEY, [])  # type: ignore[attr-defined]
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a failed side effect must not undo what is already committed
                log.exception("after-commit side effect failed")


class HuiyiSession(RunsCallbacksAfterCommit, FlaskSession):
    """The app's session (Flask-SQLAlchemy's, plus after-commit callbacks)."""
