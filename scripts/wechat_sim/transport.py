"""How the simulator's phone reaches the callback, and how HTTP clients reach the simulator.

``Transport`` is any callable (method, url, headers, body, timeout) -> TransportResponse.
``RequestsTransport`` does real HTTP; ``WsgiTransport`` calls a WSGI app (e.g. the Flask
app under test) in-process. ``WsgiAdapter`` is the reverse direction: a requests adapter
so wechatpy or ``WeChatApi`` can talk to an in-process simulator without a socket.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict
from werkzeug.test import Client

WsgiApp = Callable[..., Any]


@dataclass
class TransportResponse:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Transport(Protocol):
    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
    ) -> TransportResponse: ...


class RequestsTransport:
    def __init__(self, session: requests.Session | None = None) -> None:
        self.session = session or requests.Session()

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
    ) -> TransportResponse:
        res = self.session.request(method, url, headers=dict(headers), data=body, timeout=timeout)
        return TransportResponse(res.status_code, res.content, dict(res.headers))


class WsgiTransport:
    """Deliver requests to a WSGI app in-process (scheme and host of the URL are ignored)."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app

    def __call__(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes, timeout: float
    ) -> TransportResponse:
        parts = urlsplit(url)
        res = Client(self.app).open(
            parts.path or "/", method=method, query_string=parts.query, headers=dict(headers), data=body,
            base_url=f"{parts.scheme or 'http'}://{parts.netloc or 'localhost'}",
        )
        return TransportResponse(res.status_code, res.get_data(), dict(res.headers))


class WsgiAdapter(BaseAdapter):
    """Mount on a ``requests.Session`` to send its requests to a WSGI app in-process.

    session.mount("http://wechat.sim/", WsgiAdapter(sim.app))
    """

    def __init__(self, app: WsgiApp) -> None:
        super().__init__()
        self.app = app

    def send(self, request: requests.PreparedRequest, stream: bool = False, timeout: Any = None,
             verify: Any = True, cert: Any = None, proxies: Any = None) -> requests.Response:
        parts = urlsplit(request.url or "")
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        res = Client(self.app).open(
            parts.path or "/", method=request.method or "GET", query_string=parts.query,
            headers=dict(request.headers), data=body or b"",
            base_url=f"{parts.scheme}://{parts.netloc}",
        )
        response = requests.Response()
        response.status_code = res.status_code
        response.headers = CaseInsensitiveDict(dict(res.headers))
        response._content = res.get_data()
        response.raw = BytesIO(response._content)
        response.url = request.url or ""
        response.request = request
        response.encoding = res.mimetype_params.get("charset")
        response.reason = res.status.split(" ", 1)[-1]
        return response

    def close(self) -> None:
        pass
