"""The console's authorization matrix: every route under /admin that names a meeting, every method,
for every kind of visitor, against the one rule (app/services/meetings/organizers.py RIGHTS).

The routes come from the app's own route map, so a route added later without a rule in this table
fails here until someone decides who may use it. A refusal is a 403 before anything is read or written;
an allowed visitor may still get a 4xx for the empty request this test sends, never a 403 or a 500.
"""

from __future__ import annotations

import re

import pytest

from app.services.logistics import meals
from app.services.votes.surveys import create_survey
from app.services.votes.votes import create_vote
from tests.console.conftest import build_console, login_as

LEVEL = {"stranger": 0, "outsider": 0, "viewer": 1, "staff": 2, "owner": 3}
VIEWER, STAFF, OWNER = 1, 2, 3

#: The least right each endpoint needs. The stream (console.events) is an endless SSE response and is
#: checked separately below.
NEEDS = {
    "codes.mp_png": VIEWER, "codes.poster_pdf": VIEWER, "codes.poster_png": VIEWER, "codes.qr_png": VIEWER,
    "console.page": VIEWER, "console.numbers": VIEWER, "console.reminder_list": VIEWER, "console.missing": VIEWER,
    "console.proxy_signin": STAFF, "console.undo_signin": STAFF, "console.remind": STAFF, "console.schedule": STAFF,
    "console_door.page": STAFF, "console_door.guest": STAFF, "console_door.approve": STAFF,
    "console_door.refuse": STAFF, "console_door.unbind": STAFF, "console_door.leave": STAFF,
    "console_door.cancel_leave": STAFF, "console_door.log": VIEWER,
    "console_desks.page": STAFF, "console_desks.issue": STAFF, "console_desks.revoke": STAFF,
    "console_desks.revoke_code": STAFF, "console_desks.paper_page": STAFF, "console_desks.paper_save": STAFF,
    "console_meetings.settings": VIEWER, "console_meetings.sessions": VIEWER,
    "console_meetings.save_settings": OWNER, "console_meetings.change_state": OWNER,
    "console_meetings.add_session": OWNER, "console_meetings.update_session": OWNER,
    "console_meetings.remove_session": OWNER, "console_meetings.replace_screen_link": OWNER, "console_meetings.save_agenda": OWNER, "console_meetings.copy": OWNER,
    "console_people.invitees": VIEWER, "console_people.organizers": VIEWER,
    "console_people.directory": OWNER, "console_people.add_people": OWNER, "console_people.add_units": OWNER,
    "console_people.paste": OWNER, "console_people.import_check": OWNER, "console_people.import_report": OWNER,
    "console_people.import_apply": OWNER, "console_people.import_job": OWNER, "console_people.job_page": VIEWER, "console_people.import_template": OWNER, "console_people.remove": OWNER,
    "console_people.update": OWNER, "console_people.organizer_set": OWNER, "console_people.organizer_remove": OWNER,
    "documents.admin_list": STAFF, "documents.admin_status": STAFF, "documents.admin_upload": STAFF,
    "documents.admin_log": STAFF, "documents.admin_recall": STAFF, "documents.admin_recall_all": STAFF,
    "documents.admin_new_version": STAFF,
    "confidentiality.admin_page": STAFF, "confidentiality.admin_save": STAFF,
    "votes.admin_list": VIEWER, "votes.admin_vote": VIEWER, "votes.admin_results_json": VIEWER,
    "votes.admin_create": STAFF, "votes.admin_state": STAFF, "votes.admin_screen": STAFF, "votes.admin_export": STAFF,
    "surveys.admin_list": VIEWER, "surveys.summary_page": VIEWER, "surveys.set_state": STAFF,
    "surveys.export": STAFF,
    # The report's own right (numbers: view; people: reports) is checked after the kind is known:
    # tests/reports/test_console_reports.py holds that matrix per kind.
    "console_reports.page": VIEWER, "console_reports.download": VIEWER,
    "console_notices.index": STAFF, "console_notices.new": STAFF, "console_notices.create": STAFF,
    "console_notices.detail": STAFF, "console_notices.edit": STAFF, "console_notices.send": STAFF,
    "console_notices.remind": STAFF, "console_notices.decide": STAFF,
    "console_cards.page": VIEWER, "console_cards.people": VIEWER, "console_cards.person": VIEWER,
    "console_cards.save": OWNER, "console_cards.template": OWNER, "console_cards.import_check": OWNER,
    "console_cards.import_job": OWNER, "console_cards.import_report": OWNER, "console_cards.import_apply": OWNER,
    # 报名: the list, decisions, tags and export are "registrations"; the forms are the meeting's ("edit").
    "console_registration.page": STAFF, "console_registration.decide_many": STAFF,
    "console_registration.export": STAFF, "console_registration.forms": OWNER,
    "console_registration.create_form": OWNER, "console_registration.update_form": OWNER,
    "console_registration.publish_form": OWNER, "console_registration.detail": STAFF,
    "console_registration.file": STAFF,
    "console_badges.page": VIEWER, "console_badges.preview": VIEWER, "console_badges.print_": STAFF,
    # 用餐与乘车: reading is "view"; every change and the exports (phone numbers) are "logistics".
    "console_meals.page": VIEWER, "console_meals.plan": VIEWER,
    **{f"console_meals.{name}": STAFF for name in (
        "add", "save", "delete", "add_places", "assign", "move", "save_place", "delete_place", "export")},
    # 住宿: reading is "view"; every change, the import and the rooming list export are "logistics".
    "console_lodging.page": VIEWER,
    **{f"console_lodging.{name}": STAFF for name in (
        "hotel_add", "hotel_save", "hotel_delete", "type_add", "type_delete", "rooms_add", "room_delete",
        "allocate", "assign", "unassign", "publish", "unpublish", "export", "template", "import_check",
        "import_job", "import_report", "import_apply")},
    # 座次: reading is "view"; plans, assignment, moves and the exports (a list of people) are "logistics".
    "console_seating.page": VIEWER,
    **{f"console_seating.{name}": STAFF for name in (
        "create", "update", "delete", "assign", "move", "unassign", "clear", "export")},
}
#: Where one endpoint serves two methods with different needs.
NEEDS_BY_METHOD = {("surveys.admin_list", "POST"): STAFF, ("console_cards.person", "POST"): OWNER}


