"""Issue 16: the demo seeds a unit-office login that `make run` prints and the README documents."""

from __future__ import annotations

import json
from pathlib import Path

from app.services.demo import UNIT_OFFICE
from scripts.run_demo import url_block

README = Path(__file__).resolve().parents[2] / "README.md"


def test_demo_seed_creates_a_unit_office_login_that_works(app, runner, client, db):
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    assert f"{UNIT_OFFICE['username']} / {UNIT_OFFICE['password']}" in first.output
    again = runner.invoke(args=["demo", "seed", "--json"])  # idempotent, and still says the login
    assert json.loads(again.output)["unit_office"]["username"] == UNIT_OFFICE["username"]
    db.session.commit()

    response = client.post("/units/login", data={"username": UNIT_OFFICE["username"],
                                                 "password": UNIT_OFFICE["password"]})
    assert response.status_code == 302
    assert "区发展和改革局" in client.get("/units/").text


def test_make_run_prints_it_and_the_readme_documents_it(app):
    info = {"meeting": "QJJ2026Q4", "organizer_phone": "13905710006",
            "unit_office": {**UNIT_OFFICE, "unit_name": "区发展和改革局"}}
    block = url_block(app, "http://127.0.0.1:5000", info)
    assert "http://127.0.0.1:5000/units/login" in block
    assert f"{UNIT_OFFICE['username']} / {UNIT_OFFICE['password']}" in block
    readme = README.read_text(encoding="utf-8")
    assert f"`{UNIT_OFFICE['username']}` / `{UNIT_OFFICE['password']}`" in readme
