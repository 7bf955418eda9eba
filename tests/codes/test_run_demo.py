"""`make run` end to end: migrate + seed a fresh SQLite file, start scripts/run_demo on a free port,
then do what a newcomer does on the simulated phone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.net import free_port

ROOT = Path(__file__).resolve().parents[2]




@pytest.fixture
def demo(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("REDIS_URL", "PUBLIC_BASE_URL", "WECHAT_API_BASE_URL", "WEB_CONCURRENCY")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}", STORAGE_DIR=str(tmp_path / "storage"),
               PYTHONUNBUFFERED="1")
    for args in (["db", "upgrade"], ["demo", "seed"]):
        subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env, check=True,
                       capture_output=True, timeout=120)
    port = free_port()
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "scripts.run_demo", "--port", str(port)], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while "Ctrl-C" not in (tmp_path / "demo.log").read_text():
            assert proc.poll() is None, (tmp_path / "demo.log").read_text()
            assert time.monotonic() < deadline, "demo did not start within 60 s"
            time.sleep(0.2)
        yield base, (tmp_path / "demo.log").read_text()
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


def test_make_run_demo_serves_and_a_new_user_can_scan(demo):
    base, printed = demo
    assert f"{base}/_wechat/_sim/phone" in printed and f"{base}/readyz" in printed
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200
    assert requests.get(f"{base}/readyz", timeout=5).status_code == 200
    assert "<html" in requests.get(f"{base}/_wechat/_sim/phone", timeout=5).text.lower()

    (code,) = requests.get(f"{base}/_wechat/_sim/qrcodes", timeout=5).json()
    assert code["scene"] == "m:QJJ2026Q4:1"
    users = requests.get(f"{base}/_wechat/_sim/users", timeout=5).json()
    newcomer = next(u for u in users if u["nickname"] == "新用户")
    reply = requests.post(f"{base}/_wechat/_sim/scan", json={"openid": newcomer["oa_openid"],
                                                             "ticket": code["ticket"]}, timeout=15).json()
    assert reply["delivered"] and reply["error"] is None
    assert "首次签到需核对身份" in reply["shown"] and f"{base}/m/bind?t=" in reply["shown"]
    menu = requests.get(f"{base}/_wechat/_sim/menu", params={"openid": newcomer["oa_openid"]}, timeout=5).json()
    assert [b["name"] for b in menu["button"]] == ["我的会议", "会议资料", "使用帮助"]


def test_demo_refuses_several_processes(tmp_path):
    env = {**os.environ, "WEB_CONCURRENCY": "4"}
    out = subprocess.run([sys.executable, "-m", "scripts.run_demo", "--port", str(free_port())], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "单进程" in out.stderr
