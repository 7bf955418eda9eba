"""The big screen in real Chromium when its server goes away and comes back (issue 21.6): it keeps
the numbers it had, says it is reconnecting (重新连接), and catches up by itself once the server
answers again, including a sign-in made while it was away. And when the server answers but its
database is away (503), the same, until the database is back.

The browser reaches the live server through a TCP relay of the test's own, which "the server going
away" cuts (every open connection closed, nothing listening) and restores on the same port.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest

from app.services.live import headcount
from tests.browser import wait_js
from tests.net import free_port

CODE = "RECON1"


class Relay:
    """127.0.0.1:<port> relayed to ``upstream``; :meth:`cut` and :meth:`restore` it."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream, self.port = upstream, free_port()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            for s in [self.listener, *self.sockets]:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()
            self.sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def seeded(committed_db):
    from tests.factories import Factory
    from tests.live.conftest import build_meeting

    data = build_meeting(Factory(committed_db), CODE)
    committed_db.session.commit()
    return {"meeting_id": data.meeting.id, "people": [p.id for p in data.people]}


def _sign_in(app, contact_id: int) -> None:
    from app.extensions import db
    from app.services.meetings.meetings import get_meeting
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in
    from models import Contact

    with app.app_context():
        try:
            meeting = get_meeting(CODE)
            sign_in(meeting, get_session(meeting), db.session.get(Contact, contact_id), method="scan",
                    check_window=False)
            db.session.commit()
        finally:
            db.session.remove()


SHOWS = "([s, t]) => { const e = document.querySelector(s); return !!e && e.textContent === t; }"
RECONNECTING = ("() => document.body.classList.contains('offline') && "
                "getComputedStyle(document.getElementById('reconnecting')).display !== 'none' && "
                "document.getElementById('reconnecting').textContent.includes('重新连接')")
ONLINE = ("() => !document.body.classList.contains('offline') && "
          "getComputedStyle(document.getElementById('reconnecting')).display === 'none'")


@pytest.mark.browser
def test_screen_says_it_is_reconnecting_and_recovers(app, live_server, browser, seeded):
    host, port = live_server.removeprefix("http://").split(":")
    relay = Relay((host, int(port)))
    key = headcount.screen_key(app.config["SECRET_KEY"], CODE)
    page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        page.goto(f"http://127.0.0.1:{relay.port}/screen/{CODE}?k={key}")
        _sign_in(app, seeded["people"][0])
        wait_js(page, SHOWS, arg=["#n-arrived", "1"], timeout=5000)
        wait_js(page, ONLINE, timeout=2000)

        # The server goes away: the screen keeps its numbers and says it is reconnecting.
        relay.cut()
        started = time.monotonic()
        wait_js(page, RECONNECTING, timeout=8000)
        print(f"reconnecting shown after {(time.monotonic() - started) * 1000:.0f} ms")
        assert page.text_content("#n-arrived") == "1" and page.text_content("#n-expected") == "6"
        _sign_in(app, seeded["people"][1])  # while the screen cannot hear of it

        # Back: the screen reconnects by itself and shows the sign-in it missed.
        relay.restore()
        started = time.monotonic()
        wait_js(page, SHOWS, arg=["#n-arrived", "2"], timeout=10000)
        wait_js(page, ONLINE, timeout=5000)
        print(f"recovered after {(time.monotonic() - started) * 1000:.0f} ms")

        # The server answers but its database is away: 503 on every read, the same message.
        from app.web import screen as screen_views

        def database_down(*_args, **_kwargs):
            from sqlalchemy.exc import OperationalError

            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(screen_views, "get_meeting", database_down)
            mp.setattr(headcount, "numbers_for", database_down)
            relay.cut()  # drop the open stream so that it has to come back through the 503
            relay.restore()
            wait_js(page, RECONNECTING, timeout=8000)
            assert page.text_content("#n-arrived") == "2"
        _sign_in(app, seeded["people"][2])
        wait_js(page, SHOWS, arg=["#n-arrived", "3"], timeout=15000)
        wait_js(page, ONLINE, timeout=5000)
    finally:
        page.close()
        relay.cut()
