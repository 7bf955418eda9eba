"""The mini program's blueprint, on which every view module registers its routes."""

from flask import Blueprint

bp = Blueprint("mp_api", __name__, url_prefix="/api/mp/v1")
