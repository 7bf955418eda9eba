"""``GET /wechat/callback``: WeChat's URL verification. The POSTs are :mod:`wechat_handlers.callback`'s."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request

from app.extensions import csrf
from wechat_handlers.envelope import EnvelopeError, check_query

bp = Blueprint("wechat", __name__, url_prefix="/wechat")


@bp.get("/callback")
@csrf.exempt
def verify():
    try:
        check_query(current_app.config["WECHAT_TOKEN"], request.args)
    except EnvelopeError as exc:
        return Response("forbidden", status=exc.status, mimetype="text/plain")
    return Response(request.args.get("echostr", ""), mimetype="text/plain")
