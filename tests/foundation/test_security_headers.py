"""Every response served through Flask carries the security headers; the session cookie is SameSite."""

from __future__ import annotations

import pytest

from app.web.headers import HEADERS
from tests.console.conftest import build_console, login_as


@pytest.mark.parametrize("path", ["/healthz", "/admin/login", "/m/NOPE", "/admin/NOPE/numbers.json", "/no/such/page"])
def test_headers_on_pages_json_and_errors(client, path):
    res = client.get(path)
    for name, value in HEADERS.items():
        assert res.headers.get(name) == value, (path, name)
    csp = res.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self' 'nonce-" in csp and "unsafe-eval" not in csp


def test_session_cookie_is_samesite_and_secure_only_over_https(app, client, factory):
    console = build_console(factory)
    login_as(client, console, "owner")
    res = client.get(f"/admin/{console.meeting.code}")
    cookie = res.headers.get("Set-Cookie") or ""
    if cookie:  # the session is re-sent when it changes; if it is, it must carry the flags
        assert "SameSite=Lax" in cookie and "Secure" not in cookie
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False  # the tests' PUBLIC_BASE_URL is http


def test_https_deployments_get_secure_cookies():
    from app.factory import create_app

    app = create_app({"PUBLIC_BASE_URL": "https://meet.example.gov.cn", "DATABASE_URL": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_the_nonce_is_per_response(client):
    a = client.get("/healthz").headers["Content-Security-Policy"]
    b = client.get("/healthz").headers["Content-Security-Policy"]
    assert a != b
