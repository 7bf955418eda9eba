"""The exceptions at the door (guests, walk-ins, unbinding, leave) and the meeting's log. [stub]"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console_door", __name__, url_prefix="/admin")


@bp.get("/<code>/door")
def page(code: str):
    return "", 404


@bp.get("/<code>/log")
def log(code: str):
    return "", 404
