"""Screens and the console's live numbers when things fail (issue 21.6, 21.11).

- Redis unreachable (a closed port) or hung (a redis-server of the test's own, SIGSTOPped): the
  screen, its numbers and the console's numbers and missing lists are counted in the database, and
  a hung Redis costs a read at most about ``LIVE_TIMEOUT_S``.
- The database unreachable: 503 ``service_unavailable``, JSON for the JSON routes and the Chinese
  error page for pages; an open stream says ``unavailable`` and carries on.
- A sign-in committed whose live event never came (its worker killed between the commit and the
  publish) is counted within 2 s, on the numbers and on an open stream, without any other event.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager

import pytest
from sqlalchemy.exc import OperationalError

from app.extensions import redis_client as make_redis_client
from app.services.live import events as live_events
from app.services.live import headcount, stream
from app.services.signin.rules import get_session
from app.services.signin.write import sign_in
from tests.live.conftest import login
from tests.net import free_port

pytestmark = pytest.mark.pg_only(reason="counts committed order numbers the way PostgreSQL's trigger takes them")


@pytest.fixture(autouse=True)
def _fresh_backoff():
    """A test that made Redis fail must not send the next test's reads to the database."""
    headcount._redis_down_until = 0.0
    headcount._heal_due.clear()
    yield
    headcount._redis_down_until = 0.0
    headcount._heal_due.clear()


def screen_url(app, code: str, path: str = "") -> str:
    return f"/screen/{code}{path}?k={headcount.screen_key(app.config['SECRET_KEY'], code)}"


def _sign_in(db, live, people) -> None:
    session = get_session(live.meeting)
    for person in people:
        sign_in(live.meeting, session, person, method="scan", check_window=False)
    db.session.commit()


def _identity_id(db, live) -> int:
    from models import WechatIdentity

    return db.session.query(WechatIdentity).filter_by(oa_openid=live.organizer_openid).one().id


@contextmanager
def redis_at(app, url: str):
    """The app's Redis replaced by the one at ``url`` (a closed port: unreachable)."""
    original = app.extensions["redis"]
    app.extensions["redis"] = make_redis_client(url)
    try:
        yield app.extensions["redis"]
    finally:
        app.extensions["redis"] = original
        headcount._redis_down_until = 0.0


def _all_reads(app, client, live) -> dict:
    """What the screen and the console show, each read checked to answer 200."""
    code = live.meeting.code
    out = {}
    for name, url in (("screen", screen_url(app, code, "/numbers.json")), ("console", f"/admin/{code}/numbers.json"),
                      ("missing", f"/admin/{code}/missing.json")):
        res = client.get(url)
        assert res.status_code == 200, (url, res.status_code, res.get_data(as_text=True)[:300])
        out[name] = res.get_json()
    for name, url in (("screen_page", screen_url(app, code)), ("console_page", f"/admin/{code}")):
        res = client.get(url)
        assert res.status_code == 200, (url, res.status_code)
        out[name] = res.get_data(as_text=True)
    return out


def test_redis_unreachable_numbers_come_from_the_database(app, db, client, live):
    login(client, _identity_id(db, live))
    _sign_in(db, live, live.people[:2])
    with redis_at(app, f"redis://127.0.0.1:{free_port()}/0"):
        _sign_in(db, live, live.people[2:3])  # its event is lost with Redis: the database has it
        reads = _all_reads(app, client, live)
    assert reads["screen"]["arrived"] == reads["console"]["arrived"] == 3
    assert (reads["screen"]["expected"], reads["screen"]["missing"]) == (6, 3)
    assert sorted(p["name"] for p in reads["missing"]["people"]) == ["代表3", "代表4", "代表5"]
    assert 'id="n-arrived">3<' in reads["screen_page"] and 'id="n-arrived">3<' in reads["console_page"]
    # Redis is back, without the sign-in made while it was away: counted all the same.
    assert headcount.screen_headcount(get_session(live.meeting).id).arrived == 3
    assert client.get(screen_url(app, live.meeting.code, "/numbers.json")).get_json()["arrived"] == 3


