"""A meeting's invitees and organizers. [stub: being built]"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("console_people", __name__, url_prefix="/admin")


@bp.get("/<code>/invitees")
def invitees(code: str):
    return "", 404


@bp.get("/<code>/organizers")
def organizers(code: str):
    return "", 404
