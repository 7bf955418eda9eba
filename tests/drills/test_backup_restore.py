"""A backup taken with pg_basebackup during a burst of scans, restored as a fresh server, holds every
sign-in acknowledged before the backup began (scripts/drills/backup_during_burst.py, issue 20)."""

from __future__ import annotations

import os
import shutil
from glob import glob

import pytest

from scripts.drills import backup_during_burst

pytestmark = [
    pytest.mark.slow,
    pytest.mark.real_clock,
    pytest.mark.pg_only(reason="PostgreSQL's own backup of a PostgreSQL cluster of its own"),
]


def test_a_backup_during_a_burst_restores_every_acknowledged_signin():
    missing = [b for b in ("redis-server",) if shutil.which(b) is None]
    if not glob("/usr/lib/postgresql/*/bin/pg_basebackup") and shutil.which("pg_basebackup") is None:
        missing.append("pg_basebackup")
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"needs {', '.join(missing)}")
        pytest.skip(f"needs {', '.join(missing)}")
    m = backup_during_burst.run(scans=500, rate=50, backup_at=3.0)
    assert m["ok"], m
    assert m["acknowledged_before_backup"] >= 50 and m["of_them_missing_from_restore"] == 0
    assert m["restored_seq_1_to_n"] and m["restored_one_per_person"]
