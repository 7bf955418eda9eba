"""Fixtures: the app on the real PostgreSQL and Redis, the schema built by the migrations.

Backends: ``TEST_DATABASE_URL`` / ``TEST_REDIS_URL``, else PostgreSQL and Redis on 127.0.0.1. When
they are unreachable the suite says so loudly and falls back to SQLite and the in-process stand-in;
with ``CI=true`` that fallback is an error. ``HUIYI_TEST_DB=sqlite`` runs on a fresh SQLite file on
purpose (the demo's database); tests marked ``pg_only`` are skipped there.

Isolation: ``db`` (and everything built on ``app_ctx``/``client``) runs each test inside an outer
transaction that is rolled back; service commits become savepoints. Tests that need real commits
seen by other connections (threads, subprocesses, a gunicorn server) use ``committed_db``, which
truncates every table afterwards.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator

import pytest
import redis as redis_lib
import sqlalchemy as sa
from sqlalchemy import orm

from app.db_session import RunsCallbacksAfterCommit
from tests.backends import Backends, choose_backends


class TestSession(RunsCallbacksAfterCommit, orm.Session):
    """A plain session on the test's connection, with the app's after-commit callbacks."""

    __test__ = False

_BACKENDS: Backends | None = None
pytest_plugins = ["tests.browser"]


def backends() -> Backends:
    global _BACKENDS
    if _BACKENDS is None:
        _BACKENDS = choose_backends()
    return _BACKENDS


#: ``HUIYI_TEST_CLOCK=2026-12-03T23:30:00+08:00`` starts this process's wall clock there (it keeps
#: ticking; monotonic time, sleeps and timeouts are untouched), to prove no test depends on the hour
#: it runs. libfaketime would do it from outside, but it hangs Python 3.11's sleeps on this Debian.
#: Servers a test starts in another process keep the real clock: tests marked ``real_clock`` skip.
_CLOCK = os.environ.get("HUIYI_TEST_CLOCK", "")


def pytest_configure(config):
    if _CLOCK:
        from datetime import datetime

        import time_machine

        time_machine.travel(datetime.fromisoformat(_CLOCK), tick=True).start()


def pytest_report_header(config):
    b = backends()
    clock = [f"huiyi clock: this process starts at {_CLOCK} (HUIYI_TEST_CLOCK)"] if _CLOCK else []
    return [f"huiyi backends: database={b.database_label} redis={b.redis_label}", *clock, *b.warnings]


def pytest_terminal_summary(terminalreporter):
    b = backends()
    for warning in b.warnings:
        terminalreporter.write_line(warning, red=True, bold=True)


def pytest_sessionfinish(session):
    if _BACKENDS is not None:
        _BACKENDS.cleanup()


@pytest.fixture(scope="session")
def app():
    from flask_migrate import upgrade

    from app.factory import create_app

    b = backends()
    app = create_app({
        "TESTING": True,
        "DATABASE_URL": b.database_url,
        "REDIS_URL": b.redis_url,
        "SECRET_KEY": "test-secret-" + uuid.uuid4().hex,
        "WTF_CSRF_ENABLED": False,
        # Most tests run inside a transaction that is rolled back, which a batching thread of its own
        # could not see; the ``group_commit`` fixture turns it on for tests on committed data.
        "GROUP_COMMIT": False,
        "PUBLIC_BASE_URL": "http://huiyi.test",
        "STORAGE_DIR": b.storage_dir,
        "WECHAT_API_BASE_URL": "http://wechat.sim",
    })
    with app.app_context():
        upgrade()  # the schema comes from the migrations, so they are tested on every run
    return app


@pytest.fixture
def redis_client(app) -> redis_lib.Redis:
    from app.extensions import get_redis

    client = get_redis(app)
    client.flushdb()
    return client


@pytest.fixture
def app_ctx(app, redis_client) -> Iterator[None]:
    """An app context whose session lives in an outer transaction rolled back after the test."""
    from app.extensions import db

    with app.app_context():
        connection = db.engine.connect()
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # pysqlite sends BEGIN only before an INSERT/UPDATE/DELETE, so a service's first "commit"
            # (a SAVEPOINT here) would open SQLite's transaction itself and its RELEASE would really
            # commit: take pysqlite's hands off and hold a real transaction from the start.
            raw = connection.connection.driver_connection
            raw_isolation, raw.isolation_level = raw.isolation_level, None
        outer = connection.begin()
        if sqlite:
            connection.exec_driver_sql("BEGIN")
        if connection.dialect.name == "postgresql":
            # The outer transaction never commits, so deferred triggers (the sign-in order number is
            # taken at COMMIT) would never fire: run them at the end of each statement instead.
            connection.execute(sa.text("SET CONSTRAINTS ALL IMMEDIATE"))
        original = db.session
        in_test = orm.sessionmaker(bind=connection, join_transaction_mode="create_savepoint", class_=TestSession)
        earlier = set(threading.enumerate()) - {threading.current_thread()}

        def session_factory() -> orm.Session:
            # The test's thread and those it starts (the simulator's callbacks) work inside its
            # rolled-back transaction. A thread an earlier test left running (a live server's open
            # event stream, say) gets an ordinary session: on this connection its savepoints would
            # interleave with the test's, and rolling back one of its own would take the test's rows.
            return original.session_factory() if threading.current_thread() in earlier else in_test()

        db.session = orm.scoped_session(
            session_factory,
            scopefunc=original.registry.scopefunc if hasattr(original.registry, "scopefunc") else None,
        )
        try:
            yield
        finally:
            db.session.remove()
            db.session = original
            outer.rollback()
            if sqlite:
                raw.isolation_level = raw_isolation
            connection.close()


@pytest.fixture
def db(app_ctx):
    from app.extensions import db as _db

    return _db


@pytest.fixture
def committed_db(app, redis_client) -> Iterator[object]:
    """Real commits, visible to other connections; every table is emptied afterwards."""
    from app.extensions import db as _db

    with app.app_context():
        try:
            yield _db
        finally:
            _db.session.remove()
            truncate_all(_db)


def truncate_all(db) -> None:
    tables = [t.name for t in db.metadata.sorted_tables]
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as conn:
            for name in reversed(tables):
                conn.execute(sa.text(f"DELETE FROM {name}"))
        return
    truncate = sa.text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    try:
        with db.engine.begin() as conn:
            # A transaction some code left open would make TRUNCATE wait forever: the suite would
            # hang with no word of why. Wait a while, then name it, end it and fail this test.
            conn.execute(sa.text("SET LOCAL lock_timeout = '30s'"))
            conn.execute(truncate)
        return
    except sa.exc.OperationalError:
        pass
    with db.engine.begin() as conn:
        left_open = conn.execute(sa.text(
            "SELECT pid, state, left(query, 200) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")).all()
        for pid, *_ in left_open:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    with db.engine.begin() as conn:
        conn.execute(truncate)
    raise AssertionError(f"a transaction was left open after the test (ended now): {left_open}")


@pytest.fixture
def group_commit(app, committed_db) -> Iterator[None]:
    """Scans batched by the per-process group-commit thread, as in production (app/batching.py)."""
    app.config["GROUP_COMMIT"] = True
    try:
        yield
    finally:
        app.config["GROUP_COMMIT"] = False
        for key in [k for k in app.extensions if k.startswith("group_commit:")]:
            app.extensions.pop(key).stop()


@pytest.fixture
def client(app, app_ctx):
    return app.test_client()


@pytest.fixture
def runner(app, app_ctx):
    return app.test_cli_runner()


@pytest.fixture
def factory(db):
    from tests.factories import Factory

    return Factory(db)


def pytest_collection_modifyitems(config, items):
    # Tests about PostgreSQL itself (row locks, deferred triggers, statement shapes) do not apply to
    # SQLite, the demo's database (HUIYI_TEST_DB=sqlite); each says why in its marker's reason.
    if backends().dialect == "sqlite":
        for item in items:
            for mark in item.iter_markers("pg_only"):
                why = mark.kwargs.get("reason") or (mark.args[0] if mark.args else "")
                item.add_marker(pytest.mark.skip(reason=f"PostgreSQL only: {why}" if why else "PostgreSQL only"))
                break
    if _CLOCK:
        for item in items:
            if item.get_closest_marker("real_clock"):
                item.add_marker(pytest.mark.skip(reason="starts a server in another process, which keeps the real clock"))
    # Browser tests need Debian's chromium; say so rather than fail obscurely on a bare machine.
    if os.path.exists("/usr/bin/chromium"):
        return
    skip = pytest.mark.skip(reason="/usr/bin/chromium missing: run `make test`, which installs it")
    for item in items:
        if "browser" in item.keywords:
            if os.environ.get("CI") == "true":
                raise pytest.UsageError("CI=true but /usr/bin/chromium is missing")
            item.add_marker(skip)


@pytest.fixture
def sim(app, app_ctx):
    """The WeChat simulator, its phone posting callbacks straight into the app under test."""
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.transport import WsgiAdapter, WsgiTransport

    config = SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                       token=app.config["WECHAT_TOKEN"], callback_url="http://huiyi.test/wechat/callback",
                       mp_app_id=app.config["MINIPROGRAM_APP_ID"],
                       mp_app_secret=app.config["MINIPROGRAM_APP_SECRET"],
                       external_base_url="http://wechat.sim")
    simulator = Simulator(config, transport=WsgiTransport(app))
    # The app's WeChat clients reach this simulator in-process, without a socket.
    for name in ("wechat_oa", "wechat_mp"):
        app.extensions[name].http.mount("http://wechat.sim/", WsgiAdapter(simulator.app))
    return simulator


@pytest.fixture
def safe_mode(app, sim, monkeypatch):
    """Switch both sides to safe mode (AES) for one test."""
    key = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    monkeypatch.setitem(app.config, "WECHAT_ENCODING_AES_KEY", key)
    sim.config.aes_key = key
    sim.config.mode = "safe"
    return key


#: The app's SMS settings for the in-process SMS simulator (scripts/sms_sim).
SMS_TEST_CONFIG = {
    "SMS_SECRET_ID": "AKIDhuiyiSmsSimulator00000000000000", "SMS_SECRET_KEY": "huiyi-sms-simulator-key-not-secret",
    "SMS_SDK_APP_ID": "1400000001", "SMS_SIGN_NAME": "会易", "SMS_REGION": "ap-guangzhou",
    "SMS_ENDPOINT": "sms.sim", "SMS_SCHEME": "http", "SMS_TEMPLATE_NOTICE": "2001",
    "SMS_TEMPLATE_REMINDER": "2002", "SMS_TEMPLATE_CONFIDENTIALITY": "2003",
    "SMS_CALLBACK_TOKEN": "test-sms-callback-token-0123456789",
}


@pytest.fixture
def sms_provider(app, monkeypatch):
    """The SMS provider's simulator with the app configured for it, on whatever database fixture the
    test uses (``committed_db`` for threads and jobs): the app's SMS seam (Tencent's SDK) reaches it
    in-process, and ``sms_provider.push_receipts()`` posts its receipts to the app under test."""
    from app.services.notify import sms
    from scripts.sms_sim import SmsSimConfig, SmsSimulator
    from scripts.wechat_sim.transport import WsgiAdapter, WsgiTransport

    for name, value in SMS_TEST_CONFIG.items():
        monkeypatch.setitem(app.config, name, value)
    with app.app_context():
        simulator = SmsSimulator(SmsSimConfig(
            secret_id=SMS_TEST_CONFIG["SMS_SECRET_ID"], secret_key=SMS_TEST_CONFIG["SMS_SECRET_KEY"],
            sdk_app_id=SMS_TEST_CONFIG["SMS_SDK_APP_ID"], sign_names=(SMS_TEST_CONFIG["SMS_SIGN_NAME"],),
            templates={spec.template_id: spec.text for spec in sms.templates().values()},
            callback_url=f"http://huiyi.test/sms/status/{SMS_TEST_CONFIG['SMS_CALLBACK_TOKEN']}",
        ), transport=WsgiTransport(app))
        sms.sms_http().mount("http://sms.sim/", WsgiAdapter(simulator.app))
    return simulator


@pytest.fixture
def sms_sim(app_ctx, sms_provider):
    """:func:`sms_provider` inside the test's rolled-back transaction (as ``sim`` is for WeChat)."""
    return sms_provider
