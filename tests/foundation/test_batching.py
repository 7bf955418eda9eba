"""app.batching: batches form under load, each caller gets its own answer, one failure stays its own."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.batching import GroupCommit, GroupCommitTimeout, committed, group_commit


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


def test_one_round_forms_at_a_time_and_the_next_overlaps_only_after_the_commit(app):
    lock = threading.Lock()
    state = {"before_commit": 0, "most_before_commit": 0, "after_commit": 0, "overlapped": 0}
    sizes: list[int] = []

    def process(items: list[int]) -> list[int]:
        with lock:
            sizes.append(len(items))
            state["before_commit"] += 1
            state["most_before_commit"] = max(state["most_before_commit"], state["before_commit"])
            state["overlapped"] += state["after_commit"] > 0
        time.sleep(0.004)  # reading and writing, up to the commit
        with lock:
            state["before_commit"] -= 1
            state["after_commit"] += 1
        committed()
        time.sleep(0.004)  # publishing and answering
        with lock:
            state["after_commit"] -= 1
        return [i * 2 for i in items]

    committer = GroupCommit(app, "gate", process, threads=2)
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            results = list(pool.map(committer.submit, range(300)))
    finally:
        committer.stop()
    assert results == [i * 2 for i in range(300)]
    assert state["most_before_commit"] == 1  # never two rounds on their way to a commit at once
    assert state["overlapped"] > 0  # a round formed while the previous one was still answering
    assert sum(sizes) == 300 and max(sizes) > 8


def test_committed_outside_a_round_thread_does_nothing(app):
    committed()  # inline mode calls it from a request thread: no error, no effect
    committer = GroupCommit(app, "gate-quiet", lambda items: list(items), threads=2)
    try:
        assert [committer.submit(i) for i in range(5)] == list(range(5))  # a process that never says so
    finally:
        committer.stop()


def test_a_caller_that_gives_up_withdraws_an_item_no_round_took_and_learns_when_one_did(app):
    """The door's deadline (wechat_handlers.scan_lane): a withdrawn scan is certainly not stored, so
    it may be told to scan again; one a round holds may still be stored, so it may not."""
    from app.batching import GroupCommitWithdrawn

    seen: list[list[str]] = []
    gate = threading.Event()

    def process(items: list[str]) -> list:
        seen.append(list(items))
        if "slow" in items:
            gate.wait(5)
        return list(items)

    committer = GroupCommit(app, "w", process, threads=1)
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            slow = pool.submit(committer.submit, "slow", 0.3)
            while not seen:
                time.sleep(0.01)
            with pytest.raises(GroupCommitWithdrawn):  # queued behind the round: never processed
                committer.submit("late", timeout_s=0.1)
            with pytest.raises(GroupCommitTimeout) as held:  # in a round: its fate is unknown
                slow.result(5)
            assert not isinstance(held.value, GroupCommitWithdrawn)
            gate.set()
        assert committer.submit("next", timeout_s=2) == "next"
    finally:
        committer.stop()
    assert all("late" not in batch for batch in seen)
