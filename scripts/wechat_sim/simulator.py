"""The simulator object: state + phone + the Flask app serving WeChat's endpoints."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask, Response, request

from scripts.wechat_sim import control, menus, messages, oauth, qrcodes, tags, tokens, users, wxa
from scripts.wechat_sim.clock import SimClock
from scripts.wechat_sim.config import SimConfig
from scripts.wechat_sim.errors import SimError, wechat_error
from scripts.wechat_sim.phone import Phone
from scripts.wechat_sim.state import SimState
from scripts.wechat_sim.transport import RequestsTransport, Transport


class Simulator:
    """A local stand-in for WeChat's servers (and a user's phone).

    sim = Simulator(SimConfig(callback_url=...), transport=WsgiTransport(app_under_test))
    sim.app                 # WSGI app: /cgi-bin/..., /sns/..., /wxa/..., /connect/..., /_sim/...
    sim.phone.scan(openid, ticket=...)   # -> PhoneReply
    sim.state               # users, tokens, counters, test hooks
    """

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        clock: Callable[[], float] | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.config = config or SimConfig()
        self.clock: Callable[[], float] = clock or SimClock()
        self.state = SimState(self.config, self.clock)
        self.transport: Transport = transport or RequestsTransport()
        self.phone = Phone(self)
        self.app = self._create_app()

    def _create_app(self) -> Flask:
        app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
        app.config["SECRET_KEY"] = self.config.secret_key
        app.extensions["wechat_sim"] = self
        for module in (tokens, qrcodes, menus, tags, users, messages, oauth, wxa, control):
            app.register_blueprint(module.bp)

        @app.before_request
        def count_and_inject() -> Response | None:
            self.state.calls[request.path] += 1
            errcode = self.state.take_injected(request.path)
            return wechat_error(errcode) if errcode is not None else None

        @app.errorhandler(SimError)
        def sim_error(exc: SimError) -> Response:
            return wechat_error(exc.errcode, exc.errmsg)

        return app


def create_sim_app(
    config: SimConfig | None = None,
    *,
    clock: Callable[[], float] | None = None,
    transport: Transport | None = None,
) -> Flask:
    """The simulator's Flask app; the Simulator is at ``app.extensions["wechat_sim"]``."""
    return Simulator(config, clock=clock, transport=transport).app
