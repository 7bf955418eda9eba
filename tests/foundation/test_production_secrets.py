"""The production entry points (gunicorn with gunicorn.conf.py, the rq worker) refuse to start on the
public development secrets; the demo and the tests, which never call them, are unaffected."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.config import Config, public_default_problems

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"SECRET_KEY": "x" * 48, "WECHAT_TOKEN": "token-from-the-account-settings",
        "DOOR_SIGNING_KEY": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}


def _env(tmp_path, **over) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("SECRET_KEY", "WECHAT_TOKEN", "REDIS_URL", "DOOR_SIGNING_KEY")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'x.sqlite3'}", GUNICORN_BIND="127.0.0.1:0", **over)
    return env


@pytest.mark.parametrize("missing", ["SECRET_KEY", "WECHAT_TOKEN", "DOOR_SIGNING_KEY"])
def test_gunicorn_refuses_public_defaults(tmp_path, missing):
    env = _env(tmp_path, **{k: v for k, v in GOOD.items() if k != missing})
    gunicorn = Path(sys.executable).with_name("gunicorn")
    result = subprocess.run([str(gunicorn), "-c", "gunicorn.conf.py", "--workers", "1", "wsgi:app"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "拒绝启动" in result.stderr and missing in result.stderr and "Refusing to start" in result.stderr


def test_rq_worker_refuses_public_defaults(tmp_path, app):
    env = _env(tmp_path, REDIS_URL=app.config["REDIS_URL"])  # this run's own database; nothing is written
    rq = Path(sys.executable).with_name("rq")
    result = subprocess.run([str(rq), "worker", "--burst", "--url", env["REDIS_URL"], "--worker-class",
                             "worker.SimpleWorker", "huiyi-never-used"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SECRET_KEY" in result.stderr and "拒绝启动" in result.stderr


def test_what_counts_as_unfit(monkeypatch):
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    assert public_default_problems(Config()) == []
    monkeypatch.setenv("SECRET_KEY", "short")
    assert any("太短" in p for p in public_default_problems(Config()))
    monkeypatch.delenv("SECRET_KEY")
    monkeypatch.delenv("WECHAT_TOKEN")
    assert len(public_default_problems(Config())) == 2
