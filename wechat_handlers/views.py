"""``GET|POST /wechat/callback``: WeChat's URL verification and every message and event."""

from __future__ import annotations

import logging
import time

from flask import Response, current_app, request

from app.extensions import csrf, db
from app.services import live_events
from wechat_handlers import bp, scan_lane
from wechat_handlers.dedupe import admit, message_key, remember_reply, wait_for_reply
from wechat_handlers.dispatch import dispatch
from wechat_handlers.envelope import (
    MAX_BODY_BYTES,
    EnvelopeError,
    check_query,
    open_envelope,
    seal_reply,
    wechat_keys,
)
from wechat_handlers.replies import BUSY, text_reply
from wechat_handlers.scan import scene_of

log = logging.getLogger(__name__)


@bp.get("/callback")
@csrf.exempt
def verify():
    try:
        check_query(current_app.config["WECHAT_TOKEN"], request.args)
    except EnvelopeError as exc:
        return Response("forbidden", status=exc.status, mimetype="text/plain")
    return Response(request.args.get("echostr", ""), mimetype="text/plain")


@bp.post("/callback")
@csrf.exempt
def receive():
    started = time.monotonic()
    if (request.content_length or 0) > MAX_BODY_BYTES:
        return Response("too large", status=413, mimetype="text/plain")
    try:
        body = request.stream.read(MAX_BODY_BYTES + 1)
        envelope = open_envelope(body, request.args, **wechat_keys(current_app.config))
        key = message_key(envelope)
        scene = scene_of(envelope)
        if scene is not None:  # a scan: answered in a round with the others arriving now
            answered = scan_lane.answer(envelope, key, scene)
            if isinstance(answered, str):
                return _xml(answered)
            first = answered is scan_lane.FIRST_SCAN
        else:
            first = admit(envelope, key)
    except EnvelopeError as exc:
        log.warning("refused WeChat callback from %s: %s", request.remote_addr, exc.reason)
        return Response(exc.reason, status=exc.status, mimetype="text/plain")

    if not first:
        # A retry of a message we are handling or have handled: same answer, no second run.
        return _xml(wait_for_reply(key) or "")

    # The live event (published after the commit) and the reply kept for retries: one Redis round trip.
    with live_events.batch() as redis_batch:
        try:
            text = dispatch(envelope)
            db.session.commit()
            if callable(text):  # a sign-in reply: its order number exists only after the commit
                text = text()
        except Exception:
            db.session.rollback()
            log.exception("callback failed for %s", key)
            text = BUSY
        reply = seal_reply(text_reply(envelope.get("FromUserName"), envelope.get("ToUserName"), text), envelope,
                           **wechat_keys(current_app.config)) if text else ""
        remember_reply(key, reply, redis_batch)
    if time.monotonic() - started > 4.5:
        log.warning("callback %s took %.1fs; WeChat may have given up on it", key, time.monotonic() - started)
    return _xml(reply)


def _xml(reply: str) -> Response:
    # An empty body (or "success") tells WeChat "received, nothing to say"; never an error page.
    return Response(reply or "success", mimetype="application/xml" if reply else "text/plain")