@pytest.fixture
def own_redis(tmp_path):
    """A redis-server of this test's own on a free port (never the machine's shared one)."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server not installed")
    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    client = make_redis_client(f"redis://127.0.0.1:{port}/0")
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            break
        except Exception:
            if time.monotonic() > deadline:
                proc.kill()
                raise
            time.sleep(0.05)
    try:
        yield proc, f"redis://127.0.0.1:{port}/0"
    finally:
        os.kill(proc.pid, signal.SIGCONT)
        proc.kill()
        proc.wait(5)


def test_hung_redis_does_not_hang_the_numbers(app, db, client, live, own_redis):
    proc, url = own_redis
    login(client, _identity_id(db, live))
    with redis_at(app, url):
        _sign_in(db, live, live.people[:2])
        assert client.get(screen_url(app, live.meeting.code, "/numbers.json")).get_json()["arrived"] == 2
        os.kill(proc.pid, signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            _sign_in(db, live, live.people[2:4])
            for url_ in (screen_url(app, live.meeting.code, "/numbers.json"), f"/admin/{live.meeting.code}/numbers.json",
                         f"/admin/{live.meeting.code}/missing.json", screen_url(app, live.meeting.code),
                         f"/admin/{live.meeting.code}"):
                started = time.monotonic()
                res = client.get(url_)
                took = time.monotonic() - started
                print(f"{url_.split('?')[0]} with Redis hung: {res.status_code} in {took * 1000:.0f} ms")
                assert res.status_code == 200 and took < 1.5, (url_, res.status_code, took)
                if res.is_json:
                    body = res.get_json()
                    assert body.get("arrived", 4) == 4 and body.get("total", 2) == 2
                else:
                    assert 'id="n-arrived">4<' in res.get_data(as_text=True)
        finally:
            os.kill(proc.pid, signal.SIGCONT)
        headcount._redis_down_until = 0.0
        # Back: the two sign-ins made while it hung reach the counters through the repair.
        assert headcount.screen_headcount(get_session(live.meeting).id).arrived == 4


@pytest.fixture
def app_without_database(app):
    """The app with its database unreachable (a closed port), on the same Redis and key."""
    from app.factory import create_app

    down = create_app({
        "TESTING": True, "DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/huiyi",
        "REDIS_URL": app.config["REDIS_URL"], "SECRET_KEY": app.config["SECRET_KEY"], "WTF_CSRF_ENABLED": False,
        "GROUP_COMMIT": False, "PUBLIC_BASE_URL": "http://huiyi.test", "STORAGE_DIR": app.config["STORAGE_DIR"],
        "WECHAT_API_BASE_URL": "http://wechat.sim"})
    yield down
    with down.app_context():
        from app.extensions import db

        db.engine.dispose()


def test_database_unreachable_answers_503_with_a_stable_code(app, app_without_database):
    client = app_without_database.test_client()
    with client.session_transaction() as s:
        from app.web.auth import SESSION_KEY

        s[SESSION_KEY] = 1
    code = "LIVE1"
    for url in (screen_url(app, code, "/numbers.json"), f"/admin/{code}/numbers.json",
                f"/admin/{code}/missing.json", screen_url(app, code, "/vote.json")):
        res = client.get(url)
        assert res.status_code == 503, (url, res.status_code)
        assert res.get_json()["error"]["code"] == "service_unavailable"
        assert "稍后" in res.get_json()["error"]["message"]
        assert res.headers["Retry-After"]
    for url in (screen_url(app, code), f"/admin/{code}", screen_url(app, code, "/events")):
        res = client.get(url, headers={"Accept": "text/html"})
        assert res.status_code == 503, (url, res.status_code)
        html = res.get_data(as_text=True)
        assert "service_unavailable" in html and "系统正在恢复" in html


def test_an_open_stream_says_unavailable_and_carries_on(app, db, live, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_MS", 10)
    ref = headcount.SessionRef.of(live.meeting, get_session(live.meeting))
    messages = stream.listen(app, ref, last_event_id=None, since=None, mask=False, with_missing=False)
    assert next(messages).startswith("retry:") and next(messages).startswith("event: numbers")
    real = headcount.numbers_for

    def database_down(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(headcount, "numbers_for", database_down)
    stream.shared_numbers.counts.clear()
    _sign_in(db, live, live.people[:1])
    said = "".join(next(messages) for _ in range(3))
    assert "event: signin" in said and "event: unavailable" in said
    monkeypatch.setattr(headcount, "numbers_for", real)
    deadline = time.monotonic() + 5
    text = ""
    while "event: numbers" not in text and time.monotonic() < deadline:
        text = next(messages)
    assert json.loads(text.split("event: numbers\ndata: ", 1)[1].split("\n", 1)[0])["arrived"] == 1


def _lost_event(db, live, people) -> None:
    """Sign-ins committed whose live events never go out (their worker died after the commit)."""
    real = live_events.publish_signins
    live_events.publish_signins = lambda payloads, pipe=None: None
    try:
        _sign_in(db, live, people)
    finally:
        live_events.publish_signins = real


def test_a_signin_whose_event_was_lost_is_counted_within_2s(app, db, client, live):
    _sign_in(db, live, live.people[:2])
    url = screen_url(app, live.meeting.code, "/numbers.json")
    assert client.get(url).get_json()["arrived"] == 2
    _lost_event(db, live, live.people[2:3])
    assert headcount.database_truth(get_session(live.meeting).id)[0] == 3
    started = time.monotonic()
    while client.get(url).get_json()["arrived"] != 3:
        assert time.monotonic() - started < 2.0, "the headcount still misses the committed sign-in"
        time.sleep(0.1)
    # Later events still count once each (the repair left the counters following the stream).
    _sign_in(db, live, live.people[3:4])
    assert client.get(url).get_json()["arrived"] == 4
    assert headcount.screen_headcount(get_session(live.meeting).id).arrived == 4


def test_a_revoke_whose_event_was_lost_is_uncounted_within_2s(app, db, client, live, monkeypatch):
    """The organizer's 撤销 committed, then its worker died before the event: the counters must not
    keep the person for the minute until the next reconcile."""
    from app.services.signin.write import revoke

    _sign_in(db, live, live.people[:3])
    url = screen_url(app, live.meeting.code, "/numbers.json")
    assert client.get(url).get_json()["arrived"] == 3
    session = get_session(live.meeting)
    with monkeypatch.context() as m:
        m.setattr(live_events, "publish_revoke", lambda payload: None)  # the event never goes out
        revoke(live.meeting, session, live.people[1], actor=live.organizer, reason="误签")
        db.session.commit()
    assert headcount.database_truth(session.id)[0] == 2
    started = time.monotonic()
    while client.get(url).get_json()["arrived"] != 2:
        assert time.monotonic() - started < 2.0, "the headcount still counts the revoked sign-in"
        time.sleep(0.1)
    # A revoke whose event does come is applied once, and no repair follows it.
    revoke(live.meeting, session, live.people[2], actor=live.organizer, reason="误签")
    db.session.commit()
    assert client.get(url).get_json()["arrived"] == 1
    rebuilds = []
    monkeypatch.setattr(headcount, "rebuild", lambda *a, **k: rebuilds.append(a))
    time.sleep(headcount.GRACE_S + 0.1)
    headcount._heal_due.clear()
    assert client.get(url).get_json()["arrived"] == 1 and rebuilds == []


def test_an_old_lost_signin_is_counted_on_the_first_check(app, db, client, live):
    """A missing sign-in made seconds ago is not in flight: no grace to wait for."""
    from datetime import UTC, datetime, timedelta

    _sign_in(db, live, live.people[:1])
    url = screen_url(app, live.meeting.code, "/numbers.json")
    assert client.get(url).get_json()["arrived"] == 1
    real = live_events.publish_signins
    live_events.publish_signins = lambda payloads, pipe=None: None
    try:
        sign_in(live.meeting, get_session(live.meeting), live.people[1], method="scan", check_window=False,
                now=datetime.now(UTC) - timedelta(seconds=headcount.STALE_S + 5))
        db.session.commit()
    finally:
        live_events.publish_signins = real
    headcount._heal_due.clear()  # the next check (a process checks every HEAL_EVERY_S) is this read
    assert client.get(url).get_json()["arrived"] == 2


def test_an_open_screen_hears_of_the_lost_signin_within_2s(app, db, live, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_MS", 50)
    _sign_in(db, live, live.people[:1])
    ref = headcount.SessionRef.of(live.meeting, get_session(live.meeting))
    messages = stream.listen(app, ref, last_event_id=None, since=None, mask=False, with_missing=False)
    next(messages)
    assert json.loads(next(messages).split("data: ", 1)[1])["arrived"] == 1
    _lost_event(db, live, live.people[1:3])  # no event at all reaches the stream
    started = time.monotonic()
    arrived = 1
    while arrived != 3:
        assert time.monotonic() - started < 2.0, "the open screen still misses the committed sign-ins"
        text = next(messages)
        if "event: numbers\ndata: " in text:
            arrived = json.loads(text.split("event: numbers\ndata: ", 1)[1].split("\n", 1)[0])["arrived"]


def test_a_repair_keeps_what_newer_events_wrote(app, db, live, redis_client):
    """A rebuild reads the database, then writes: a sign-in committed and published in between
    keeps its field, and ``low`` goes past it."""
    session = get_session(live.meeting)
    _sign_in(db, live, live.people[:2])
    headcount.numbers(live.meeting, session)  # built, low = 2
    newer = live.people[5]
    headcount.record_signins([{"session_id": session.id, "contact_id": newer.id, "unit_id": newer.unit_id,
                               "late": False, "seq": 3}])
    headcount.rebuild(session.id)  # the database (of this test) has 2: the event of number 3 stays
    assert redis_client.hexists(headcount.live_key(session.id), str(newer.id))
    assert redis_client.get(headcount.low_key(session.id)) == b"3"
    # Out of order: 5 before 4 leaves low at 3 until 4 comes.
    for seq, person in ((5, live.people[3]), (4, live.people[4])):
        headcount.record_signins([{"session_id": session.id, "contact_id": person.id, "unit_id": person.unit_id,
                                   "late": False, "seq": seq}])
        assert redis_client.get(headcount.low_key(session.id)) == (b"3" if seq == 5 else b"5")
    assert redis_client.zcard(headcount.ahead_key(session.id)) == 0


def _numbers_in(text: str) -> dict | None:
    if "event: numbers\ndata: " not in text:
        return None
    return json.loads(text.split("event: numbers\ndata: ", 1)[1].split("\n", 1)[0])


def test_an_open_stream_without_redis_sends_the_databases_numbers(app, db, live, monkeypatch):
    monkeypatch.setattr(stream, "BLOCK_MS", 50)
    monkeypatch.setattr(stream, "FALLBACK_EVERY_S", 0.05)
    monkeypatch.setattr(stream, "NUMBERS_SHARED_S", 0.05)
    _sign_in(db, live, live.people[:1])
    ref = headcount.SessionRef.of(live.meeting, get_session(live.meeting))
    messages = stream.listen(app, ref, last_event_id=None, since=None, mask=False, with_missing=False)
    next(messages)
    assert _numbers_in(next(messages))["arrived"] == 1
    with redis_at(app, f"redis://127.0.0.1:{free_port()}/0"):
        _sign_in(db, live, live.people[1:3])  # their events are lost: the stream counts in the database
        deadline = time.monotonic() + 3
        shown = 1
        while shown != 3:
            assert time.monotonic() < deadline, "the stream did not send the database's numbers"
            numbers = _numbers_in(next(messages))
            shown = numbers["arrived"] if numbers else shown
    # Redis is back: the stream reads events again.
    _sign_in(db, live, live.people[3:4])
    deadline = time.monotonic() + 3
    said = ""
    while "event: signin" not in said:
        assert time.monotonic() < deadline, "the stream did not go back to the events"
        said = next(messages)