def console_routes(app, code: str, ids: dict[str, int]) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every route under /admin that names a meeting, with real ids of
    this meeting's objects so a lookup never answers before the right is checked."""
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin/") or ("<code>" not in rule.rule and "<meeting_code>" not in rule.rule):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            url = rule.rule.replace("<code>", code).replace("<meeting_code>", code)
            url = re.sub(r"<any\(([a-z_]+)[^>]*>", lambda m: m.group(1), url)
            url = re.sub(r"<int:([a-z_]+)>", lambda m: str(ids.get(m.group(1), 1)), url)
            url = re.sub(r"<[a-z_]+>", "x", url)
            out.append((rule.endpoint, method, url))
    return sorted(out)


@pytest.fixture
def matrix(app, factory):
    data = build_console(factory)
    vote = create_vote(data.meeting, actor=data.owner, title="表决", options=["同意", "反对"])
    survey = create_survey(data.meeting, actor=data.owner, title="问卷",
                           questions=[{"kind": "single", "text": "满意吗", "options": ["是", "否"]}])
    sitting = meals.save_sitting(data.meeting, {"name": "午餐", "day": "2026-12-03", "starts": "12:00",
                                                "ends": "13:00"}, actor="test")
    table = meals.add_tables(data.meeting, sitting, {"seats": "10"}, actor="test")[0]
    factory.db.session.commit()
    ids = {"vote_id": vote.id, "survey_id": survey.id, "contact_id": data.people[0].id,
           "invitee_id": 1, "position": 1, "document_id": 1,
           # /meals/<any(sittings, routes)>/<parent_id>, /meals/<any(tables, cars)>/<place_id>: the first kind
           "parent_id": sitting.id, "place_id": table.id}
    return data, console_routes(app, data.meeting.code, ids)


def test_every_route_has_a_rule(matrix):
    _data, routes = matrix
    missing = sorted({endpoint for endpoint, _m, _u in routes} - set(NEEDS) - {"console.events"})
    assert missing == [], f"routes with no rule in the matrix: {missing}"


@pytest.mark.parametrize("who", ["stranger", "outsider", "viewer", "staff", "owner"])
def test_matrix(client, matrix, who):
    data, routes = matrix
    login_as(client, data, who)
    wrong = []
    for endpoint, method, url in routes:
        if endpoint == "console.events":
            continue
        need = NEEDS_BY_METHOD.get((endpoint, method), NEEDS[endpoint])
        status = getattr(client, method.lower())(url, headers={"Accept": "application/json"}).status_code
        allowed = LEVEL[who] >= need
        if status >= 500 or (status == 403) == allowed:
            wrong.append((method, url, status, "should be allowed" if allowed else "should be 403"))
    assert wrong == [], wrong


@pytest.mark.parametrize("who", ["stranger", "outsider"])
def test_the_stream_is_refused_too(client, matrix, who):
    data, _routes = matrix
    login_as(client, data, who)
    assert client.get(f"/admin/{data.meeting.code}/events").status_code == 403


def test_another_units_organizer_does_not_see_the_meeting_in_their_list(client, matrix):
    data, _routes = matrix
    login_as(client, data, "outsider")
    assert data.meeting.title not in client.get("/admin").get_data(as_text=True)
    login_as(client, data, "owner")
    assert data.meeting.title in client.get("/admin").get_data(as_text=True)
