"""The big screen's vote mode without a browser: the key check, the public view of a vote (counts
only when the vote's results are public), and vote events as the screen's stream sends them."""

from __future__ import annotations

import json

from app.services.live import stream as live_stream
from app.services.live.headcount import screen_key
from app.services.votes import votes


def _url(app, code: str, path: str = "/vote.json") -> str:
    return f"/screen/{code}{path}?k={screen_key(app.config['SECRET_KEY'], code)}"


def _vote(vm, visibility: str):
    vote = votes.create_vote(vm.meeting, actor=vm.organizer, title="推选<监票人>", kind="single",
                             options=["张三", "李四"], results_visibility=visibility)
    votes.open_vote(vm.meeting, vote, actor=vm.organizer)
    return vote


def test_vote_json_needs_the_screen_key(app, client, vm):
    assert client.get(f"/screen/{vm.meeting.code}/vote.json?k=wrong").status_code == 403


def test_headcount_mode_has_no_vote(app, client, vm, redis_client):
    assert client.get(_url(app, vm.meeting.code)).get_json() == {"vote": None}


def test_live_vote_shows_counts(app, client, vm, redis_client):
    vote = _vote(vm, "live")
    votes.show_on_screen(vm.meeting, vote, actor=vm.organizer)
    for person, option in zip(vm.delegates[:3], (0, 0, 1), strict=True):
        votes.cast_ballot(vote, person, [vote.options[option].id])
    data = client.get(_url(app, vm.meeting.code)).get_json()["vote"]
    assert data["visible"] is True and data["ballots"] == 3 and data["eligible"] == 6
    assert [(o["label"], o["count"], o["percent"]) for o in data["options"]] == [("张三", 2, 66.7), ("李四", 1, 33.3)]
    page = client.get(_url(app, vm.meeting.code, "")).get_data(as_text=True)
    assert 'class="mode-vote"' in page and "推选&lt;监票人&gt;" in page and "推选<监票人>" not in page


def test_results_after_close_show_turnout_only_until_closed(app, client, vm, redis_client):
    vote = _vote(vm, "after_close")
    votes.show_on_screen(vm.meeting, vote, actor=vm.organizer)
    votes.cast_ballot(vote, vm.delegates[0], [vote.options[0].id])
    data = client.get(_url(app, vm.meeting.code)).get_json()["vote"]
    assert data["visible"] is False and data["ballots"] == 1 and data["turnout"] == round(100 / 6, 1)
    assert all(set(o) == {"id", "label"} for o in data["options"])
    votes.close_vote(vm.meeting, vote, actor=vm.organizer)
    data = client.get(_url(app, vm.meeting.code)).get_json()["vote"]
    assert data["visible"] is True and data["state_label"] == "已结束" and data["options"][0]["count"] == 1


def test_organizers_only_never_on_the_public_screen(app, client, vm, redis_client):
    vote = _vote(vm, "organizers")
    votes.show_on_screen(vm.meeting, vote, actor=vm.organizer)
    votes.close_vote(vm.meeting, vote, actor=vm.organizer)
    data = client.get(_url(app, vm.meeting.code)).get_json()["vote"]
    assert data["visible"] is False and "count" not in data["options"][0]


def test_stream_sends_vote_events_in_public_form(app, db, vm, redis_client):
    hidden, shown = _vote(vm, "after_close"), _vote(vm, "live")
    visibility = live_stream.VoteVisibility(app)

    def sent(vote, **kw):
        payload = {"type": "vote", "vote_id": vote.id, "state": "open", "title": vote.title, "ballots": 2,
                   "eligible": 6, "turnout": 33.3, "totals": {str(vote.options[0].id): 2},
                   "options": [{"id": o.id, "label": o.label, "count": 2 - i, "percent": 100.0 - 100 * i}
                               for i, o in enumerate(vote.options)]}
        message = live_stream.meeting_event("1-0", payload, visibility, **kw)
        head, _, data = message.partition("data: ")
        assert head == "id: 1-0\nevent: vote\n"
        return json.loads(data)

    db.session.flush()
    public = sent(hidden, organizer=False)
    assert public["visible"] is False and "totals" not in public and "count" not in public["options"][0]
    assert public["ballots"] == 2 and public["turnout"] == 33.3
    assert sent(shown, organizer=False)["options"][0]["count"] == 2
    assert sent(hidden, organizer=True)["totals"] == {str(hidden.options[0].id): 2}
    mode = live_stream.meeting_event("2-0", {"type": "screen_mode", "mode": f"vote:{shown.id}"}, visibility,
                                 organizer=False)
    assert json.loads(mode.partition("data: ")[2]) == {"type": "screen_mode", "mode": f"vote:{shown.id}",
                                                       "vote_id": shown.id}


def test_screen_vote_id():
    assert live_stream.screen_vote_id("vote:12") == 12
    assert live_stream.screen_vote_id("headcount") is None
    assert live_stream.screen_vote_id("vote:x") is None
    assert live_stream.screen_vote_id(None) is None
