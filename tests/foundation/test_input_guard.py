"""Bad input on any route is a 4xx with a stable code, never a 500 (issue 21.4)."""

from __future__ import annotations

import json

import pytest

from tests.console.conftest import build_console, login_as


@pytest.mark.parametrize("path", ["/m/AB%00C", "/admin/AB%00C", "/screen/AB%00C/numbers.json?k=x",
                                  "/m/my?page=1%00"])
def test_nul_in_path_or_query_is_bad_input(client, path):
    res = client.get(path, headers={"Accept": "application/json"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_input"


def test_nul_in_a_form_field_is_bad_input(app, client, factory):
    console = build_console(factory)
    login_as(client, console, "stranger")
    res = client.post("/units/login", data={"username": "a\x00b", "password": "x"},
                      headers={"Accept": "application/json"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_input"


def test_twenty_digit_ids_are_not_found_not_500(client, factory):
    console = build_console(factory)
    login_as(client, console, "owner")
    code = console.meeting.code
    for path in (f"/admin/{code}/votes/12345678901234567890", f"/m/{code}/votes/12345678901234567890",
                 f"/m/{code}/documents/12345678901234567890"):
        res = client.get(path)
        assert res.status_code in (403, 404), path  # never reaches the database as a number
    res = client.post(f"/admin/{code}/proxy", json={"contact_id": 12345678901234567890})
    assert res.status_code in (400, 404) and res.status_code != 500


def test_deeply_nested_json_is_malformed_json(client, factory):
    console = build_console(factory)
    login_as(client, console, "owner")
    body = "[" * 100_000 + "]" * 100_000
    res = client.post(f"/admin/{console.meeting.code}/proxy", data=body, content_type="application/json")
    assert res.status_code in (400, 404) and res.status_code != 500
    res = client.post("/api/mp/v1/session", data=body, content_type="application/json")
    assert 400 <= res.status_code < 500, res.get_data(as_text=True)[:200]
    assert json.loads(res.get_data(as_text=True))["error"]["code"]


def test_nul_in_a_json_string_is_bad_input_before_the_view(client, factory):
    """On SQLite the NUL would be stored, on PostgreSQL refused late as a database error: both
    doors refuse it as soon as the body is read, in a value or a key, however deep."""
    for body in ({"code": "a\x00b"}, {"code": "x", "a\x00": 1}, {"code": "x", "deep": [{"k": ["\x00"]}]}):
        res = client.post("/api/mp/v1/session", json=body)
        assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_input", body
    console = build_console(factory)
    login_as(client, console, "owner")
    res = client.post(f"/admin/{console.meeting.code}/revoke",
                      json={"contact_id": console.people[0].id, "reason": "a\x00b"})
    assert res.status_code == 400 and res.get_json()["error"]["code"] == "bad_input"
