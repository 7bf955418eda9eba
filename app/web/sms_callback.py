"""The SMS provider's status push (回执推送): ``POST /sms/status/<token>``.

Tencent Cloud signs nothing in this push and documents no fixed source addresses, so the URL is the
secret: ``SMS_CALLBACK_TOKEN`` is its last segment, configured in the provider's console (应用管理 >
基础配置 > 事件回调配置) and compared in constant time; any other path is a plain 404. A forged push
could only mark one of our own serial numbers delivered or failed, and knowing one needs the token too.
Production refuses to start with SMS enabled and a short or demo token (app/config.py).
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, jsonify, request

from app.extensions import csrf
from app.services.notify import deliveries, sms

bp = Blueprint("sms_callback", __name__)
csrf.exempt(bp)  # the provider's server posts here, not a browser with our form token


@bp.post("/sms/status/<token>")
def status(token: str):
    expected = str(current_app.config.get("SMS_CALLBACK_TOKEN") or "")
    if not expected or not hmac.compare_digest(token.encode("utf-8", "replace"), expected.encode("utf-8")):
        abort(404)
    if (request.content_length or 0) > sms.MAX_CALLBACK_BYTES:
        return _refused(sms.SmsError("sms_bad_callback", "内容过大"))
    try:
        receipts = sms.parse_status_callback(request.get_data(cache=False))
    except sms.SmsError as exc:
        return _refused(exc)
    deliveries.apply_sms_receipts(receipts)
    return jsonify(sms.CALLBACK_OK)


def _refused(exc: sms.SmsError):
    # The provider reads result/errmsg (non-zero: not taken); our own clients read the error object.
    return jsonify(result=1, errmsg=exc.code, error={"code": exc.code, "message": exc.message}), exc.status
