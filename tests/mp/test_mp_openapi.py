"""The OpenAPI document is generated from the code, and the API keeps to it (schemathesis)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from miniprogram_api import openapi_document
from tests.mp.conftest import API, bearer


@pytest.fixture
def mp_world(app, committed_db):
    """Real commits (schemathesis calls the app like a client would), the simulator for WeChat."""
    from app.services.contacts.units import add_unit
    from app.services.identity.mp_sessions import issue_token
    from app.services.meetings.meetings import create_meeting, invite_contact
    from app.services.meetings.organizers import add_organizer
    from models import Contact, WechatIdentity
    from scripts.wechat_sim import SimConfig, Simulator
    from scripts.wechat_sim.transport import WsgiAdapter

    sim = Simulator(SimConfig(app_id=app.config["WECHAT_APP_ID"], app_secret=app.config["WECHAT_APP_SECRET"],
                              token=app.config["WECHAT_TOKEN"], mp_app_id=app.config["MINIPROGRAM_APP_ID"],
                              mp_app_secret=app.config["MINIPROGRAM_APP_SECRET"]))
    app.extensions["wechat_mp"].http.mount("http://wechat.sim/", WsgiAdapter(sim.app))
    db = committed_db
    unit = add_unit("OAPI", "接口测试单位", actor="test")
    starts = datetime.now(UTC)
    meeting = create_meeting("MPTEST", "接口测试会议", actor="test", starts_at=starts,
                             ends_at=starts.replace(hour=23, minute=59), publish=True,
                             agenda=[{"time": "09:00", "title": "开会"}])
    contact = Contact(unit=unit, name="测试员", phone="13512345678")
    db.session.add(contact)
    db.session.flush()
    invite_contact(meeting, contact, actor="test")
    add_organizer("MPTEST", contact.phone, actor="test", right="owner")
    identity = WechatIdentity(mp_openid="mp-oapi", contact=contact, bound_at=datetime.now(UTC))
    db.session.add(identity)
    db.session.commit()
    token = issue_token(app.config["SECRET_KEY"], identity.id)[0]
    db.session.remove()
    return {"token": token}


def test_document_covers_every_route_and_declares_bearer(app):
    doc = app.test_client().get(f"{API}/openapi.json").json
    assert doc == openapi_document()
    assert doc["openapi"].startswith("3.") and doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    # Flask's converters (<int:vote_id>) are the document's typed path parameters ({vote_id}).
    routes = {(re.sub(r"<\w+:(\w+)>", r"<\1>", r.rule), m.lower()) for r in app.url_map.iter_rules() if r.endpoint.startswith("mp_api.")
              and not r.rule.endswith("openapi.json") for m in r.methods - {"HEAD", "OPTIONS"}}
    documented = {(path.replace("{", "<").replace("}", ">"), method)
                  for path, ops in doc["paths"].items() for method in ops}
    assert routes == documented
    assert doc["paths"][f"{API}/session"]["post"]["security"] == []
    assert doc["paths"][f"{API}/me"]["get"]["security"] == [{"bearer": []}]
    signin = doc["paths"][f"{API}/meetings/{{code}}/signin"]["post"]
    assert {"200", "401", "422"} <= set(signin["responses"])
    # Every operation may meet input no person types (app.web.input_guard): its 400 is in the document.
    assert all("400" in op["responses"] for ops in doc["paths"].values() for op in ops.values())


def test_a_nul_in_a_json_key_is_the_documented_400(app):
    # The shape schemathesis once found undocumented: a NUL inside a key of an extra property.
    res = app.test_client().post(f"{API}/session", json={"\x00_Rv": [], "code": ""})
    assert res.status_code == 400 and res.json["error"]["code"] == "bad_input"
    assert "无法识别的字符" in res.json["error"]["message"]


# Built at import from the same function that serves /openapi.json (the first test checks they agree):
# schemathesis' pytest fixture loader does not work with pytest 9.
# Well-formed input may still break a business rule (fields_missing, not_invited...): that is a 400
# with its own code by contract, so it counts as a proper answer to schema-valid data.
_CONFIG = SchemathesisConfig.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "400", "401", "403", "404", "409", "429"]}}})
schema = schemathesis.openapi.from_dict(openapi_document(), config=_CONFIG)


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_to_its_document(case, app, mp_world):
    case.operation.schema.app = app  # every request, the checks' own probes too, goes to this app
    case.call_and_validate(headers=bearer(mp_world["token"]), app=app)
