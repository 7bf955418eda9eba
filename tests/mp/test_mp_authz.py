"""Authorization matrix: every endpoint × every kind of caller gives the right answer."""

from __future__ import annotations

import pytest

from tests.mp.conftest import API, bearer, token_for

ZHANG_BIND = {"unit": "发改局", "name": "张三", "phone": "13800138000"}

ENDPOINTS = {
    "me": ("GET", "/me", None),
    "bind": ("POST", "/identity/bind", ZHANG_BIND),
    "scene": ("GET", "/meetings/by-scene/MPTEST.1", None),
    "detail": ("GET", "/meetings/MPTEST", None),
    "signin": ("POST", "/meetings/MPTEST/signin", {"nonce": "matrix-nonce-1"}),
    "live": ("GET", "/meetings/MPTEST/live", None),
    "history": ("GET", "/me/history", None),
    # {vote}, {survey} and {doc} are filled in by the ``things`` fixture; {doc} is a link sealed for
    # the caller's own identity, so what decides is their access, not whose link it is.
    "votes": ("GET", "/meetings/MPTEST/votes", None),
    "ballot": ("POST", "/meetings/MPTEST/votes/{vote}/ballot", "BALLOT"),
    "results": ("GET", "/meetings/MPTEST/votes/{vote}/results", None),
    "surveys": ("GET", "/meetings/MPTEST/surveys", None),
    "survey_response": ("POST", "/meetings/MPTEST/surveys/{survey}/response", "ANSWERS"),
    "documents": ("GET", "/meetings/MPTEST/documents", None),
    "page": ("GET", "/meetings/MPTEST/documents/{doc}/pages/1.png", None),
    "download": ("GET", "/meetings/MPTEST/documents/{doc}/download", None),
    "confidentiality": ("GET", "/meetings/MPTEST/confidentiality", None),
    "confirm": ("POST", "/meetings/MPTEST/confidentiality/confirmation", {"version": 1}),
    "notices": ("GET", "/meetings/MPTEST/notices", None),
    "notice": ("GET", "/meetings/MPTEST/notices/{notice}", None),
    "notice_answer": ("POST", "/meetings/MPTEST/notices/{notice}/answer", {"answer": "attend"}),
    "reg_forms": ("GET", "/meetings/MPTEST/registration/forms", None),
    "reg_mine": ("GET", "/meetings/MPTEST/registration/mine", None),
    "reg_submit": ("POST", "/meetings/MPTEST/registration/forms/2147483000",
                   {"people": [{"name": "甲", "phone": "13500009999"}]}),
}
CALLERS = ["none", "expired", "another", "attendee", "organizer_elsewhere", "organizer"]
# (status, error code or None) per endpoint per caller. "another" is a bound person with no part in
# the meeting; the organizers are not invitees, so signing in is refused to them as to anyone.
EXPECTED = {
    "me": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    "bind": [(401, "unauthorized"), (401, "token_expired"), (409, "identity_bound_elsewhere"), 200,
             (409, "identity_bound_elsewhere"), (409, "identity_bound_elsewhere")],
    "scene": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    "detail": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    "signin": [(401, "unauthorized"), (401, "token_expired"), (400, "not_invited"), 200,
               (400, "not_invited"), (400, "not_invited")],
    "live": [(401, "unauthorized"), (401, "token_expired"), (403, "not_organizer"), (403, "not_organizer"),
             (403, "not_organizer"), 200],
    "history": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    # Votes and surveys, even their titles and questions, are for the meeting's participants only
    # (organizers, approved invitees): one rule with documents (issue 21.9).
    "votes": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
              (403, "not_participant"), 200],
    "ballot": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
               (403, "not_participant"), (403, "not_eligible")],
    "results": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), (403, "results_hidden"),
                (403, "not_participant"), 200],
    "surveys": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
                (403, "not_participant"), 200],
    "survey_response": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
                        (403, "not_participant"), (403, "not_eligible")],
    "documents": [(401, "unauthorized"), (401, "token_expired"), (403, "not_invited"), 200,
                  (403, "not_invited"), 200],
    "page": [(401, "unauthorized"), (401, "token_expired"), (403, "not_invited"), 200, (403, "not_invited"), 200],
    "download": [(401, "unauthorized"), (401, "token_expired"), (403, "not_invited"), (403, "download_disabled"),
                 (403, "not_invited"), 200],
    # The 保密提醒 is for those who may read the documents (the attendee confirmed it in ``things``).
    "confidentiality": [(401, "unauthorized"), (401, "token_expired"), (403, "not_invited"), 200,
                        (403, "not_invited"), 200],
    "confirm": [(401, "unauthorized"), (401, "token_expired"), (403, "not_invited"), 200, (403, "not_invited"), 200],
    # A notice is its recipient's: the organizer, a participant, sees the list (empty) but not
    # another person's copy.
    "notices": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
                (403, "not_participant"), 200],
    "notice": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
               (403, "not_participant"), (404, "notice_not_found")],
    "notice_answer": [(401, "unauthorized"), (401, "token_expired"), (403, "not_participant"), 200,
                      (403, "not_participant"), (404, "notice_not_found")],
    # 报名 is open to anyone logged in (a form decides who may register; tests/registration/test_mp.py).
    "reg_forms": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    "reg_mine": [(401, "unauthorized"), (401, "token_expired"), 200, 200, 200, 200],
    "reg_submit": [(401, "unauthorized"), (401, "token_expired")] + [(404, "form_not_found")] * 4,
}


