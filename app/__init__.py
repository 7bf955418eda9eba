"""Huiyi (会易): meeting sign-in for WeChat. ``create_app`` is the one way to build the app."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from flask import Flask

from app.config import INSTANCE_DIR, Config


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    """Build the app from environment defaults, overridden by ``config`` (tests, scripts).

    No network calls and no migrations happen here: ``flask db upgrade`` runs before start.
    """
    app = Flask(__name__, instance_path=str(INSTANCE_DIR), instance_relative_config=False)
    from app.cookie_session import CachedSerializerSessionInterface

    app.session_interface = CachedSerializerSessionInterface()
    app.config.update(Config().as_dict())
    if config:
        app.config.update(config)
        if "DATABASE_URL" in config and "SQLALCHEMY_DATABASE_URI" not in config:
            from app.config import _engine_options, _normalize_db_url

            app.config["SQLALCHEMY_DATABASE_URI"] = _normalize_db_url(str(config["DATABASE_URL"]))
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    _init_extensions(app)
    _register_blueprints(app)
    from wechat_handlers.callback import CallbackFirst

    app.wsgi_app = CallbackFirst(app)  # the WeChat callback's POSTs skip Flask's request machinery
    return app


def _init_extensions(app: Flask) -> None:
    import models  # noqa: F401  (registers every table on the metadata)
    from app import tx
    from app.extensions import csrf, db, migrate, redis_ext

    db.init_app(app)
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        from app.pool_ping import ping_when_idle

        with app.app_context():
            ping_when_idle(db.engine)
    # Batch mode lets the same migrations ALTER tables on SQLite, which cannot do it in place.
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    redis_ext.init_app(app)
    from app import wechat

    wechat.init_app(app, app.extensions["redis"])
    csrf.init_app(app)
    tx.init_app(app)


def _register_blueprints(app: Flask) -> None:
    from app.cli import register_cli
    from app.extensions import csrf
    from app.web.auth import bp as h5_auth_bp
    from app.web.errors import register_error_handlers
    from app.web.health import bp as health_bp
    from wechat_handlers import bp as wechat_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(wechat_bp)
    app.register_blueprint(h5_auth_bp)
    # One blueprint per audience; each module owns its routes.
    from app.web import attendee, codes, console, screen, units_office

    for module in (attendee, units_office, screen, console, codes):
        app.register_blueprint(module.bp)
    from app.web import documents as documents_web

    app.register_blueprint(documents_web.bp)
    from app.web import surveys as surveys_web
    from app.web import votes as votes_web

    app.register_blueprint(votes_web.bp)
    app.register_blueprint(surveys_web.bp)
    from app.web import mine

    app.register_blueprint(mine.bp)
    from miniprogram_api import bp as mp_bp

    # The mini program authenticates with its own bearer token, not a cookie: no CSRF there.
    csrf.exempt(mp_bp)
    app.register_blueprint(mp_bp)
    register_error_handlers(app)
    register_cli(app)
