"""Front door for the mini program: JSON API under /api/mp/v1."""

from flask import Blueprint

bp = Blueprint("mp_api", __name__, url_prefix="/api/mp/v1")
