"""The organizer console (H5 in WeChat and desktop): live headcount, 代签, 催签, votes, documents."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console", __name__, url_prefix="/admin")
