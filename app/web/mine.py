"""The attendee's own pages behind the official-account menu: 我的会议 (/m/my) and 会议资料
(/m/materials). Both read one service, the history, which asks the documents service what each
person may still open."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.services.meetings import history
from app.web.auth import current_identity, wechat_login_required

bp = Blueprint("mine", __name__, url_prefix="/m")

STATUS_LABELS = {"signed_in": "已签到", "invited": "未签到", "pending": "报名待审核", "rejected": "报名未通过"}
NO_STORE = "private, no-store, max-age=0"


@bp.context_processor
def _page_globals():
    return {"status_labels": STATUS_LABELS}


def _page(template: str, per_page: int):
    identity = current_identity()
    if identity.contact is None:
        return render_template("mine/unbound.html")
    number = request.args.get("page", "1")
    page = history.my_meetings(identity.contact, page=int(number) if number.isascii() and number.isdigit() else 1, per_page=per_page,
                               secret_key=current_app.config["SECRET_KEY"], identity_id=identity.id)
    response = current_app.make_response(render_template(template, page=page, contact=identity.contact))
    response.headers["Cache-Control"] = NO_STORE  # the material links are this person's own
    return response


@bp.get("/my")
@wechat_login_required
def my_meetings():
    return _page("mine/my.html", per_page=20)


@bp.get("/materials")
@wechat_login_required
def my_materials():
    return _page("mine/materials.html", per_page=history.MAX_PER_PAGE)
