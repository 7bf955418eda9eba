"""Front door for the mini program: JSON API under /api/mp/v1, described by /api/mp/v1/openapi.json."""

from flask import jsonify

# The view modules register their routes (and their OpenAPI operations) on the blueprint on import.
from miniprogram_api import (  # noqa: F401
    views_cards,
    views_desk,
    views_documents,
    views_history,
    views_meetings,
    views_notices,
    views_registration,
    views_session,
    views_votes,
)
from miniprogram_api.blueprint import bp
from miniprogram_api.openapi import document


def openapi_document() -> dict:
    return document(bp.url_prefix, title="会易小程序接口", version="1.0.0")


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(openapi_document())
