"""SMS fixtures: the ``sms_sim`` fixture (tests/conftest.py) plus a stand-in for the delivery records."""

from __future__ import annotations

import sys
import types

import pytest


@pytest.fixture
def applied(monkeypatch):
    """Receipts handed to ``deliveries.apply_sms_receipts`` by the callback view, in order."""
    got: list = []

    def apply_sms_receipts(receipts):
        got.extend(receipts)
        return len(receipts)

    try:
        from app.services.notify import deliveries
    except ImportError:  # the lead's module is not there yet
        deliveries = types.ModuleType("app.services.notify.deliveries")
        monkeypatch.setitem(sys.modules, "app.services.notify.deliveries", deliveries)
        import app.services.notify as package

        monkeypatch.setattr(package, "deliveries", deliveries, raising=False)
    monkeypatch.setattr(deliveries, "apply_sms_receipts", apply_sms_receipts, raising=False)
    return got
