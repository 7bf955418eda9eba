"""app.batching: batches form under load, each caller gets its own answer, one failure stays its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.batching import GroupCommit, GroupCommitTimeout, group_commit


class Refused(Exception):
    pass


def _doubler(seen: list[list[int]], delay: float = 0.005):
    def process(items: list[int]) -> list:
        seen.append(list(items))
        time.sleep(delay)  # a transaction's round trips: later submissions queue up meanwhile
        if 13 in items and len(items) > 1:
            raise RuntimeError("the whole batch fails while 13 is in it")
        return [Refused(i) if i == 13 else i * 2 for i in items]
    return process


def test_batches_form_and_each_caller_gets_its_own_result(app):
    seen: list[list[int]] = []
    committer = GroupCommit(app, "t", _doubler(seen), max_batch=16)
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(committer.submit, [i for i in range(200) if i != 13]))
    finally:
        committer.stop()
    assert results == [i * 2 for i in range(200) if i != 13]
    assert committer.stats.items == 199 and committer.stats.rounds == len(seen) < 199
    assert max(len(b) for b in seen) <= 16


def test_a_failing_item_is_retried_alone_and_only_it_fails(app):
    seen: list[list[int]] = []
    committer = GroupCommit(app, "t", _doubler(seen, delay=0.02))
    gate = threading.Barrier(8)

    def submit(i):
        gate.wait()
        try:
            return committer.submit(i)
        except Refused as exc:
            return exc

    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(submit, [10, 11, 12, 13, 14, 15, 16, 17]))
    finally:
        committer.stop()
    assert [r for r in results if not isinstance(r, Refused)] == [20, 22, 24, 28, 30, 32, 34]
    assert isinstance(results[3], Refused)
    assert [13] in seen  # the failed batch was split and 13 ran alone


def test_no_answer_in_time_is_a_timeout_not_a_hang(app):
    committer = GroupCommit(app, "t", lambda items: time.sleep(0.5) or items, wait_s=0.05)
    try:
        with pytest.raises(GroupCommitTimeout):
            committer.submit(1)
    finally:
        committer.stop()


def test_inline_mode_runs_in_the_callers_thread(app):
    callers = []

    def process(items):
        callers.append(threading.current_thread())
        return [Refused(i) if i < 0 else i for i in items]

    assert app.config["GROUP_COMMIT"] is False  # the test app: rolled-back transactions
    with app.app_context():
        submit = group_commit("inline-test", process)
        assert submit(5) == 5
        with pytest.raises(Refused):
            submit(-1)
    assert callers == [threading.current_thread()] * 2
    assert "group_commit:inline-test" not in app.extensions
