"""``POST /wechat/callback``: every message and event WeChat sends, answered as plain WSGI.

During a burst at the door this endpoint takes hundreds of scans a second, and Flask's request
machinery (request and session objects, cookies, CSRF, URL routing, response objects and their
hooks) cost ~170 µs of CPU per request, more than the rest of the request side (docs/benchmarks.md).
The callback uses none of it: WeChat sends no cookies and the body is XML. So :class:`CallbackFirst`
answers it in front of Flask, inside an app context, where the services, the database session and
the config work as in any view. Everything else, the GET URL verification included, goes on to Flask.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from http import HTTPStatus
from urllib.parse import parse_qsl

from flask import Flask, current_app
from werkzeug.wsgi import get_input_stream

from app.client_address import client_ip
from app.extensions import door_calls
from app.services.codes.scenes import parse_scene
from app.tx import unit_of_work
from wechat_handlers import scan_lane
from wechat_handlers.deadline import ANSWER_MARGIN_S, Deadline, proxy_wait_s
from wechat_handlers.dedupe import admit, lease_left, message_key, remember_reply, take_over, wait_for_reply
from wechat_handlers.dispatch import dispatch
from wechat_handlers.envelope import MAX_BODY_BYTES, EnvelopeError, open_envelope, seal_reply, wechat_keys
from wechat_handlers.replies import BUSY, UNSURE, text_reply
from wechat_handlers.scan import scene_of

log = logging.getLogger(__name__)
PATH = "/wechat/callback"
_TEXT = "text/plain; charset=utf-8"
_XML = "application/xml; charset=utf-8"


class CallbackFirst:
    """WSGI middleware: ``POST /wechat/callback`` here, every other request to ``app``'s own WSGI app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.next = app.wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.next(environ, start_response)
        # Its teardown ends the database session, as after a view. Redis may not hold the answer up.
        with self.app.app_context(), door_calls():
            try:
                status, content_type, text = receive(environ)
            except Exception:  # a bug, not bad input: WeChat retries a 500 up to twice
                log.exception("WeChat callback failed")
                status, content_type, text = "500 Internal Server Error", _TEXT, "internal error"
        body = text.encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
        return [body]


def receive(environ) -> tuple[str, str, str]:
    """(HTTP status line, content type, body) for one callback, by its deadline (wechat_handlers.deadline)."""
    deadline = Deadline.after_waiting(_waited(environ))
    try:
        declared = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "400 Bad Request", _TEXT, "bad Content-Length"
    if declared > MAX_BODY_BYTES:
        return "413 Request Entity Too Large", _TEXT, "too large"
    try:
        body = get_input_stream(environ).read(MAX_BODY_BYTES + 1)
        envelope = open_envelope(body, _query(environ), **wechat_keys(current_app.config),
                                 allow_plaintext=current_app.config["WECHAT_ALLOW_PLAINTEXT"])
        key = message_key(envelope)
        scene = scene_of(envelope)
        if scene is not None:  # a scan: answered in a round with the others arriving now
            answered = scan_lane.answer(envelope, key, scene, deadline)
            if answered is scan_lane.RETRY:
                answered = _retry(envelope, key, scene, deadline)
            if isinstance(answered, str):
                return _reply(answered)
            first = answered is scan_lane.FIRST_SCAN
        elif admit(envelope, key):
            first = True
        else:
            answered = _retry(envelope, key, None, deadline)
            if isinstance(answered, str):
                return _reply(answered)
            first = answered is scan_lane.FIRST_SCAN
    except EnvelopeError as exc:
        log.warning("refused WeChat callback from %s: %s", client_ip(environ), exc.reason)
        return f"{exc.status} {HTTPStatus(exc.status).phrase}", _TEXT, exc.reason

    if not first:  # a retry of a message still being answered elsewhere, which kept no answer in time
        return _reply(_seal(envelope, UNSURE) if scene is not None else "")

    try:
        with unit_of_work():
            text = dispatch(envelope, deadline)
        keep = True
    except Exception:
        log.exception("callback failed for %s", key)
        text, keep = _failed(envelope, scene), False
    reply = _seal(envelope, text) if text else ""
    if keep:  # an answer that stands; a failure's is not kept, so that WeChat's retry tries again
        remember_reply(key, reply)
    if deadline.left() == 0:
        log.warning("callback %s missed its deadline; WeChat may have given up on it", key)
    return _reply(reply)


def _retry(envelope, key: str, scene: str | None, deadline: Deadline):
    """A retry of a message another request claimed: its answer once kept, else, when that request's
    lease ran out without one (its worker died, or its answer could not be kept), this request takes
    the message over and answers it for real. Returns the sealed answer (a scan), FIRST_SCAN (do the
    work), or RETRY (the first request still owns it and kept no answer by this one's deadline)."""
    reply = wait_for_reply(key, min(deadline.left(ANSWER_MARGIN_S), lease_left(key) + 0.05))
    if reply is not None:
        return reply
    if not take_over(key):
        return scan_lane.RETRY
    log.warning("taking over %s: its first attempt left no answer", key)
    if scene is not None:
        return scan_lane.answer(envelope, key, scene, deadline, admitted=True)
    return scan_lane.FIRST_SCAN


def _failed(envelope, scene: str | None) -> str:
    """What to say when answering failed: for a meeting's scan, the truth from the database (a first
    scan may have signed in before it failed); else that the system is busy."""
    parsed = parse_scene(scene) if scene is not None else None
    if parsed is None:
        return BUSY
    arrival = scan_lane.Arrival(envelope, "", parsed, datetime.now(UTC), admitted=True)
    return scan_lane.settle(arrival, stored=False)


def _seal(envelope, text: str) -> str:
    return seal_reply(text_reply(envelope.get("FromUserName"), envelope.get("ToUserName"), text), envelope,
                      **wechat_keys(current_app.config))


def _waited(environ) -> float:
    """How long the request was on its way from our proxy (0 unless the proxy is ours)."""
    if not current_app.config.get("TRUST_PROXY"):
        return 0.0
    return proxy_wait_s(environ.get("HTTP_X_REQUEST_START"))


def _query(environ) -> dict[str, str]:
    """The query string's parameters; a repeated one keeps its first value, as Flask's ``args.get``."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True):
        params.setdefault(name, value)
    return params


def _reply(reply: str) -> tuple[str, str, str]:
    # An empty body (or "success") tells WeChat "received, nothing to say"; never an error page.
    return ("200 OK", _XML, reply) if reply else ("200 OK", _TEXT, "success")
