"""Security headers on every response the app serves through Flask (pages, JSON, files).

- No page may be framed (``frame-ancestors 'none'`` and, for old browsers, ``X-Frame-Options``):
  the console's 代签 and the unit office's 确认导入 are one click each, so a framing page could
  trick an organizer into them.
- ``Referrer-Policy: no-referrer``: the big screen's key and bind tokens travel in URLs.
- ``nosniff``: uploads are served back (documents, exports) and must never be run as script.
- Scripts only from our own origin, or inline with this response's nonce (``csp_nonce()`` in a
  template): an injected ``<script>`` or ``onclick=`` never runs, whatever escaping missed. Styles may
  be inline (the H5 pages inline their CSS to save a round trip on weak networks); nothing is loaded
  from another origin (venue networks have no CDN, and nothing should be).
The session cookie is ``SameSite=Lax`` and ``Secure`` when the public address is HTTPS (config).
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, request

CSP = ("default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
HEADERS = {
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def csp_nonce() -> str:
    """This response's script nonce (one per request, made when a template first asks). Kept in the
    request's environ, not ``g``: an app context can outlive one request (the CLI, tests)."""
    environ = request.environ
    if "huiyi.csp_nonce" not in environ:
        environ["huiyi.csp_nonce"] = secrets.token_urlsafe(16)
    return environ["huiyi.csp_nonce"]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    # Lax, not Strict: WeChat OAuth comes back to us by a top-level GET that must carry the session.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("PUBLIC_BASE_URL", "")).startswith("https://")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", CSP.format(nonce=csp_nonce()))
        return response
