"""Fixtures for the WeChat seam and simulator tests: everything in-process, no network, no app."""

from __future__ import annotations

from collections.abc import Iterator

import fakeredis
import pytest
import requests
from wechatpy import WeChatClient

from app.wechat import WeChatApi
from scripts.wechat_sim import SimClock, SimConfig, Simulator, WsgiAdapter

SIM_BASE = "http://wechat.sim"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


@pytest.fixture
def sim_clock() -> SimClock:
    return SimClock()


@pytest.fixture
def sim_config() -> SimConfig:
    return SimConfig(callback_url="http://callback.test/wechat/callback", callback_timeout=2.0)


@pytest.fixture
def sim(sim_config: SimConfig, sim_clock: SimClock) -> Iterator[Simulator]:
    simulator = Simulator(sim_config, clock=sim_clock)
    yield simulator
    simulator.phone.wait_idle()


@pytest.fixture
def sim_http(sim: Simulator) -> requests.Session:
    """A requests session whose http://wechat.sim/ (and WeChat's real hosts) reach the simulator."""
    session = requests.Session()
    adapter = WsgiAdapter(sim.app)
    for prefix in (f"{SIM_BASE}/", "https://api.weixin.qq.com/", "https://mp.weixin.qq.com/"):
        session.mount(prefix, adapter)
    return session


@pytest.fixture
def fake_redis() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis()


@pytest.fixture
def oa(sim: Simulator, sim_http: requests.Session, fake_redis: fakeredis.FakeRedis, sim_clock: SimClock) -> WeChatApi:
    return WeChatApi(sim.config.app_id, sim.config.app_secret, redis=fake_redis, base_url=SIM_BASE,
                     http=sim_http, clock=sim_clock, kind="oa")


@pytest.fixture
def mp(sim: Simulator, sim_http: requests.Session, fake_redis: fakeredis.FakeRedis, sim_clock: SimClock) -> WeChatApi:
    return WeChatApi(sim.config.mp_app_id, sim.config.mp_app_secret, redis=fake_redis, base_url=SIM_BASE,
                     http=sim_http, clock=sim_clock, kind="mp")


@pytest.fixture
def wx(sim: Simulator, sim_http: requests.Session) -> WeChatClient:
    """wechatpy's own, unmodified client; its hardcoded api.weixin.qq.com reaches the simulator."""
    client = WeChatClient(sim.config.app_id, sim.config.app_secret, auto_retry=False)
    client._http = sim_http
    return client
