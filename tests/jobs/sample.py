"""Job functions for the job tests (importable by path, as every job's function must be)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from app import jobs
from app.services import audit, storage
from app.services.errors import DomainError

#: The progress test holds a running job here until it has looked at its status.
GATE = threading.Event()
STARTED = threading.Event()


class SampleError(DomainError):
    messages = {"sample_refused": "样例任务被拒绝：{why}"}


def add(a: int, b: int) -> dict:
    """Writes an audit row (so a test can count runs) and returns the sum."""
    audit.record("test", "sample.add", target=f"{a}+{b}")
    return {"sum": a + b}


def refuse(why: str) -> None:
    audit.record("test", "sample.refuse")  # must be rolled back with the failure
    raise SampleError("sample_refused", why=why)


def crash() -> None:
    audit.record("test", "sample.crash")
    raise RuntimeError("boom")


def stepwise(total: int) -> dict:
    jobs.report_progress(1, total, "第一步：读取文件")
    STARTED.set()
    if not GATE.wait(20):
        raise RuntimeError("the test never opened the gate")
    for done in range(2, total + 1):
        jobs.report_progress(done, total, "第二步：写入")
    return {"rows": total}


def stepwise_export(total: int) -> dict:
    """Like :func:`stepwise`, ending with a file to download under a Chinese name."""
    stepwise(total)
    return {"sha": storage.put("序号,姓名\n1,张三\n".encode()), "filename": "签到统计（全体）.csv",
            "content_type": "text/csv; charset=utf-8"}


def slow_once(marker: str) -> dict:
    """The first run leaves ``marker`` and hangs (its worker is killed meanwhile); a re-run finishes."""
    path = Path(marker)
    if not path.exists():
        path.write_text("started")
        audit.record("test", "sample.slow_once.first")  # never committed: the worker dies first
        jobs.report_progress(1, 2, "第一次运行")
        time.sleep(120)
    return {"runs": "again"}
