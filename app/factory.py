"""``create_app``: the one way to build the app (``wsgi.py``, ``worker.py``, the tests, the scripts).

It lives outside ``app/__init__.py`` so that importing any module of the package (``models`` imports
``app.extensions``, say) never imports every view and service with it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

import models  # noqa: F401  (registers every table on the metadata)
from app import tx, web, wechat
from app.cli import register_cli
from app.config import INSTANCE_DIR, Config, _engine_options, _normalize_db_url
from app.cookie_session import CachedSerializerSessionInterface
from app.extensions import csrf, db, migrate, redis_ext
from app.pool_hosts import route_hosts
from app.pool_ping import ping_when_idle
from miniprogram_api import bp as mp_bp
from wechat_handlers import bp as wechat_bp
from wechat_handlers.callback import CallbackFirst


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app from environment defaults, overridden by ``config`` (tests, scripts).

    No network calls and no migrations happen here: ``flask db upgrade`` runs before start.
    """
    app = Flask("app", instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    app.session_interface = CachedSerializerSessionInterface()
    app.config.update(Config().as_dict())
    if config:
        app.config.update(config)
        if "DATABASE_URL" in config and "SQLALCHEMY_DATABASE_URI" not in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = _normalize_db_url(str(config["DATABASE_URL"]))
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    _init_extensions(app)
    _register_blueprints(app)
    app.wsgi_app = CallbackFirst(app)  # the WeChat callback's POSTs skip Flask's request machinery
    return app


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            ping_when_idle(db.engine)
            route_hosts(db.engine)  # an HA pair's URL: no waiting on a lost host (app.pool_hosts)
    # Batch mode lets the same migrations ALTER tables on SQLite, which cannot do it in place.
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    redis_ext.init_app(app)
    wechat.init_app(app, app.extensions["redis"])
    csrf.init_app(app)
    tx.init_app(app)


def _register_blueprints(app: Flask) -> None:
    web.init_app(app)  # the one template folder, the page globals, the error pages
    # The mini program authenticates with its own bearer token, not a cookie: no CSRF there.
    csrf.exempt(mp_bp)
    for bp in (*web.BLUEPRINTS, wechat_bp, mp_bp):
        app.register_blueprint(bp)
    register_cli(app)
