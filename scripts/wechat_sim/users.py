"""``/cgi-bin/user/info``: a follower's basic information, including the unionid.

WeChat answers with ``subscribe: 0`` and nothing else for someone who does not follow the account,
and includes ``unionid`` only when the account is bound to an open-platform account.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify, request

from scripts.wechat_sim.context import requires_token, sim_state

bp = Blueprint("sim_users", __name__)


@bp.get("/cgi-bin/user/info")
@requires_token("oa")
def info() -> Response:
    user = sim_state().oa_user(request.args.get("openid", ""))
    if not user.subscribed:
        return jsonify(subscribe=0, openid=user.oa_openid)
    body = {"subscribe": 1, "openid": user.oa_openid, "language": "zh_CN", "subscribe_time": 0,
            "tagid_list": list(user.tags), "remark": "", "subscribe_scene": "ADD_SCENE_QR_CODE"}
    if user.unionid:
        body["unionid"] = user.unionid
    return jsonify(body)
