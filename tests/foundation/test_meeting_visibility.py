"""One rule for who sees a meeting: a draft's intro and agenda are refused by every door (H5 pages,
mini program, the official account's reply to a scan), and its organizers still see it."""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import pytest

from app.services.codes.scenes import make_mp_scene, make_scene
from app.services.meetings.meetings import MeetingError
from app.services.meetings.organizers import add_organizer
from app.services.meetings.visibility import visible_meeting
from app.web.auth import SESSION_KEY
from tests.mp.conftest import API, bearer, token_for

INTRO = "草案简介：尚未定稿的会议安排"
AGENDA_TITLE = "尚未公布的议程"
NOT_FOUND = "找不到会议"


@pytest.fixture
def room(db, factory):
    """A draft meeting with an intro and agenda, its invitee 张三, its organizer 王会务 (viewer)."""
    unit = factory.unit("VISU", "区发展和改革局", aliases=["发改局"])
    draft = factory.meeting("VISDRAFT", title="草案会议", publish=False, intro=INTRO,
                            agenda=[{"time": "09:00", "title": AGENDA_TITLE, "speaker": "王主任"}])
    zhang = factory.contact(unit, name="张三", phone="13800138000")
    wang = factory.contact(unit, name="王会务", phone="13700137000")
    factory.invitee(draft, zhang)
    add_organizer(draft.code, wang.phone, actor="test", right="viewer")
    db.session.commit()  # a refused request rolls back what is not committed
    return {"draft": draft, "zhang": zhang, "wang": wang}


def _log_in(client, identity) -> None:
    from app.extensions import db

    db.session.commit()  # a refused request rolls back what is not committed
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id


def _refused(res) -> None:
    body = res.get_data(as_text=True)
    assert res.status_code == 404, body
    assert INTRO not in body and AGENDA_TITLE not in body and "草案会议" not in body


def _mp_refused(res) -> None:
    _refused(res)
    assert res.json["error"]["code"] == "meeting_not_found"
    assert res.json["error"]["message"].startswith(NOT_FOUND)


# -- the rule --------------------------------------------------------------------------------------
def test_the_rule_in_the_service(db, room, factory):
    draft = room["draft"]
    for who in (None, room["zhang"], factory.contact(name="路人")):
        for asked in (draft, draft.code):
            with pytest.raises(MeetingError) as err:
                visible_meeting(asked, who)
            assert (err.value.code, err.value.status) == ("meeting_not_found", 404)
            assert err.value.message == f"{NOT_FOUND}：VISDRAFT"
    assert visible_meeting(draft.code, room["wang"]) is draft
    published = factory.meeting("VISPUB")
    assert visible_meeting("VISPUB", None) is published and visible_meeting(published, room["zhang"]) is published


# -- per door --------------------------------------------------------------------------------------
def test_h5_meeting_page_refuses_a_draft(client, room, factory):
    _log_in(client, factory.identity(room["zhang"]))
    _refused(client.get("/m/VISDRAFT"))
    _log_in(client, factory.identity(None))  # logged in by WeChat, not bound to the directory
    _refused(client.get("/m/VISDRAFT"))


def test_h5_signin_page_refuses_a_draft(client, room, factory):
    _log_in(client, factory.identity(room["zhang"]))
    _refused(client.get("/m/VISDRAFT/signin"))
    _refused(client.post("/m/VISDRAFT/signin?s=1"))
    _refused(client.get("/m/VISDRAFT/done?s=1"))


def test_mini_program_detail_refuses_a_draft(app, client, room, factory):
    auth = bearer(token_for(app, factory.identity(room["zhang"])))
    _mp_refused(client.get(f"{API}/meetings/VISDRAFT", headers=auth))
    unbound = bearer(token_for(app, factory.identity(mp_openid="mp-vis-unbound", oa_openid=None)))
    _mp_refused(client.get(f"{API}/meetings/VISDRAFT", headers=unbound))
    # What hangs off the meeting answers the same: sign-in, votes, surveys, documents.
    _mp_refused(client.post(f"{API}/meetings/VISDRAFT/signin", json={"nonce": "vis-nonce-1"}, headers=auth))
    for path in ("/votes", "/surveys", "/documents"):
        _mp_refused(client.get(f"{API}/meetings/VISDRAFT{path}", headers=auth))


def test_mini_program_scene_refuses_a_draft(app, client, room, factory):
    auth = bearer(token_for(app, factory.identity(room["zhang"])))
    draft = room["draft"]
    for scene in (make_mp_scene(draft.code, draft.id, 1), f"id:{draft.id}.1", "VISDRAFT.1"):
        _mp_refused(client.get(f"{API}/meetings/by-scene/{scene}", headers=auth))


def _link(reply_text: str) -> str:
    """The first link of a WeChat reply, as path and query for the test client."""
    href = urlsplit(html.unescape(re.search(r'href="([^"]+)"', reply_text).group(1)))
    return href.path + (f"?{href.query}" if href.query else "")


def _scan(sim, openid: str):
    return sim.phone.post_event(openid, [("Event", "SCAN"), ("EventKey", make_scene("VISDRAFT", 1))])


def test_wechat_reply_to_a_scan_of_a_draft_shows_nothing_of_it(client, sim, room, factory):
    scanner = factory.identity(room["zhang"], oa_openid="o-vis-zhang")
    reply = _scan(sim, "o-vis-zhang")
    assert "会议尚未发布" in reply.text
    assert INTRO not in reply.text and AGENDA_TITLE not in reply.text
    # The reply's "查看会议详情" link leads to the H5 meeting page, which refuses the draft.
    assert _link(reply.text) == "/m/VISDRAFT"
    _log_in(client, scanner)
    _refused(client.get(_link(reply.text)))
    # A first-time scanner is sent to bind (wechat_handlers/scan.py): no intro or agenda there either.
    first = _scan(sim, "o-vis-new")
    assert "首次签到需核对身份" in first.text
    assert INTRO not in first.text and AGENDA_TITLE not in first.text
    bind_page = client.get(_link(first.text)).get_data(as_text=True)
    assert INTRO not in bind_page and AGENDA_TITLE not in bind_page


# -- organizers ------------------------------------------------------------------------------------
def test_the_meetings_organizer_still_sees_the_draft(app, client, room, factory):
    organizer = factory.identity(room["wang"])
    _log_in(client, organizer)
    for path in ("/m/VISDRAFT", "/m/VISDRAFT/signin"):
        res = client.get(path)
        assert res.status_code == 200 and "草案会议" in res.get_data(as_text=True), path
    page = client.get("/m/VISDRAFT").get_data(as_text=True)
    assert INTRO in page and AGENDA_TITLE in page
    auth = bearer(token_for(app, organizer))
    detail = client.get(f"{API}/meetings/VISDRAFT", headers=auth)
    assert detail.status_code == 200
    assert detail.json["intro"] == INTRO and detail.json["agenda"][0]["title"] == AGENDA_TITLE
    found = client.get(f"{API}/meetings/by-scene/id:{room['draft'].id}.1", headers=auth)
    assert found.status_code == 200 and found.json["meeting"]["intro"] == INTRO
