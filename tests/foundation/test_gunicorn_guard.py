"""gunicorn refuses several workers on the in-process Redis stand-in, with a clear message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_refuses_multiple_workers_without_redis(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    env["GUNICORN_BIND"] = "127.0.0.1:0"
    # past the public-defaults check (the personal codes' key too: base64 of 32 bytes)
    env.update(SECRET_KEY="x" * 48, WECHAT_TOKEN="a-real-token", DOOR_SIGNING_KEY="A" * 43 + "=")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run([str(gunicorn), "-c", "gunicorn.conf.py", "--workers", "2", "wsgi:app"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr and "拒绝启动" in result.stderr
