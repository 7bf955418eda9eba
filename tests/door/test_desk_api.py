"""The scanner's API: a desk token (scoped to one meeting, revocable), the bundle, the idempotent
sync, JSON errors; the attendee's personal code in the mini program."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from app.services.signin import desks
from models import DeskScan, SignIn
from tests.mp.conftest import API, bearer, token_for


def _scan(door, person, at, scan_id=None):
    return {"scan_id": scan_id or uuid.uuid4().hex, "code": door.codes[person.id], "at": at.isoformat(),
            "session": 1, "verdict": "签到成功"}


def test_bundle_and_sync_with_a_desk_token(client, db, door):
    token = door.tokens[0]
    db.session.commit()
    res = client.get(f"{API}/desk/bundle", headers=bearer(token))
    assert res.status_code == 200, res.json
    data = res.json
    assert data["meeting"]["id"] == door.meeting.id and len(data["people"]) == len(door.people)
    assert data["keys"][0]["public_key"] and data["revoked"] == [] and data["desk"]["name"] == "1号签到台"

    at = datetime.now(UTC) - timedelta(minutes=3)
    batch = {"scans": [_scan(door, door.people[0], at, "s1"), _scan(door, door.people[1], at, "s2")]}
    first = client.post(f"{API}/desk/scans", json=batch, headers=bearer(token))
    assert first.status_code == 200 and first.json["new"] == 2 and first.json["signed_in"] == 2
    again = client.post(f"{API}/desk/scans", json=batch, headers=bearer(token))
    assert again.status_code == 200 and again.json["new"] == 0 and again.json["signed_in"] == 0
    assert db.session.scalar(select(func.count()).select_from(DeskScan)) == 2
    assert db.session.scalar(select(func.count()).select_from(SignIn)) == 2


def test_desk_tokens_are_checked_and_revocable(client, db, door):
    db.session.commit()
    for headers in ({}, bearer("nope"), bearer("dk_" + "x" * 32), {"Authorization": "Basic abc"}):
        res = client.get(f"{API}/desk/bundle", headers=headers)
        assert res.status_code == 401 and res.json["error"]["code"] == "desk_unauthorized"
    desks.revoke_desk(door.meeting, door.desks[1].id, actor=door.owner)
    db.session.commit()
    res = client.post(f"{API}/desk/scans", json={"scans": []}, headers=bearer(door.tokens[1]))
    assert res.status_code == 401 and res.json["error"]["code"] == "desk_revoked"
    assert "停用" in res.json["error"]["message"]


def test_bad_input_is_a_json_422(client, db, door):
    db.session.commit()
    token = door.tokens[0]
    for body in ({"scans": [{"scan_id": "x", "code": "c", "at": "2026-01-01T00:00:00", "session": 1}]},
                 {"scans": "no"}, {"scans": [{"scan_id": "a b", "code": "", "at": "2026-01-01T00:00:00Z",
                                              "session": 1}]},
                 {"scans": [{}] * 501}):
        res = client.post(f"{API}/desk/scans", json=body, headers=bearer(token))
        assert res.status_code == 422 and res.json["error"]["code"] == "invalid_input", res.json


def test_the_attendee_gets_a_personal_code_in_the_mini_program(app, client, db, door, factory):
    person = door.people[0]
    identity = factory.identity(person, mp_openid="mp-door")
    res = client.get(f"{API}/meetings/{door.meeting.code}/personal-code", headers=bearer(token_for(app, identity)))
    assert res.status_code == 200 and res.json["code"] == door.codes[person.id] and res.json["png_base64"]
    outsider = factory.identity(factory.contact(name="外人"), mp_openid="mp-out")
    res = client.get(f"{API}/meetings/{door.meeting.code}/personal-code", headers=bearer(token_for(app, outsider)))
    assert res.status_code in (403, 404) and "error" in res.json


def test_the_openapi_document_names_the_desk_token(app):
    doc = app.test_client().get(f"{API}/openapi.json").json
    assert doc["components"]["securitySchemes"]["desk"]["scheme"] == "bearer"
    assert doc["paths"][f"{API}/desk/scans"]["post"]["security"] == [{"desk": []}]
    assert doc["paths"][f"{API}/desk/bundle"]["get"]["security"] == [{"desk": []}]
    assert doc["paths"][f"{API}/meetings/{{code}}/personal-code"]["get"]["security"] == [{"bearer": []}]



def _svg_text(svg: str) -> str:
    """Read the QR drawn by qr_images.qr_svg: its rows of dark runs rasterized, then decoded."""
    import re

    import zxingcpp
    from PIL import Image

    n = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    img = Image.new("L", (n, n), 255)
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)", svg):
        for dx in range(int(w)):
            img.putpixel((int(x) + dx, int(y)), 0)
    return zxingcpp.read_barcodes(img.resize((n * 8, n * 8), Image.NEAREST))[0].text


def test_the_attendee_page_shows_the_personal_code(client, db, door, factory):
    from app.web.auth import SESSION_KEY

    person = door.people[2]
    identity = factory.identity(person)
    db.session.commit()
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id
    html = client.get(f"/m/{door.meeting.code}").get_data(as_text=True)
    assert "个人签到码" in html
    svg = html[html.index("<svg", html.index('id="personal-code"')):html.index("</svg>") + 6]
    assert _svg_text(svg) == door.codes[person.id]
    # Someone not on the list has no code.
    outsider = factory.identity(factory.contact(name="旁听者"))
    db.session.commit()
    with client.session_transaction() as s:
        s[SESSION_KEY] = outsider.id
    assert 'id="personal-code"' not in client.get(f"/m/{door.meeting.code}").get_data(as_text=True)
