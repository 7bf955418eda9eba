"""Flask's signed-cookie session, with its signing serializer built once per secret.

Flask builds the serializer again for every request, including the many that carry no session
cookie at all (WeChat's callbacks, the screens' streams): measurable on the scan path. The keys and
settings are the same, so every cookie reads and writes exactly as before.
"""

from __future__ import annotations

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class CachedSerializerSessionInterface(SecureCookieSessionInterface):
    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        secrets = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        cached = app.extensions.get("huiyi_session_serializer")
        if cached is not None and cached[0] == secrets:
            return cached[1]
        serializer = super().get_signing_serializer(app)
        app.extensions["huiyi_session_serializer"] = (secrets, serializer)
        return serializer
