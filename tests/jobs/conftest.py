"""Helpers for the job tests: Redis made unreachable for the app (a closed port)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest
import redis

from tests.live.conftest import wired  # noqa: F401 - the reminders' recipients, shared with tests/live


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


@pytest.fixture
def redis_down(app) -> Callable[[], AbstractContextManager[None]]:
    """``with redis_down():`` the app's Redis is a port nobody listens on, as when Redis is down."""
    from app.extensions import redis_client

    @contextmanager
    def down() -> Iterator[None]:
        real, real_url = app.extensions["redis"], app.config["REDIS_URL"]
        app.config["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
        app.extensions["redis"] = redis_client(app.config["REDIS_URL"])
        try:
            yield
        finally:
            app.extensions["redis"], app.config["REDIS_URL"] = real, real_url

    return down


class OwnRedis:
    """A redis-server of the test's own on a free port, without persistence: stopping and starting it
    again is a Redis that restarted empty (the machine's shared Redis is never touched)."""

    def __init__(self, tmp_path):
        self.port = closed_port()
        self.dir = tmp_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", str(self.dir)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("own redis-server did not start")

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None


@pytest.fixture
def own_redis(app, tmp_path, monkeypatch):
    """The app (and its workers) on a redis-server of this test's own; yields :class:`OwnRedis`."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    from app.extensions import redis_client

    server = OwnRedis(tmp_path)
    server.start()
    monkeypatch.setitem(app.config, "REDIS_URL", server.url)
    monkeypatch.setitem(app.extensions, "redis", redis_client(server.url))
    try:
        yield server
    finally:
        server.kill()
