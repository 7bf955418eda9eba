"""The mini program's bind behind our own proxy: limited per client address, as on the H5 door."""

from __future__ import annotations

from sqlalchemy import select

from app.services.identity import binding
from models import AuditLog
from tests.mp.conftest import API, bearer, token_for

WRONG = {"unit": "发改局", "name": "张四", "phone": "13800138000"}


def _bind(client, app, factory, n: int, forwarded_for: str):
    auth = bearer(token_for(app, factory.identity(mp_openid=f"mp-addr-{n}", oa_openid=None)))
    return client.post(f"{API}/identity/bind", json=WRONG, headers={**auth, "X-Forwarded-For": forwarded_for})


def test_bind_behind_the_trusted_proxy_is_limited_per_forwarded_client(app, client, db, factory, people,
                                                                      monkeypatch):
    monkeypatch.setitem(app.config, "TRUST_PROXY", True)
    monkeypatch.setattr(binding, "FAILS_PER_IP", 2)
    # Every request reaches the app from the proxy (127.0.0.1); the proxy appends the client's address.
    for n in range(2):
        res = _bind(client, app, factory, n, "9.9.9.9, 1.1.1.1")  # the first hop is the client's to forge
        assert res.status_code == 400 and res.json["error"]["code"] == "identity_mismatch"
    res = _bind(client, app, factory, 2, "1.1.1.1")
    assert res.status_code == 429 and res.json["error"]["code"] == "rate_limited"
    # Another client behind the same proxy is not held back by the first one's failures.
    res = _bind(client, app, factory, 3, "2.2.2.2")
    assert res.status_code == 400 and res.json["error"]["code"] == "identity_mismatch"
    ips = db.session.scalars(select(AuditLog.ip).where(AuditLog.action == "identity.bind_failed")
                             .order_by(AuditLog.id)).all()
    assert ips == ["1.1.1.1", "1.1.1.1", "2.2.2.2"]


def test_forwarded_for_is_ignored_without_a_trusted_proxy(app, client, db, factory, people):
    _bind(client, app, factory, 10, "1.2.3.4")
    assert db.session.scalar(select(AuditLog.ip).where(AuditLog.action == "identity.bind_failed")) == "127.0.0.1"
