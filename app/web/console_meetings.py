"""The meeting list and a meeting's settings, sessions and agenda. [stub: being built]"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console_meetings", __name__, url_prefix="/admin")


@bp.get("")
def index():
    return "", 404


@bp.get("/<code>/settings")
def settings(code: str):
    return "", 404


@bp.get("/<code>/sessions")
def sessions(code: str):
    return "", 404
