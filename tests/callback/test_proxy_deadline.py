"""A callback's deadline counts from when our proxy received it (X-Request-Start), so that one the
proxy sends again to a second app host after the first went silent is still answered within
WeChat's 5 s; a client's header, a header without TRUST_PROXY and an implausible clock count nothing."""

from __future__ import annotations

import time

import pytest

from app.services.codes.scenes import make_scene
from tests.callback.test_callback_hostile import event_xml, signed_query
from wechat_handlers import callback, scan_lane
from wechat_handlers.deadline import CALLBACK_DEADLINE_S, PROXY_DEADLINE_S, Deadline, proxy_wait_s

NOW = 1_796_000_000.0


@pytest.mark.parametrize(("header", "waited"), [
    (None, 0.0),
    ("", 0.0),
    (f"t={int((NOW - 1.5) * 1000)}", 1.5),  # HAProxy: milliseconds
    (f"{int((NOW - 0.25) * 1000)}", 0.25),  # without the t=
    (f"t={NOW - 2.0:.3f}", 2.0),  # nginx's ${msec}: seconds with a fraction
    ("t=soon", 0.0),
    (f"t={int((NOW + 3) * 1000)}", 0.0),  # ahead of this clock
    (f"t={int((NOW - 60) * 1000)}", 0.0),  # a minute back: a clock out of step, not a wait
])
def test_proxy_wait(header, waited):
    assert proxy_wait_s(header, now=NOW) == pytest.approx(waited, abs=0.002)


def test_deadline_after_waiting():
    assert Deadline.after_waiting(0.0).left() == pytest.approx(CALLBACK_DEADLINE_S, abs=0.05)
    assert Deadline.after_waiting(0.2).left() == pytest.approx(CALLBACK_DEADLINE_S, abs=0.05)  # the usual hop
    assert Deadline.after_waiting(3.5).left() == pytest.approx(PROXY_DEADLINE_S - 3.5, abs=0.05)
    assert Deadline.after_waiting(4.8).left() == 0.0
    assert PROXY_DEADLINE_S < 5.0


@pytest.fixture
def seen(monkeypatch):
    """What each scan's answer was given as its time left."""
    lefts: list[float] = []

    def answer(envelope, key, scene, deadline, **kw):
        lefts.append(deadline.left())
        return "success"
    monkeypatch.setattr(scan_lane, "answer", answer)
    return lefts


def _scan(client, app, meeting_code: str, nonce: str, header: str | None):
    headers = {"X-Request-Start": header} if header is not None else {}
    return client.post(callback.PATH, query_string=signed_query(app, nonce=nonce), headers=headers,
                       data=event_xml(openid="o-late", key=make_scene(meeting_code), created=int(time.time())))


def test_a_callback_resent_late_by_our_proxy_keeps_to_wechats_wait(app, client, factory, seen):
    m = factory.meeting("LATE20", title="全区经济工作会议")
    app.config["TRUST_PROXY"] = True
    three_and_a_half_ago = f"t={int((time.time() - 3.5) * 1000)}"
    assert _scan(client, app, m.code, "n1", three_and_a_half_ago).status_code == 200
    assert _scan(client, app, m.code, "n2", None).status_code == 200
    assert seen[0] == pytest.approx(PROXY_DEADLINE_S - 3.5, abs=0.2)
    assert seen[1] == pytest.approx(CALLBACK_DEADLINE_S, abs=0.2)


def test_the_header_counts_only_behind_our_proxy(app, client, factory, seen):
    m = factory.meeting("LATE21", title="全区经济工作会议")
    app.config["TRUST_PROXY"] = False
    assert _scan(client, app, m.code, "n3", f"t={int((time.time() - 3.5) * 1000)}").status_code == 200
    assert seen[0] == pytest.approx(CALLBACK_DEADLINE_S, abs=0.2)
