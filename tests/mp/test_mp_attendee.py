"""Votes, surveys, documents and history-with-materials through the mini-program API, checked
against the H5 pages that call the same services."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.services.documents import materials as documents
from app.services.votes import rules as vote_rules
from app.services.votes import surveys, votes
from models import DocumentAccess
from models.votes import Ballot
from tests.documents.conftest import confirm_terms, make_pdf
from tests.mp.conftest import API, bearer, token_for


def h5_login(client, identity) -> None:
    with client.session_transaction() as session:
        session.clear()
        session["identity_id"] = identity.id


@pytest.fixture(autouse=True)
def _no_queue(app, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", False)  # conversions run inline, deterministically


@pytest.fixture
def room(app, db, factory, people):
    """张三 and 赵六 invited and signed in; 王会务 organizes; an open vote (results live)."""
    from app.services.signin.rules import get_session
    from app.services.signin.write import sign_in

    meeting = people["meeting"]
    zhao = factory.contact(people["zhang"].unit, name="赵六", phone="13600136000")
    factory.invitee(meeting, zhao)
    session = get_session(meeting)
    for contact in (people["zhang"], zhao):
        sign_in(meeting, session, contact, method="scan", check_window=False)
    vote = votes.create_vote(meeting, actor=people["wang"], title="关于年度预算的表决", kind="motion",
                             results_visibility="live")
    votes.open_vote(meeting, vote, actor=people["wang"])
    ids = {"zhang": factory.identity(people["zhang"]), "zhao": factory.identity(zhao),
           "li": factory.identity(people["li"]), "wang": factory.identity(people["wang"])}
    db.session.commit()
    confirm_terms(meeting, people["zhang"], zhao)  # the 保密提醒 gate is tested in tests/documents
    tokens = {who: bearer(token_for(app, identity)) for who, identity in ids.items()}
    return {"meeting": meeting, "vote": vote, "zhao": zhao, "ids": ids, "h": tokens, **people}


def _upload(room, db, **kw):
    from app.services.documents.convert import process_version

    version = documents.upload(room["meeting"], room["wang"], data=make_pdf(2), file_name="材料.pdf", **kw)
    process_version(version.id)
    db.session.commit()
    return version


def test_ballots_through_the_mini_program_and_h5_count_once_each(client, db, room):
    vote, h = room["vote"], room["h"]
    yes = vote.options[0].id
    listed = client.get(f"{API}/meetings/MPTEST/votes", headers=h["zhang"]).json["items"]
    assert [(v["id"], v["has_voted"], v["eligible"], v["state"]) for v in listed] == [(vote.id, False, True, "open")]
    assert [o["label"] for o in listed[0]["options"]] == ["赞成", "反对", "弃权"]

    res = client.post(f"{API}/meetings/MPTEST/votes/{vote.id}/ballot", json={"option_ids": [yes]}, headers=h["zhang"])
    assert res.status_code == 200, res.json
    assert res.json["status"] == "voted" and res.json["option_ids"] == [yes] and res.json["results_visible"]

    h5_login(client, room["ids"]["zhao"])
    page = client.post(f"/m/MPTEST/votes/{vote.id}", data={"option": str(vote.options[1].id)})
    assert page.status_code == 200 and "投票成功" in page.get_data(as_text=True)

    again = client.post(f"{API}/meetings/MPTEST/votes/{vote.id}/ballot", json={"option_ids": [yes]},
                        headers=h["zhang"])
    assert again.status_code == 409
    assert again.json["error"] == {"code": "already_voted", "message": vote_rules.VoteError("already_voted").message}
    # The H5 page refuses the same person the same way, whichever door they used first.
    assert client.post(f"/m/MPTEST/votes/{vote.id}", data={"option": str(yes)}).status_code == 409
    h5_login(client, room["ids"]["zhang"])
    assert "您已投票" in client.post(f"/m/MPTEST/votes/{vote.id}", data={"option": str(yes)}).get_data(as_text=True)

    assert db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.vote_id == vote.id)) == 2
    assert client.get(f"{API}/meetings/MPTEST/votes", headers=h["zhang"]).json["items"][0]["has_voted"] is True
    results = client.get(f"{API}/meetings/MPTEST/votes/{vote.id}/results", headers=h["zhao"]).json
    assert (results["ballots"], results["eligible"], results["turnout"]) == (2, 2, 100.0)
    assert [o["count"] for o in results["options"]] == [1, 1, 0]


def test_refusals_carry_the_services_codes(client, db, room):
    vote, h = room["vote"], room["h"]
    url = f"{API}/meetings/MPTEST/votes/{vote.id}/ballot"
    outsider = client.post(url, json={"option_ids": [vote.options[0].id]}, headers=h["li"])
    # Not on the list: not a participant, so not even the vote's question is theirs to see.
    assert outsider.status_code == 403 and outsider.json["error"]["code"] == "not_participant"
    assert client.post(url, json={"option_ids": [vote.options[0].id, vote.options[1].id]},
                       headers=h["zhang"]).json["error"]["code"] == "choice_count"
    assert client.post(url, json={"option_ids": ["x"]}, headers=h["zhang"]).status_code == 422

    hidden = votes.create_vote(room["meeting"], actor=room["wang"], title="推选小组长", options=["甲", "乙"])
    votes.open_vote(room["meeting"], hidden, actor=room["wang"])
    db.session.commit()
    refused = client.get(f"{API}/meetings/MPTEST/votes/{hidden.id}/results", headers=h["zhang"])
    assert refused.status_code == 403 and refused.json["error"]["code"] == "results_hidden"
    # Organizers always see results.
    assert client.get(f"{API}/meetings/MPTEST/votes/{hidden.id}/results", headers=h["wang"]).status_code == 200

    votes.close_vote(room["meeting"], hidden, actor=room["wang"])
    db.session.commit()
    late = client.post(f"{API}/meetings/MPTEST/votes/{hidden.id}/ballot", json={"option_ids": [hidden.options[0].id]},
                       headers=h["zhang"])
    assert late.status_code == 409 and late.json["error"] == {"code": "vote_closed", "message": "投票已结束"}
    # Another meeting's results: zhang takes no part in it, so nothing of it is read (issue 21.9).
    other = client.get(f"{API}/meetings/MPOTHER/votes/{vote.id}/results", headers=h["zhang"])
    assert other.status_code == 403 and other.json["error"]["code"] == "not_participant"


def test_survey_once_per_person(client, db, room):
    survey = surveys.create_survey(room["meeting"], actor=room["wang"], title="会议满意度调查", questions=[
        {"kind": "rating", "text": "总体满意度"}, {"kind": "text", "text": "意见建议", "required": False}])
    assert client.get(f"{API}/meetings/MPTEST/surveys", headers=room["h"]["zhang"]).json == {"items": []}  # a draft
    surveys.set_state(room["meeting"], survey, "open", actor=room["wang"])
    db.session.commit()
    listed = client.get(f"{API}/meetings/MPTEST/surveys", headers=room["h"]["zhang"]).json["items"]
    assert listed[0]["answered"] is False and [q["kind"] for q in listed[0]["questions"]] == ["rating", "text"]
    rating, text = (q["id"] for q in listed[0]["questions"])

    url = f"{API}/meetings/MPTEST/surveys/{survey.id}/response"
    body = {"answers": {str(rating): 5, str(text): "<b>很好</b>"}}
    assert client.post(url, json=body, headers=room["h"]["zhang"]).json["status"] == "submitted"
    again = client.post(url, json=body, headers=room["h"]["zhang"])
    assert again.status_code == 409 and again.json["error"]["code"] == "already_answered"
    bad = client.post(url, json={"answers": {str(rating): 9}}, headers=room["h"]["zhao"])
    assert bad.status_code == 400 and bad.json["error"]["code"] == "answer_invalid"
    assert client.post(url, json=body, headers=room["h"]["li"]).json["error"]["code"] == "not_participant"
    assert client.get(f"{API}/meetings/MPTEST/surveys", headers=room["h"]["zhang"]).json["items"][0]["answered"]


def test_document_pages_are_watermarked_bound_logged_and_recalled(client, db, room):
    version = _upload(room, db, title="预算报告（征求意见稿）")
    items = client.get(f"{API}/meetings/MPTEST/documents", headers=room["h"]["zhang"]).json["items"]
    assert [(d["title"], d["ready"], d["page_count"], d["download_url"]) for d in items] == [
        ("预算报告（征求意见稿）", True, 2, None)]
    first = items[0]["first_page_url"]
    assert items[0]["page_url_template"].replace("{n}", "1") == first

    page = client.get(first, headers=room["h"]["zhang"])
    assert page.status_code == 200 and page.mimetype == "image/png" and page.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "no-store" in page.headers["Cache-Control"]
    logged = db.session.scalars(select(DocumentAccess).where(DocumentAccess.version_id == version.id)).all()
    assert [(a.contact_id, a.action, a.page) for a in logged] == [(room["zhang"].id, "page", 1)]

    # Someone else's link: refused, even to an invitee who may read the document.
    stolen = client.get(first, headers=room["h"]["zhao"])
    assert stolen.status_code == 403 and stolen.json["error"]["code"] == "link_not_yours"
    assert client.get(first, headers=room["h"]["li"]).json["error"]["code"] == "link_not_yours"
    outsider = client.get(f"{API}/meetings/MPTEST/documents", headers=room["h"]["li"])
    assert outsider.status_code == 403 and outsider.json["error"]["code"] == "not_invited"
    assert client.get(first).status_code == 401
    assert client.get(first.replace("/1.png", "/3.png"), headers=room["h"]["zhang"]).status_code == 404
    download = client.get(first.rsplit("/pages/", 1)[0] + "/download", headers=room["h"]["zhang"])
    assert download.status_code == 403 and download.json["error"]["code"] == "download_disabled"

    documents.recall(room["meeting"], room["wang"], version.document_id)
    db.session.commit()
    recalled = client.get(first, headers=room["h"]["zhang"])
    assert recalled.status_code == 410 and recalled.json["error"]["code"] == "recalled"
    assert client.get(f"{API}/meetings/MPTEST/documents", headers=room["h"]["zhang"]).json["items"] == []


def test_download_when_allowed(client, db, room):
    _upload(room, db, title="会议议程", allow_download=True)
    item = client.get(f"{API}/meetings/MPTEST/documents", headers=room["h"]["zhang"]).json["items"][0]
    res = client.get(item["download_url"], headers=room["h"]["zhang"])
    assert res.status_code == 200 and res.mimetype == "application/pdf" and res.data.startswith(b"%PDF")


def test_history_carries_materials_and_drops_recalled_ones(client, db, room):
    kept = _upload(room, db, title="会议议程")
    gone = _upload(room, db, title="讲话稿")
    leaders = _upload(room, db, title="仅限领导", access="restricted", allowed_roles=["领导"])
    documents.recall(room["meeting"], room["wang"], gone.document_id)
    db.session.commit()
    entry = client.get(f"{API}/me/history", headers=room["h"]["zhang"]).json["items"][0]
    assert entry["meeting"]["code"] == "MPTEST" and entry["my_status"] == "signed_in"
    assert [m["title"] for m in entry["materials"]] == ["会议议程"]
    assert client.get(entry["materials"][0]["first_page_url"], headers=room["h"]["zhang"]).status_code == 200
    assert leaders.document_id and kept.document_id
    # Someone with no part in the meeting has no history of it, and so no materials.
    assert client.get(f"{API}/me/history", headers=room["h"]["li"]).json["items"] == []
