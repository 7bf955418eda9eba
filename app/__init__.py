"""Huiyi (会易): meeting sign-in for WeChat. The app is built by :func:`app.factory.create_app`."""
