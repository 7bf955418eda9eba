"""Reaching an HA database and Redis (issue 20): libpq's multi-host URL, the socket timeouts that let
the pool notice a vanished primary, and the Redis client following a Sentinel failover for real."""

from __future__ import annotations

import importlib
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from rq.cli.helpers import get_redis_from_config

import worker
from app.config import FAILOVER_CONNECT_ARGS, Config, _engine_options, _normalize_db_url
from app.extensions import SENTINEL_TIMEOUT_S, RedisSkipped, door_calls, redis_client, reset_door_breaker


def test_a_multi_host_url_reaches_libpq_with_every_host_and_its_options():
    url = _normalize_db_url("postgresql://app:pw@10.0.0.11:5432,10.0.0.12:5433/huiyi"
                            "?target_session_attrs=read-write&connect_timeout=2")
    assert url == ("postgresql+psycopg://app:pw@/huiyi?host=10.0.0.11:5432&host=10.0.0.12:5433"
                   "&target_session_attrs=read-write&connect_timeout=2")
    engine = sa.create_engine(url, **_engine_options(url))
    _args, params = engine.dialect.create_connect_args(engine.url)
    assert params["host"] == "10.0.0.11,10.0.0.12" and params["port"] == "5432,5433"
    assert params["target_session_attrs"] == "read-write" and params["dbname"] == "huiyi"
    assert _engine_options(url)["connect_args"] == FAILOVER_CONNECT_ARGS


def test_single_host_and_sqlite_urls_are_unchanged():
    assert _normalize_db_url("postgres://u@h:5432/db") == "postgresql+psycopg://u@h:5432/db"
    assert "connect_args" not in _engine_options("postgresql+psycopg://u@h:5432/db")
    assert _normalize_db_url("sqlite:////tmp/x.sqlite3") == "sqlite:////tmp/x.sqlite3"


def test_the_urls_own_socket_options_win():
    url = _normalize_db_url("postgresql://u@a:1,b:2/db?keepalives_idle=7")
    assert "keepalives_idle" not in _engine_options(url)["connect_args"]


