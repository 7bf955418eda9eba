"""Several processes share one access token through real Redis: at most one refresh at WeChat."""

from __future__ import annotations

import multiprocessing
import uuid
from collections.abc import Iterator

import pytest
import redis

from scripts.wechat_sim import BackgroundServer, SimConfig, Simulator

REDIS_URL = "redis://127.0.0.1:6379/14"
WORKERS = 6


def _redis_or_skip() -> redis.Redis:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    return client


def worker(base_url: str, app_id: str, secret: str, action: str, start: object, out: object) -> None:
    from app.wechat import WeChatApi

    api = WeChatApi(app_id, secret, redis=redis.Redis.from_url(REDIS_URL), base_url=base_url, timeout=10)
    start.wait()  # type: ignore[attr-defined]
    try:
        result = api.access_token() if action == "token" else str(len(api.get_tags()))
        out.put(("ok", result))  # type: ignore[attr-defined]
    except Exception as exc:  # report, don't hang the parent
        out.put(("error", repr(exc)))  # type: ignore[attr-defined]


@pytest.fixture
def served_sim() -> Iterator[tuple[Simulator, str]]:
    client = _redis_or_skip()
    config = SimConfig(app_id=f"wxproc{uuid.uuid4().hex[:10]}", token_latency=0.3)
    sim = Simulator(config)
    with BackgroundServer(sim.app) as base_url:
        yield sim, base_url
    for key in client.scan_iter(f"huiyi:wechat:access_token:{config.app_id}*"):
        client.delete(key)


def _run_all(sim: Simulator, base_url: str, action: str) -> list[str]:
    ctx = multiprocessing.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(base_url, sim.config.app_id, sim.config.app_secret, action, start, out))
             for _ in range(WORKERS)]
    for p in procs:
        p.start()
    start.set()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(10)
    assert all(kind == "ok" for kind, _ in results), results
    return [value for _, value in results]


def test_processes_refresh_once(served_sim: tuple[Simulator, str]) -> None:
    sim, base_url = served_sim
    tokens = _run_all(sim, base_url, "token")
    assert len(set(tokens)) == 1
    assert sim.state.token_issues("stable", sim.config.app_id) == 1
    assert sim.state.calls["/cgi-bin/stable_token"] == 1

    # WeChat now refuses the shared token: every process sees 40001 at once, one refreshes.
    sim.state.invalidate_tokens()
    _run_all(sim, base_url, "tags")
    assert sim.state.token_issues("stable", sim.config.app_id) == 2
    assert sim.state.calls["/cgi-bin/stable_token"] == 2
