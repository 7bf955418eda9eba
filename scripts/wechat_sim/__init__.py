"""A faithful local simulator of WeChat's servers and of a user's phone.

    from scripts.wechat_sim import SimConfig, Simulator, WsgiTransport
    sim = Simulator(SimConfig(callback_url="http://app/wechat/callback", token="t"),
                    transport=WsgiTransport(flask_app))
    ticket = ...  # the app creates QR codes through WECHAT_API_BASE_URL pointing at sim.app
    reply = sim.phone.scan(openid, ticket=ticket)   # posts the signed event, returns the reply

Run standalone with ``python -m scripts.wechat_sim --port 8900 --callback-url ...``, or
mount ``sim.app`` under a prefix (werkzeug DispatcherMiddleware, e.g. "/_wechat").
"""

from scripts.wechat_sim.clock import SimClock
from scripts.wechat_sim.config import SimConfig
from scripts.wechat_sim.phone import Phone, PhoneReply
from scripts.wechat_sim.server import BackgroundServer
from scripts.wechat_sim.simulator import Simulator, create_sim_app
from scripts.wechat_sim.transport import (
    RequestsTransport,
    Transport,
    TransportResponse,
    WsgiAdapter,
    WsgiTransport,
)
from scripts.wechat_sim.wxa import parse_wxacode_payload, wxacode_payload

__all__ = [
    "BackgroundServer",
    "Phone",
    "PhoneReply",
    "RequestsTransport",
    "SimClock",
    "SimConfig",
    "Simulator",
    "Transport",
    "TransportResponse",
    "WsgiAdapter",
    "WsgiTransport",
    "create_sim_app",
    "parse_wxacode_payload",
    "wxacode_payload",
]
