"""Helpers for the job tests: Redis made unreachable for the app (a closed port)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import pytest


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
        real = app.extensions["redis"]
        app.extensions["redis"] = redis_client(f"redis://127.0.0.1:{closed_port()}/0")
        try:
            yield
        finally:
            app.extensions["redis"] = real

    return down
