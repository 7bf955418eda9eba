"""Front door for WeChat's servers: the official-account callback at /wechat/callback."""

from wechat_handlers.views import bp

__all__ = ["bp"]
