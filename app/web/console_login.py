"""Desktop login by WeChat scan (/admin/login) and logout. [stub: being built]"""

from __future__ import annotations

from flask import Blueprint, redirect, session, url_for

bp = Blueprint("console_login", __name__, url_prefix="/admin")


@bp.get("/login")
def page():
    return "请在微信中打开会务后台", 200


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("console_login.page"))