@pytest.fixture
def tokens(app, factory, people):
    zhao = factory.contact(people["zhang"].unit, name="赵六", phone="13600136000")
    ids = {"attendee": factory.identity(people["zhang"]), "another": factory.identity(zhao),
           "organizer_elsewhere": factory.identity(people["li"]), "organizer": factory.identity(people["wang"])}
    out = {role: token_for(app, identity) for role, identity in ids.items()}
    out["expired"] = token_for(app, ids["attendee"], now=1_000_000)
    out["none"] = None
    out["ids"] = ids
    return out


@pytest.fixture
def things(app, db, monkeypatch, tokens, people):
    """An open vote for all invitees (results after closing), an open survey, a ready document."""
    from app.services.documents import materials as documents
    from app.services.documents.convert import process_version
    from app.services.votes import surveys, votes
    from tests.documents.conftest import confirm_terms, make_pdf

    monkeypatch.setitem(app.config, "DOCUMENT_JOBS", False)
    meeting, wang = people["meeting"], people["wang"]
    vote = votes.create_vote(meeting, actor=wang, title="表决事项", kind="motion", eligibility="invitees")
    votes.open_vote(meeting, vote, actor=wang)
    survey = surveys.create_survey(meeting, actor=wang, title="满意度", questions=[{"kind": "rating", "text": "评分"}])
    surveys.set_state(meeting, survey, "open", actor=wang)
    version = documents.upload(meeting, wang, data=make_pdf(1), file_name="议程.pdf")
    process_version(version.id)
    db.session.commit()
    confirm_terms(meeting, people["zhang"])  # the 保密提醒 gate is tested in tests/documents
    from app.services.notify import notices

    notice = notices.create(meeting, title="会议通知", body="请准时参加", audience={"all": True}, actor=wang)
    notices.send(notice, meeting, actor=wang)
    db.session.commit()
    document = documents.get_document(meeting, version.document_id)
    secret = app.config["SECRET_KEY"]
    docs = {role: documents.view_token(secret, document, version, identity.id)
            for role, identity in tokens["ids"].items()}
    docs["none"] = docs["expired"] = docs["attendee"]
    return {"vote": vote.id, "option": vote.options[0].id, "survey": survey.id, "notice": notice.id,
            "question": survey.questions[0].id, "docs": docs}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_matrix(client, tokens, things, endpoint, caller):
    method, path, body = ENDPOINTS[endpoint]
    path = path.format(vote=things["vote"], survey=things["survey"], doc=things["docs"][caller],
                       notice=things["notice"])
    body = {"BALLOT": {"option_ids": [things["option"]]},
            "ANSWERS": {"answers": {str(things["question"]): 4}}}.get(body, body) if isinstance(body, str) else body
    token = tokens[caller]
    res = client.open(API + path, method=method, json=body, headers=bearer(token) if token else {})
    expected = EXPECTED[endpoint][CALLERS.index(caller)]
    status, code = expected if isinstance(expected, tuple) else (expected, None)
    assert res.status_code == status, res.get_data(as_text=True)
    if code:
        assert res.json["error"]["code"] == code and res.json["error"]["message"]


def test_a_token_never_reads_another_persons_data(client, tokens):
    zhang, zhao = bearer(tokens["attendee"]), bearer(tokens["another"])
    assert client.post(f"{API}/meetings/MPTEST/signin", json={"nonce": "zhang-nonce-1"}, headers=zhang).status_code == 200

    assert client.get(f"{API}/me", headers=zhao).json["contact"]["name"] == "赵六"
    assert client.get(f"{API}/me/history", headers=zhao).json == {"items": [], "page": 1, "per_page": 20, "total": 0}
    detail = client.get(f"{API}/meetings/MPTEST", headers=zhao).json
    assert detail["my_status"] == "none" and detail["sessions"][0]["my_signin"] is None
    assert detail["sessions"][0]["my_state"] == "not_invited"
    # The attendee sees their own sign-in; nothing in another's answer mentions them.
    mine = client.get(f"{API}/meetings/MPTEST", headers=zhang).json
    assert mine["my_status"] == "signed_in" and mine["sessions"][0]["my_signin"]["seq"] == 1
    for path in ("/me", "/me/history", "/meetings/MPTEST"):
        assert "张三" not in client.get(API + path, headers=zhao).get_data(as_text=True)


def test_live_numbers_for_the_organizer(client, tokens):
    client.post(f"{API}/meetings/MPTEST/signin", json={"nonce": "zhang-nonce-2"}, headers=bearer(tokens["attendee"]))
    live = client.get(f"{API}/meetings/MPTEST/live", headers=bearer(tokens["organizer"])).json
    assert (live["expected"], live["arrived"], live["rate"]) == (1, 1, 100.0)
    assert live["units"][0]["name"] == "区发展和改革局" and live["units"][0]["missing"] == []


def test_drafts_are_visible_to_their_organizers_only(app, client, db, factory, tokens, people):
    from app.services.meetings.organizers import add_organizer

    factory.meeting("MPDRAFT2", publish=False)
    add_organizer("MPDRAFT2", people["wang"].phone, actor="test", right="viewer")
    db.session.commit()
    assert client.get(f"{API}/meetings/MPDRAFT2", headers=bearer(tokens["organizer"])).status_code == 200
    assert client.get(f"{API}/meetings/MPDRAFT2", headers=bearer(tokens["attendee"])).status_code == 404
