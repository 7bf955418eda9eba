"""A ballot POST while PostgreSQL restarts gets the "busy, try again" page, never a 500 (issue 21.4).

The app here runs on a PostgreSQL of its own (initdb in a temporary directory, on a free port, the
fault drills' ``OwnPostgres``), never the machine's shared one, with the group commit on as in
production. Ballots are cast in a stream while that server restarts; then with it stopped, one
ballot must get the busy page deterministically; once it is back, ballots are recorded again.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from scripts.drills.harness import OwnPostgres
from tests.conftest import backends, truncate_all

BUSY = "系统繁忙"
VOTERS = 60


@pytest.fixture
def own_pg():
    if shutil.which("runuser") is None and not Path("/usr/lib/postgresql").exists():
        pytest.skip("PostgreSQL's server binaries are not installed")
    workdir = Path(tempfile.mkdtemp(prefix="huiyi-ballot-pg-"))
    pg = OwnPostgres(workdir)
    try:
        pg.start()
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def ballot_app(own_pg, app):
    from flask_migrate import upgrade

    from app.extensions import db
    from app.factory import create_app

    url = own_pg.create_database("huiyi_ballots")
    other = create_app({"TESTING": True, "DATABASE_URL": url, "REDIS_URL": backends().redis_url,
                        "SECRET_KEY": app.config["SECRET_KEY"], "WTF_CSRF_ENABLED": False, "GROUP_COMMIT": True,
                        "PUBLIC_BASE_URL": "http://huiyi.test", "STORAGE_DIR": app.config["STORAGE_DIR"],
                        "WECHAT_API_BASE_URL": "http://wechat.sim"})
    with other.app_context():
        upgrade()
    try:
        yield other
    finally:
        for key in [k for k in other.extensions if k.startswith("group_commit:")]:
            other.extensions.pop(key).stop()
        with other.app_context():
            try:
                truncate_all(db)
            except sa.exc.OperationalError:
                pass
            db.engine.dispose()


def _seed(app):
    from app.extensions import db
    from app.services.votes.votes import create_vote, open_vote
    from tests.factories import Factory
    from tests.votes.conftest import build

    with app.app_context():
        factory = Factory(db)
        vm = build(factory, "PGRS", delegates=VOTERS, observers=0)
        vote = create_vote(vm.meeting, actor=vm.organizer, title="预算草案", options=["同意", "反对", "弃权"])
        open_vote(vm.meeting, vote, actor=vm.organizer)
        identities = [factory.identity(c, oa_openid=f"o_pgrs_{i}").id for i, c in enumerate(vm.delegates)]
        db.session.commit()
        return vote.id, [o.id for o in vote.options], identities


def _cast(app, vote_id: int, option_id: int, identity_id: int) -> tuple[int, str]:
    from app.web.auth import SESSION_KEY

    client = app.test_client()
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity_id
    res = client.post(f"/m/PGRS/votes/{vote_id}", data={"option": str(option_id)})
    return res.status_code, res.get_data(as_text=True)


@pytest.mark.pg_only(reason="restarts a PostgreSQL server of its own")
@pytest.mark.real_clock
def test_ballots_while_postgresql_restarts_get_busy_not_500(ballot_app, own_pg, redis_client):
    vote_id, options, voters = _seed(ballot_app)
    status, body = _cast(ballot_app, vote_id, options[0], voters[0])
    assert status == 200 and "投票成功" in body

    # A stream of ballots from one thread while another restarts the server under it.
    answers: list[tuple[int, str]] = []
    restarted = threading.Event()

    def restart():
        own_pg.restart("fast")
        restarted.set()

    fault = threading.Thread(target=restart)
    fault.start()
    for identity_id in voters[1:40]:
        answers.append(_cast(ballot_app, vote_id, options[1], identity_id))
        if restarted.is_set():
            break
    fault.join(90)
    assert restarted.is_set()
    wrong = [(s, b[:200]) for s, b in answers if not (s == 200 and "投票成功" in b) and not (s == 503 and BUSY in b)]
    assert wrong == [], wrong
    busy = sum(1 for s, _b in answers if s == 503)
    print(f"\nballots during the restart: {len(answers)} cast, {len(answers) - busy} recorded, {busy} told busy")

    # Stopped: the ballot is refused as busy, deterministically, and says to try again.
    own_pg._ctl("stop", "-m", "fast")
    try:
        started = time.monotonic()
        status, body = _cast(ballot_app, vote_id, options[1], voters[45])
        assert status == 503 and BUSY in body and "请稍后" in body, (status, body[:300])
        assert "Traceback" not in body
        assert time.monotonic() - started < 10
    finally:
        own_pg._ctl("start")

    # Back: ballots are recorded again (the pool's dead connections are replaced).
    for _ in range(20):
        status, body = _cast(ballot_app, vote_id, options[2], voters[46])
        if status == 200:
            break
        assert status == 503 and BUSY in body
        time.sleep(0.5)
    assert status == 200 and "投票成功" in body
