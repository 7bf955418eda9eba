"""The staff scanner (会务人员 at the door): one page that keeps working when the network fails.

The page is the same for every desk: its desk token arrives in the link's fragment (``#t=…``, never
sent to a server), is kept in the browser, and authenticates the scanner's JSON calls
(``/api/mp/v1/desk/…``, miniprogram_api/views_desk.py). A service worker (``/desk/sw.js``, scope
``/desk/``) keeps the page and its scripts for when the network is gone; the meeting's data and the
queue of scans live in IndexedDB (app/web/static/desk/scanner.js).
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, url_for

from app.web.pages import WEB_DIR

bp = Blueprint("desk", __name__, url_prefix="/desk")

#: Bumped when the cached files change shape: the worker drops older caches.
CACHE_VERSION = "desk-v2"


def _assets() -> list[str]:
    return [url_for("desk.page"), url_for("screen.static", filename="desk/scanner.js"),
            url_for("screen.static", filename="desk/scanner.css"),
            url_for("screen.static", filename="vendor/zxing/zxing.min.js"),
            url_for("screen.static", filename="vendor/jsqr/jsQR.js")]


@bp.get("/")
def page():
    # No token on the server side: the page is a shell, the same for every desk, cached offline.
    return render_template("desk/scanner.html", sw_url=url_for("desk.service_worker"), assets=_assets())


@bp.get("/sw.js")
def service_worker():
    body = (WEB_DIR / "static" / "desk" / "sw.js").read_text(encoding="utf-8")
    body = body.replace("__CACHE__", CACHE_VERSION).replace("__ASSETS__", _json(_assets()))
    # Never cached by HTTP: a new version of the worker must reach the desks at their next visit.
    return Response(body, mimetype="text/javascript", headers={"Cache-Control": "no-cache"})


def _json(value) -> str:
    import json

    return json.dumps(value)
