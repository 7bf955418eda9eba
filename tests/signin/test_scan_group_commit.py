"""Scans batched into shared transactions (app/batching.py) keep every sign-in guarantee.

These run the production path: the callback (its WSGI layer, wechat_handlers.callback), with the
per-process group-commit thread on committed PostgreSQL data, many requests at once.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.services.codes.scenes import make_scene
from models import Contact, SignIn, SignInDenial, WechatIdentity
from scripts.wechat_sim.signing import signature
from scripts.wechat_sim.xmlmsg import build_xml

pytestmark = pytest.mark.slow
TOKEN_KEY = "WECHAT_TOKEN"


def _seed(db, invited: int, outsiders: int = 0) -> str:
    from app.services.contacts.units import add_unit
    from app.services.meetings.meetings import create_meeting, invite_contact

    unit = add_unit("GRP", "批量签到测试单位", actor="test")
    starts = datetime.now(UTC) + timedelta(minutes=30)
    meeting = create_meeting("GRPSCAN", "批量签到测试", actor="test", starts_at=starts,
                             ends_at=starts + timedelta(hours=2), publish=True)
    people = [Contact(unit=unit, name=f"批量{i}", phone=f"1371000{i:04d}") for i in range(invited + outsiders)]
    db.session.add_all(people)
    db.session.flush()
    db.session.add_all([WechatIdentity(oa_openid=f"o-grp-{i}", contact=c, bound_at=datetime.now(UTC))
                        for i, c in enumerate(people)])
    for c in people[:invited]:
        invite_contact(meeting, c, actor="test")
    db.session.commit()
    return make_scene(meeting.code, 1)


def _scan(client, token: str, openid: str, scene: str, create_time: int | None = None) -> str:
    ts, nonce = str(int(time.time())), secrets.token_hex(8)
    body = build_xml([("ToUserName", "gh_huiyi"), ("FromUserName", openid),
                      ("CreateTime", str(create_time or int(time.time()))), ("MsgType", "event"),
                      ("Event", "SCAN"), ("EventKey", scene)])
    resp = client.post(f"/wechat/callback?signature={signature(token, ts, nonce)}&timestamp={ts}&nonce={nonce}"
                       f"&openid={openid}", data=body)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def _committer(app):
    return app.extensions["group_commit:wechat-scan"]


def test_a_burst_of_scans_commits_in_batches_with_numbers_one_to_n(app, committed_db, group_commit):
    scene = _seed(committed_db, 600)
    token = app.config[TOKEN_KEY]
    with ThreadPoolExecutor(max_workers=32) as pool:
        replies = list(pool.map(lambda i: _scan(app.test_client(), token, f"o-grp-{i}", scene), range(600)))

    numbers = sorted(int(re.search(r"您是第 (\d+) 位签到", r).group(1)) for r in replies)
    assert numbers == list(range(1, 601))  # every reply says its own number, after the commit
    stored = committed_db.session.scalars(select(SignIn.seq).order_by(SignIn.seq)).all()
    assert stored == list(range(1, 601))
    stats = _committer(app).stats
    assert stats.items == 600
    assert stats.rounds < 600 and stats.largest > 1  # they really shared transactions


def test_the_same_person_fifty_times_at_once_is_one_sign_in(app, committed_db, group_commit):
    scene = _seed(committed_db, 1)
    token = app.config[TOKEN_KEY]
    barrier = threading.Barrier(25)
    base = int(time.time()) - 100

    def scan(i):
        barrier.wait()
        # A distinct CreateTime each: 50 real scans, not WeChat's retries of one.
        return _scan(app.test_client(), token, "o-grp-0", scene, create_time=base + i)

    with ThreadPoolExecutor(max_workers=25) as pool:
        replies = list(pool.map(scan, range(50)))
    assert sum(r.count("签到成功") for r in replies) == 1
    assert sum("您已签到" in r for r in replies) == 49
    assert all("第 1 位" in r for r in replies)
    assert committed_db.session.scalar(select(func.count()).select_from(SignIn)) == 1


def test_a_refused_scanner_does_not_hold_up_the_others(app, committed_db, group_commit):
    scene = _seed(committed_db, 40, outsiders=10)
    token = app.config[TOKEN_KEY]
    with ThreadPoolExecutor(max_workers=25) as pool:
        replies = list(pool.map(lambda i: _scan(app.test_client(), token, f"o-grp-{i}", scene), range(50)))
    assert sum("签到成功" in r for r in replies[:40]) == 40
    assert all("不在本次会议的参会名单中" in r for r in replies[40:])
    assert committed_db.session.scalar(select(func.count()).select_from(SignIn)) == 40
    assert committed_db.session.scalars(select(SignInDenial.reason)).all() == ["not_invited"] * 10


def _autocommit(conn) -> bool:
    """Whether the driver runs each statement in a transaction of its own: psycopg's ``autocommit``;
    SQLite's driver (before Python 3.12) says it with ``isolation_level`` None."""
    driver = conn.connection.driver_connection
    return driver.isolation_level is None if conn.dialect.name == "sqlite" else driver.autocommit


def test_a_round_is_three_statements_on_one_connection_with_no_transaction_around_them(app, committed_db):
    """The round's INSERT commits by itself: no BEGIN/COMMIT round trips, one pooled connection, and
    the connection goes back to the pool transactional again."""
    from sqlalchemy import event

    from app.batching import run_batch
    from app.services.signin.scans import Scan, sign_in_scans

    code = _seed(committed_db, 9).split(":")[1]
    committed_db.session.remove()  # a round starts on a fresh session
    now = datetime.now(UTC)
    run_batch(sign_in_scans, [Scan(code, 1, "o-grp-8", now)], "test")  # the meeting is now in the cache
    engine = committed_db.engine
    statements, checkouts, commands = [], [], []

    def on_execute(conn, cursor, statement, *_args):
        statements.append(statement.split()[0])
        commands.append(_autocommit(conn))

    def on_checkout(*_args):
        checkouts.append(1)

    event.listen(engine, "before_cursor_execute", on_execute)
    event.listen(engine, "checkout", on_checkout)
    try:
        results = run_batch(sign_in_scans, [Scan(code, 1, f"o-grp-{i}", now) for i in range(8)], "test")
    finally:
        event.remove(engine, "before_cursor_execute", on_execute)
        event.remove(engine, "checkout", on_checkout)
    assert [r.state for r in results] == ["signed_in"] * 8 and sorted(r.seq for r in results) == list(range(2, 10))
    assert statements == ["SELECT", "INSERT", "SELECT"] and all(commands) and len(checkouts) == 1
    with engine.connect() as conn:  # the pool reset it: the next user gets a transaction again
        assert _autocommit(conn) is False
        assert conn.execute(select(func.count()).select_from(SignIn)).scalar_one() == 9


def test_a_round_inside_a_transaction_already_begun_commits_it_and_still_reads_its_numbers(app, committed_db):
    from app.batching import run_batch
    from app.services.signin.scans import Scan, sign_in_scans

    code = _seed(committed_db, 3).split(":")[1]
    assert committed_db.session().in_transaction()  # reading the scene refreshed the meeting after its commit
    now = datetime.now(UTC)
    results = run_batch(sign_in_scans, [Scan(code, 1, f"o-grp-{i}", now) for i in range(3)], "test")
    assert sorted(r.seq for r in results) == [1, 2, 3]
