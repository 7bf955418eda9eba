"""The SMS simulator: state, the provider's API, receipts pushed to a callback URL, and a page."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, request

from scripts.sms_sim import api
from scripts.sms_sim.config import SmsSimConfig
from scripts.sms_sim.state import CHINA, SmsSimState
from scripts.wechat_sim.clock import SimClock
from scripts.wechat_sim.transport import RequestsTransport, Transport

log = logging.getLogger("huiyi.sms_sim")


class SmsSimulator:
    """A local stand-in for Tencent Cloud SMS.

    sim = SmsSimulator(SmsSimConfig(templates={...}, callback_url=...), transport=WsgiTransport(app))
    sim.app                      # WSGI: POST / (the API), GET / (短信模拟器), /messages, /push, /numbers/fail
    sim.state.fail_number(phone) # its receipts say FAIL (空号)
    sim.push_receipts()          # post pending receipts to callback_url now
    """

    def __init__(self, config: SmsSimConfig | None = None, *, clock: Callable[[], float] | None = None,
                 transport: Transport | None = None) -> None:
        self.config = config or SmsSimConfig()
        self.clock: Callable[[], float] = clock or SimClock()
        self.state = SmsSimState(self.clock)
        self.transport: Transport = transport or RequestsTransport()
        self._push_scheduled = False
        self.app = self._create_app()

    # -- receipts ------------------------------------------------------------------------------------

    def receipt_due(self) -> None:
        """A receipt is ready: push it after ``callback_delay`` when pushes are automatic."""
        delay = self.config.callback_delay
        if delay is None or not self.config.callback_url:
            return
        with self.state.lock:  # one timer at a time: its push takes every receipt ready by then
            if self._push_scheduled:
                return
            self._push_scheduled = True
        timer = threading.Timer(delay, self._push_quietly)
        timer.daemon = True
        timer.start()

    def _push_quietly(self) -> None:
        with self.state.lock:
            self._push_scheduled = False
        try:
            self.push_receipts()
        except Exception as exc:  # the provider retries later; the demo keeps running
            log.warning("SMS receipt push failed: %s", exc)

    def push_receipts(self) -> list[tuple[int, bytes]]:
        """Post every receipt not yet taken to ``callback_url`` in one push (as the provider batches
        them); those not answered ``{"result": 0}`` stay pending for the next push."""
        url = self.config.callback_url
        if not url:
            return []
        with self.state.lock:
            batch = [m for m in self.state.messages if m.receipt is not None and not m.pushed]
            for message in batch:
                message.pushed = True  # claimed: a concurrent push leaves them alone
        if not batch:
            return []
        body = json.dumps([api.callback_item(m) for m in batch], ensure_ascii=False).encode("utf-8")
        try:
            res = self.transport("POST", url, {"Content-Type": "application/json"}, body,
                                 self.config.callback_timeout)
            status, answer = res.status, res.body
        except Exception as exc:
            status, answer = 0, str(exc).encode()
        ok = False
        try:
            ok = status == 200 and json.loads(answer).get("result") == 0
        except (ValueError, AttributeError):
            ok = False
        with self.state.lock:
            self.state.push_answers.append((status, answer))
            if not ok:
                for message in batch:
                    message.pushed = False
        return [(status, answer)]

    # -- the WSGI app --------------------------------------------------------------------------------

    def _create_app(self) -> Flask:
        app = Flask(__name__, template_folder=str(Path(__file__).with_name("templates")))
        app.extensions["sms_sim"] = self
        sim = self

        @app.post("/")
        def call() -> Response:
            sim.state.calls[request.headers.get("X-TC-Action", "")] += 1
            return api.handle(sim)

        @app.get("/")
        def inbox_page() -> str:
            with sim.state.lock:
                messages = [m.public() for m in reversed(sim.state.messages)]
            for m in messages:
                m["sent_local"] = _local(m["sent_at"])
            return render_template("inbox.html", messages=messages, config=sim.config,
                                   failing=sorted(sim.state.failing.items()))

        @app.get("/messages")
        def messages() -> Response:
            phone = request.args.get("phone") or None
            since = request.args.get("since", type=int) or 0
            with sim.state.lock:
                found = sim.state.inbox(phone) if phone else list(sim.state.messages)
                return jsonify([m.public() for m in found if m.id > since])

        @app.post("/push")
        def push() -> Any:
            answers = sim.push_receipts()
            if request.accept_mimetypes.best == "application/json" or request.is_json:
                return jsonify([{"status": s, "body": b.decode("utf-8", "replace")} for s, b in answers])
            return redirect(request.script_root + "/")

        @app.post("/numbers/fail")
        def fail_number() -> Any:
            phone = (request.form.get("phone") or "").strip()
            if phone:
                sim.state.fail_number(phone, request.form.get("errmsg") or "UNDELIV",
                                      request.form.get("description") or "空号")
            return redirect(request.script_root + "/")

        return app


def _local(ts: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts, CHINA).strftime("%m-%d %H:%M:%S")


class TencentApiRoute:
    """WSGI middleware for the demo: the provider's API calls (``POST /`` carrying X-TC-Action, as
    the SDK sends them to SMS_ENDPOINT) go to the simulator; everything else to ``app``. So the app
    and both simulators share one port, and the SDK's request is exactly the production one."""

    def __init__(self, app: Callable[..., Any], sms_app: Callable[..., Any]) -> None:
        self.app = app
        self.sms_app = sms_app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_TC_ACTION") and environ.get("PATH_INFO", "/") in ("", "/"):
            return self.sms_app(environ, start_response)
        return self.app(environ, start_response)
