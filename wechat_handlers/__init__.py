"""Front door for WeChat's servers: the official-account callback at /wechat/callback."""

from flask import Blueprint

bp = Blueprint("wechat", __name__, url_prefix="/wechat")

from wechat_handlers import views  # noqa: E402,F401  (routes register on import)
