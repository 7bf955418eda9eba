"""The client's address, for rate limits, logs and audit records."""

from __future__ import annotations

from flask import current_app, request


def client_ip(environ=None) -> str | None:
    """The address of the request ``environ`` (default: Flask's current request).

    X-Forwarded-For is trusted only behind our own proxy (TRUST_PROXY), and then only its last hop,
    the one that proxy appended: earlier hops are client-supplied."""
    if environ is None:
        environ = request.environ
    if current_app.config.get("TRUST_PROXY"):
        hops = [h.strip() for h in environ.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if hops:
            return hops[-1]
    return environ.get("REMOTE_ADDR")
