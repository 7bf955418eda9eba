"""Security headers on every response the app serves through Flask (pages, JSON, files).

- No page may be framed (``frame-ancestors 'none'`` and, for old browsers, ``X-Frame-Options``):
  the console's 代签 and the unit office's 确认导入 are one click each, so a framing page could
  trick an organizer into them.
- ``Referrer-Policy: no-referrer``: the big screen's key and bind tokens travel in URLs.
- ``nosniff``: uploads are served back (documents, exports) and must never be run as script.
The session cookie is ``SameSite=Lax`` and ``Secure`` when the public address is HTTPS (config).
"""

from __future__ import annotations

from flask import Flask, Response

HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}


def init_app(app: Flask) -> None:
    # Lax, not Strict: WeChat OAuth comes back to us by a top-level GET that must carry the session.
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = str(app.config.get("PUBLIC_BASE_URL", "")).startswith("https://")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response
