"""Start and stop the gunicorn server a benchmark measures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def spawn_gunicorn(opts, port: int, env: dict[str, str], app_module: str, *extra: str) -> subprocess.Popen:
    """gunicorn on 127.0.0.1:``port`` with the bench config, returned once ``/readyz`` answers 200.

    Not the production gunicorn.conf.py: that one logs every request to stdout, which here would
    measure the terminal. Everything else (the app, its pool, its logging) is the real thing.
    """
    cmd = [sys.executable, "-m", "gunicorn", "-c", str(Path(__file__).with_name("gunicorn_bench.py")),
           "-b", f"127.0.0.1:{port}", "-w", str(opts.workers), "-k", opts.worker_class,
           "--threads", str(opts.threads), "--backlog", "2048", "--log-level", "warning", "--keep-alive", "5",
           *extra, app_module]
    if getattr(opts, "server", "gunicorn") == "granian":
        # Rust HTTP front, the same WSGI app in a pool of blocking threads per worker process.
        cmd = [sys.executable, "-m", "granian", "--interface", "wsgi", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(opts.workers), "--blocking-threads", str(opts.threads),
               "--backlog", "2048", "--log-level", "warning", "--no-ws", *extra, app_module]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True)
    return _wait_ready(proc, port)


def _wait_ready(proc: subprocess.Popen, port: int) -> subprocess.Popen:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:
                if resp.status == 200:
                    return proc
        except OSError:
            time.sleep(0.2)
    stop_gunicorn(proc)
    raise RuntimeError("gunicorn did not become ready within 30 s")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
