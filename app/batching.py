"""Group commit: a burst's small writes, many to a transaction, each caller answered after the commit.

A burst of scans arrives as hundreds of tiny requests a second. Handled one by one, each pays a
transaction of its own (BEGIN, its statements, COMMIT with a WAL flush) and the Python around every
round trip; on a 2-core server that overhead, not the work, is what limits the burst. A
:class:`GroupCommit` keeps one thread per process that takes everything submitted since its last
round and hands it to ``process`` as one unit of work: one commit, side effects after it. Each caller
then gets its own result.

- Acknowledged means stored: :meth:`GroupCommit.submit` returns only after the batch committed.
- No added waiting: a batch forms while the previous one is on its way to its commit. A lone request
  goes straight through.
- Rounds overlap only after the commit: the next round takes its batch once the previous one has
  committed (``process`` says when with :func:`committed`, else when it returns). Its replies and
  side effects overlap the next round's reading and writing; the batch waiting meanwhile grows, and
  every round's fixed cost (its round trips, its statements) is shared by more callers.
- One bad item cannot sink the others: if a batch fails, its items are retried one by one, and only
  the failing one gets the error.
- A caller that cannot wait any longer gives up with a timeout of its own: if no round has taken its
  item yet, the item is withdrawn and never processed (:class:`GroupCommitWithdrawn`: nothing was
  stored); if a round has, its fate is unknown to the caller (:class:`GroupCommitTimeout`).
- ``GROUP_COMMIT = False`` (tests that run inside a rolled-back transaction) processes each item in
  the caller's own thread and session instead, through the same ``process``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask import Flask, current_app
from sqlalchemy.exc import DBAPIError, DisconnectionError

from app.extensions import db

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")

#: ``process(items)`` returns one result per item, in order: a value, or an exception for that item.
Process = Callable[[list[T]], list["R | BaseException"]]


class GroupCommitTimeout(Exception):
    """The batch did not finish in time; whether the item was stored is unknown to the caller."""


class GroupCommitWithdrawn(GroupCommitTimeout):
    """No round had taken the item when its caller gave up: it was withdrawn, and never processed."""


@dataclass
class Stats:
    """Counts since start, for tests and the benchmark to see that batches really form."""

    rounds: int = 0
    items: int = 0
    largest: int = 0


class _Waiter(Generic[T]):
    __slots__ = ("item", "done", "result", "taken", "withdrawn")

    def __init__(self, item: T) -> None:
        self.item = item
        self.done = threading.Event()
        self.result: object = None
        self.taken = False  # a round has it (under GroupCommit._lock)
        self.withdrawn = False  # its caller gave up before any round took it (under GroupCommit._lock)


class GroupCommit(Generic[T, R]):
    def __init__(self, app: Flask, name: str, process: Process, *, max_batch: int = 64, threads: int = 2,
                 wait_s: float = 4.0) -> None:
        self.app, self.name, self.process = app, name, process
        self.max_batch, self.wait_s, self.threads = max_batch, wait_s, threads
        self._queue: queue.SimpleQueue[_Waiter | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pid: int | None = None  # the threads belong to the process that started them (fork)
        self._threads: list[threading.Thread] = []
        self.stats = Stats()
        # Held from taking a batch until that batch has committed: one round forming at a time.
        self._forming = threading.Semaphore(1)

    def submit(self, item: T, timeout_s: float | None = None) -> R:
        """``item``'s result once its batch has committed; raises the item's own exception.

        :param timeout_s: how long the caller can wait (default ``wait_s``).
        :raise GroupCommitWithdrawn: no round took the item in time; it was never processed.
        :raise GroupCommitTimeout: a round took it but did not finish in time.
        """
        self._ensure_thread()
        waiter = _Waiter(item)
        self._queue.put(waiter)
        if not waiter.done.wait(self.wait_s if timeout_s is None else max(0.0, timeout_s)):
            with self._lock:
                if not waiter.taken:
                    waiter.withdrawn = True
                    raise GroupCommitWithdrawn(self.name)
            raise GroupCommitTimeout(self.name)
        if isinstance(waiter.result, BaseException):
            raise waiter.result
        return waiter.result  # type: ignore[return-value]

    def stop(self) -> None:
        if self._threads and self._pid == os.getpid():
            for _ in self._threads:
                self._queue.put(None)
            for thread in self._threads:
                thread.join(5)
        self._threads = []

    def _ensure_thread(self) -> None:
        if self._pid == os.getpid() and self._threads:
            return
        with self._lock:
            if self._pid != os.getpid() or not self._threads:
                self._queue = queue.SimpleQueue()
                # More than one: while one batch waits on the database the next one is being read.
                self._threads = [threading.Thread(target=self._run, name=f"group-commit-{self.name}-{n}", daemon=True)
                                 for n in range(self.threads)]
                self._pid = os.getpid()
                for thread in self._threads:
                    thread.start()

    def _run(self) -> None:
        _round.committer = self
        with self.app.app_context():
            while True:
                self._forming.acquire()
                _round.forming = True
                first = self._queue.get()
                if first is None:
                    committed()  # the other threads get their stop signal too
                    return
                batch = [first]
                while len(batch) < self.max_batch:
                    try:
                        more = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        self._queue.put(None)  # for whoever stops next, after this batch
                        break
                    batch.append(more)
                with self._lock:
                    batch = [w for w in batch if not w.withdrawn]
                    for waiter in batch:
                        waiter.taken = True
                    if batch:
                        self.stats.rounds += 1
                        self.stats.items += len(batch)
                        self.stats.largest = max(self.stats.largest, len(batch))
                if not batch:  # every caller in it gave up meanwhile
                    committed()
                    continue
                try:
                    results = run_batch(self.process, [w.item for w in batch], self.name)
                finally:
                    committed()  # if ``process`` did not say so itself
                self._finish(batch, results)

    @staticmethod
    def _finish(batch: list[_Waiter], results: list) -> None:
        for waiter, result in zip(batch, results, strict=True):
            waiter.result = result
            waiter.done.set()


_round = threading.local()  # per round thread: its GroupCommit, and whether its round still holds the turn


def committed() -> None:
    """Called by a ``process`` once its round has committed: the next round may take its batch now,
    while this one publishes and answers. Does nothing outside a round thread (inline mode)."""
    if getattr(_round, "forming", False):
        _round.forming = False
        _round.committer._forming.release()


def run_batch(process: Process, items: list, name: str) -> list:
    """``process(items)`` as one unit of work in a fresh session; see :func:`split_on_failure`."""
    try:
        return split_on_failure(process, items, name)
    finally:
        db.session.remove()  # a fresh session (and a pooled connection) for the next round


def lost_database(error: BaseException) -> bool:
    """A lost or refused database connection (a restart, a failover), not a fault of the work."""
    return isinstance(error, DisconnectionError) or (
        isinstance(error, DBAPIError) and (error.connection_invalidated or
                                           type(error.orig).__name__ in ("OperationalError", "InterfaceError")))


def split_on_failure(process: Process, items: list, name: str) -> list:
    """``process(items)``; if it raises, roll back and run each item alone, so that only a failing
    item gets its exception. Never raises."""
    if not items:
        return []
    try:
        results = process(items)
        if len(results) != len(items):
            raise RuntimeError(f"{name}: {len(results)} results for {len(items)} items")
        return results
    except Exception as exc:
        db.session.rollback()
        if len(items) == 1:
            if lost_database(exc):  # a failover: expected, and a traceback per scan would cost its CPU
                log.warning("%s: an item lost the database (%s)", name, _first_line(exc))
            else:
                log.exception("%s: item failed", name)
            return [exc]
        if lost_database(exc):
            # No item is at fault and each alone would only wait on the same lost connection (a
            # failover): every item gets the error at once, and its caller decides (try again, answer).
            log.warning("%s: a batch of %d lost the database (%s)", name, len(items), _first_line(exc))
            return [exc] * len(items)
        log.warning("%s: a batch of %d failed (%s); retrying its items one by one", name, len(items), exc)
        return [split_on_failure(process, [item], name)[0] for item in items]


def _first_line(exc: BaseException) -> str:
    """The error's first line, without SQLAlchemy's statement and parameters."""
    return str(getattr(exc, "orig", None) or exc).split("\n", 1)[0]


def group_commit(name: str, process: Process, **options) -> Callable[[T], R]:
    """The current app's submitter for ``name``: its GroupCommit, or inline when GROUP_COMMIT is off."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("GROUP_COMMIT", True):
        return lambda item, timeout_s=None: _inline(process, item)
    key = f"group_commit:{name}"
    committer = app.extensions.get(key)
    if committer is None:
        committer = app.extensions.setdefault(key, GroupCommit(app, name, process, **options))
    return committer.submit


def _inline(process: Process, item):
    result = process([item])[0]
    if isinstance(result, BaseException):
        raise result
    return result
