"""Attendee H5 pages opened in WeChat: meeting page, identity binding, results."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("attendee", __name__, url_prefix="/m")
