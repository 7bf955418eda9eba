"""The session cookie reads and writes as Flask's own, with the serializer built once per secret."""

from __future__ import annotations

from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface

from app.cookie_session import CachedSerializerSessionInterface


def _app(secret: str, interface) -> Flask:
    app = Flask(__name__)
    app.secret_key = secret
    app.session_interface = interface

    @app.get("/set")
    def set_():
        session["who"] = "张三"
        return "ok"

    @app.get("/get")
    def get_():
        return session.get("who", "nobody")

    return app


def test_cookies_are_interchangeable_with_flasks_own():
    ours, theirs = _app("s1", CachedSerializerSessionInterface()), _app("s1", SecureCookieSessionInterface())
    client = ours.test_client()
    client.get("/set")
    cookie = client.get_cookie("session").value
    other = theirs.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/get").text == "张三"


def test_serializer_is_reused_and_follows_a_new_secret():
    app = _app("s1", CachedSerializerSessionInterface())
    first = app.session_interface.get_signing_serializer(app)
    assert app.session_interface.get_signing_serializer(app) is first
    client = app.test_client()
    client.get("/set")
    app.secret_key = "s2"  # a rotated secret: old cookies no longer read
    assert app.session_interface.get_signing_serializer(app) is not first
    assert client.get("/get").text == "nobody"
