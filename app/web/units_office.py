"""The unit office's directory page: log in, template, upload, dry-run report, confirm, history."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("units_office", __name__, url_prefix="/units")
