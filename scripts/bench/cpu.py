"""Who used the CPU during a measured interval: the server, PostgreSQL, Redis, the generator.

Throughput on a shared 2-core machine moves by ±20% between identical runs; CPU time per request
moves far less, so it is what an optimisation is judged by. Read from /proc (Linux only); a part
whose processes cannot be found reports 0.
"""

from __future__ import annotations

import os
from pathlib import Path

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[str, int, float] | None:
    """(comm, process group, user+system CPU seconds) of one process, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    comm = raw[raw.index("(") + 1:raw.rindex(")")]
    rest = raw[raw.rindex(")") + 2:].split()
    # Fields after the comm start at field 3 (state): pgrp is field 5, utime 14, stime 15.
    return comm, int(rest[2]), (int(rest[11]) + int(rest[12])) / _TICK


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 if it is gone)."""
    stat = _stat(pid)
    return stat[2] if stat is not None else 0.0


def group_pids(pgid: int) -> list[int]:
    """Every process of a process group (a server and its workers)."""
    return [int(e.name) for e in os.scandir("/proc")
            if e.name.isdigit() and (stat := _stat(int(e.name))) is not None and stat[1] == pgid]


def machine_busy_s() -> float:
    """CPU seconds the whole machine has spent busy (every process, the kernel, others' work too)."""
    fields = _proc_stat()
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / _TICK


def _proc_stat() -> list[int]:
    return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]


def snapshot(server_pgid: int) -> dict[str, float]:
    """CPU seconds so far of: the server's process group, every postgres and redis-server process."""
    totals = {"server": 0.0, "postgres": 0.0, "redis": 0.0}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is None:
            continue
        comm, pgrp, cpu = stat
        if pgrp == server_pgid:
            totals["server"] += cpu
        elif comm == "postgres":
            totals["postgres"] += cpu
        elif comm.startswith("redis-server"):
            totals["redis"] += cpu
    return totals


def machine_ticks() -> tuple[int, int]:
    """(all CPU ticks, ticks stolen by the hypervisor) of the whole machine so far (/proc/stat)."""
    fields = _proc_stat()
    return sum(fields[:8]), fields[7]


def stolen_share(before: tuple[int, int], after: tuple[int, int]) -> float:
    """The share of the machine's CPU time that the hypervisor gave to other guests in between."""
    total = after[0] - before[0]
    return (after[1] - before[1]) / total if total else 0.0


def per_request_ms(before: dict[str, float], after: dict[str, float], requests: int) -> dict[str, float]:
    """CPU milliseconds per request of each part between two snapshots."""
    return {k: round(1000 * (after[k] - before[k]) / max(requests, 1), 3) for k in before}