def test_sentinels_make_the_redis_url(monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379,10.0.0.2:26379")
    monkeypatch.setenv("REDIS_SENTINEL_MASTER", "meet")
    assert Config().REDIS_URL == "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/meet/0"
    monkeypatch.setenv("REDIS_URL", "redis://h:6379/1")  # an explicit URL wins
    assert Config().REDIS_URL == "redis://h:6379/1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(check, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception:
            pass
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.mark.slow
@pytest.mark.real_clock
def test_the_client_follows_a_sentinel_failover(tmp_path: Path):
    """A master, its replica and one Sentinel on free ports (never the shared Redis): the client
    writes, the master is killed, Sentinel promotes the replica, and the same client writes again."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    import redis

    master, replica, sentinel = _free_port(), _free_port(), _free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    procs = [subprocess.Popen(["redis-server", "--port", str(master), *common], stdout=subprocess.DEVNULL),
             subprocess.Popen(["redis-server", "--port", str(replica), *common, "--replicaof", "127.0.0.1",
                               str(master)], stdout=subprocess.DEVNULL)]
    try:
        _wait(lambda: redis.Redis(port=replica).info("replication").get("master_link_status") == "up")
        conf = tmp_path / "sentinel.conf"
        conf.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\n"
                        f"sentinel monitor huiyi 127.0.0.1 {master} 1\n"
                        "sentinel down-after-milliseconds huiyi 500\nsentinel failover-timeout huiyi 3000\n")
        procs.append(subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL))
        client = redis_client(f"redis+sentinel://127.0.0.1:{sentinel}/huiyi/0")
        _wait(lambda: client.set("k", "1"))
        assert redis.Redis(port=master).get("k") == b"1"
        procs[0].kill()
        procs[0].wait()
        # Until Sentinel promotes the replica the calls fail at once (no retries: the door falls back
        # to the database); then the same client writes to the new master.
        _wait(lambda: client.set("k", "2"), timeout=30)
        assert redis.Redis(port=replica).get("k") == b"2"
        reset_door_breaker()
        with door_calls():  # the door's short timeouts apply to Sentinel-found connections too
            assert client.get("k") == b"2"
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_every_redis_client_of_the_app_goes_through_sentinel(tmp_path):
    """The app's client, the live reads' and the job queue's all find the master through Sentinel
    (built without a network call: each asks the Sentinels when it first connects)."""
    from redis.sentinel import SentinelConnectionPool

    from app import jobs
    from app.extensions import get_redis
    from app.factory import create_app

    url = "redis+sentinel://127.0.0.1:1,127.0.0.1:2/meet/3"
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", "REDIS_URL": url})
    with app.app_context():
        client = get_redis()
        assert isinstance(client.connection_pool, SentinelConnectionPool)
        assert client.connection_pool.service_name == "meet"
        assert client.connection_pool.connection_kwargs["db"] == 3
        queue_client = jobs._queue_redis(app)
        assert isinstance(queue_client.connection_pool, SentinelConnectionPool)
        assert queue_client.connection_pool.connection_kwargs["socket_timeout"] == jobs.QUEUE_TIMEOUT_S
        assert not app.config["REDIS_IS_EMBEDDED"]


class _SilentServer:
    """A TCP port that accepts and never answers: a Sentinel whose machine is gone, as the client sees
    it (no reset ever comes), without touching the network."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]

    def close(self) -> None:
        self.sock.close()


@pytest.mark.slow
@pytest.mark.real_clock
def test_a_lost_first_sentinel_costs_one_short_timeout(tmp_path: Path, monkeypatch):
    """The guide lists the master's own machine's Sentinel first; when that machine is lost, each master
    lookup must move on to the next Sentinel after one short timeout (redis-py's default retries held
    it ~10 s, and with it every WeChat callback that opened a Redis connection)."""
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    import redis

    master, sentinel = _free_port(), _free_port()
    silent = _SilentServer()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(tmp_path)]
    procs = [subprocess.Popen(["redis-server", "--port", str(master), *common], stdout=subprocess.DEVNULL)]
    try:
        _wait(lambda: redis.Redis(port=master).ping())
        conf = tmp_path / "sentinel.conf"
        conf.write_text(f"port {sentinel}\nbind 127.0.0.1\ndir {tmp_path}\nsentinel monitor huiyi 127.0.0.1 {master} 1\n")
        procs.append(subprocess.Popen(["redis-server", str(conf), "--sentinel"], stdout=subprocess.DEVNULL))
        _wait(lambda: redis.Redis(port=sentinel).sentinel_master("huiyi"))
        client = redis_client(f"redis+sentinel://127.0.0.1:{silent.port},127.0.0.1:{sentinel}/huiyi/0")
        t = time.monotonic()
        address = client.connection_pool.get_master_address()
        took = time.monotonic() - t
        assert address == ("127.0.0.1", master)
        assert took < 2 * SENTINEL_TIMEOUT_S + 0.3, f"the master lookup took {took:.2f} s"
        # The job workers' connection (rq worker -c worker) likewise.
        monkeypatch.setenv("REDIS_SENTINELS", f"127.0.0.1:{silent.port},127.0.0.1:{sentinel}")
        settings = importlib.reload(worker)
        t = time.monotonic()
        assert get_redis_from_config({"SENTINEL": settings.SENTINEL}).connection_pool.get_master_address() == address
        assert time.monotonic() - t < 2 * SENTINEL_TIMEOUT_S + 0.3
    finally:
        monkeypatch.delenv("REDIS_SENTINELS", raising=False)
        importlib.reload(worker)  # as the other tests import it (reloading keeps the old SENTINEL)
        worker.__dict__.pop("SENTINEL", None)
        silent.close()
        for p in procs:
            p.kill()
            p.wait()


@pytest.mark.real_clock
def test_the_door_skips_the_master_lookup_after_it_failed():
    """Inside the door, once finding the master failed (every Sentinel silent), the next call fails at
    once instead of asking the Sentinels again: its breaker is kept per master name, since a new
    connection has no address before the lookup."""
    import redis

    silent = [_SilentServer(), _SilentServer()]
    try:
        client = redis_client(f"redis+sentinel://{','.join(f'127.0.0.1:{s.port}' for s in silent)}/huiyi/0")
        reset_door_breaker()
        with door_calls():
            t = time.monotonic()
            with pytest.raises(redis.exceptions.ConnectionError):
                client.get("k")
            assert time.monotonic() - t < 2 * SENTINEL_TIMEOUT_S + 0.3
            t = time.monotonic()
            with pytest.raises(RedisSkipped):
                client.get("k")
            assert time.monotonic() - t < 0.05
    finally:
        reset_door_breaker()
        for s in silent:
            s.close()
