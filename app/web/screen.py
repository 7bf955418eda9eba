"""The big screen on the venue projector: QR, live numbers, per-unit progress, live votes."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("screen", __name__, url_prefix="/screen")
