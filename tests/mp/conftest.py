"""Shared data and helpers for the mini-program API tests."""

from __future__ import annotations

import pytest

API = "/api/mp/v1"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_for(app, identity, *, now: float | None = None) -> str:
    """A token for ``identity``. Commits first: an error answer rolls back what is not committed."""
    from app.extensions import db
    from app.services.identity.mp_sessions import issue_token

    db.session.commit()

    return issue_token(app.config["SECRET_KEY"], identity.id, now=now)[0]


def mp_log_in(client, sim, mp_openid: str) -> dict:
    """wx.login() on the simulated phone, then POST /session: the session answer."""
    res = client.post(f"{API}/session", json={"code": sim.phone.mp_login(mp_openid)})
    assert res.status_code == 200, res.get_data(as_text=True)
    return res.json


@pytest.fixture
def people(factory):
    """A published meeting with one invitee (张三), one organizer (王会务) and an outsider (李四)."""
    from app.services.meetings.organizers import add_organizer

    unit = factory.unit("FGJ", "区发展和改革局", aliases=["发改局"])
    meeting = factory.meeting("MPTEST", title="全区经济工作会议", venue="区政府三楼大会议室",
                              intro="部署明年工作", agenda=[{"time": "09:00", "title": "开会", "speaker": "王主任"}])
    zhang = factory.contact(unit, name="张三", phone="13800138000")
    wang = factory.contact(unit, name="王会务", phone="13700137000")
    li = factory.contact(unit, name="李四", phone="13900139000")
    factory.invitee(meeting, zhang)
    add_organizer(meeting.code, wang.phone, actor="test", right="staff")
    other = factory.meeting("MPOTHER", title="另一个会议")
    add_organizer(other.code, li.phone, actor="test", right="owner")
    factory.db.session.commit()  # requests that fail roll back whatever is not committed
    return {"meeting": meeting, "other": other, "zhang": zhang, "wang": wang, "li": li}
