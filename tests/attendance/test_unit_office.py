"""The unit office's view of its own people: roster and binding, upcoming meetings, attendance; and
the authorization matrix: an office never sees another unit's people or attendance, on any route."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl
import pypdfium2 as pdfium
import pytest

from app.services.attendance import unit_office as svc
from app.services.attendance.unit_office import UnitOfficeError
from tests.attendance.conftest import NOW

PASSWORD = "correct horse battery"


@pytest.fixture
def offices(att, factory, db):
    """Both units' offices; a1 and b1 have bound WeChat; MT5 (running at NOW: a1, a2, b1, b2) has a2
    on leave; UP2 (in two days, admission units listing CZJ) invites CZJ only."""
    from app.services.contacts.units import add_unit_account
    from app.services.meetings.leaves import record_leave

    add_unit_account(att.fgj, "fgj_office", PASSWORD, actor="test")
    add_unit_account(att.czj, "czj_office", PASSWORD, actor="test")
    factory.identity(att.people["a1"])
    factory.identity(att.people["b1"])
    record_leave(att.meetings["MT5"], att.people["a2"], reason="外出学习", approver="王主任", actor="test")
    up2 = factory.meeting("UP2", title="财政工作专题会", starts_at=NOW + timedelta(days=2), hours=2,
                          admission="units", unit_codes=["CZJ"])
    att.extra["UP2"] = up2
    db.session.commit()
    return att


# -- services ---------------------------------------------------------------------------------------
def test_roster_with_binding_search_filter_and_paging(offices):
    found = svc.roster(offices.fgj)
    assert (found.everyone, found.bound, found.unbound) == (3, 1, 2)  # 张四 has left: not listed
    assert [(p.name, p.bound) for p in found.rows] == [("张一", True), ("张二", False), ("张三", False)]
    assert [p.name for p in svc.roster(offices.fgj, show="unbound").rows] == ["张二", "张三"]
    assert [p.name for p in svc.roster(offices.fgj, show="bound").rows] == ["张一"]
    assert [p.name for p in svc.roster(offices.fgj, q="副局").rows] == ["张二"]
    assert [p.name for p in svc.roster(offices.fgj, q=offices.people["a3"].phone[-4:]).rows] == ["张三"]
    assert svc.roster(offices.fgj, q="李一").rows == []  # another unit's person is never found
    page = svc.roster(offices.fgj, page=2, per_page=2)
    assert (page.page, page.pages, page.total, [p.name for p in page.rows]) == (2, 2, 3, ["张三"])


def test_upcoming_meetings_with_invited_bound_and_leave(offices):
    fgj = svc.upcoming(offices.fgj, now=NOW)
    assert [(u.meeting.code, u.invited, u.bound, u.leave) for u in fgj] == [("MT5", 2, 1, 1)]
    czj = svc.upcoming(offices.czj, now=NOW)
    assert [(u.meeting.code, u.invited, u.bound, u.leave) for u in czj] == [("MT5", 2, 1, 0), ("UP2", 2, 1, 0)]
    # Drafts (MT4) and meetings over (MT1-MT3, MT6) are not upcoming.
    meeting, people = svc.meeting_people(offices.fgj, "MT5", now=NOW)
    assert meeting.code == "MT5"
    assert [(p.name, p.bound, p.leave_reason) for p in people.rows] == [("张一", True, None), ("张二", False, "外出学习")]
    assert [p.name for p in svc.meeting_people(offices.fgj, "MT5", now=NOW, show="leave")[1].rows] == ["张二"]
    assert [p.name for p in svc.meeting_people(offices.fgj, "MT5", now=NOW, show="unbound")[1].rows] == ["张二"]


@pytest.mark.parametrize("code", ["UP2", "MT4", "MT1", "NOPE", ""])
def test_a_meeting_without_the_units_people_is_not_found(offices, code):
    with pytest.raises(UnitOfficeError) as err:
        svc.meeting_people(offices.fgj, code, now=NOW)
    assert err.value.code == "meeting_not_found" and err.value.status == 404


# -- HTTP: the authorization matrix -------------------------------------------------------------------
@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    from app.web import units_office_people

    monkeypatch.setattr(units_office_people, "_now", lambda: NOW)


def log_in(client, username):
    client.post("/units/logout")
    response = client.post("/units/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302


FGJ_NAMES = {"张一", "张二", "张三"}
CZJ_NAMES = {"李一", "李二"}
ATT = {"from": "2026-11-01", "to": "2026-11-30"}

#: Every route of the office's own-people pages: (path, query, what it answers).
ROUTES = [
    ("/units/people", {}, "html"),
    ("/units/people", {"q": "李"}, "html"),
    ("/units/people", {"show": "unbound", "page": 2}, "html"),
    ("/units/attendance", ATT, "html"),
    ("/units/attendance", {**ATT, "unit": "CZJ", "sort": "rate"}, "html"),
    ("/units/attendance/export", {**ATT, "format": "xlsx", "unit": "CZJ"}, "xlsx"),
    ("/units/attendance/export", {**ATT, "format": "pdf"}, "pdf"),
    ("/units/meetings", {}, "html"),
    ("/units/meetings/MT5", {}, "html"),
    ("/units/meetings/MT5", {"q": "李一"}, "html"),
]


def body_text(response, kind: str) -> str:
    if kind == "xlsx":
        wb = openpyxl.load_workbook(io.BytesIO(response.data))
        return "\n".join(str(c) for ws in wb for row in ws.iter_rows(values_only=True) for c in row if c)
    if kind == "pdf":
        doc = pdfium.PdfDocument(response.data)
        return "\n".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))
    # What was typed into the search box is echoed back in its value: not a leak.
    return re.sub(r'value="[^"]*"', "", response.text)


def test_every_route_is_in_the_matrix(app):
    endpoints = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint.startswith("units_people.")}
    covered = {app.url_map.bind("huiyi.test").match(path)[0] for path, _q, _k in ROUTES}
    assert endpoints == covered


@pytest.mark.parametrize(("office", "own", "other"), [("fgj_office", FGJ_NAMES, CZJ_NAMES),
                                                      ("czj_office", CZJ_NAMES, FGJ_NAMES)])
def test_an_office_sees_only_its_own_people_on_every_route(client, offices, office, own, other):
    log_in(client, office)
    seen_own = set()
    for path, query, kind in ROUTES:
        response = client.get(path, query_string=query)
        assert response.status_code == 200, (path, query, response.status_code)
        text = body_text(response, kind)
        leaked = {name for name in other if name in text}
        assert not leaked, (office, path, query, leaked)
        seen_own |= {name for name in own if name in text}
        other_unit = "区财政局" if office == "fgj_office" else "区发展和改革局"
        if path.startswith("/units/attendance"):
            assert other_unit not in text, (path, query)
    assert seen_own == own  # and the pages do show its own people


def test_another_units_meeting_is_not_found(client, offices):
    log_in(client, "fgj_office")
    response = client.get("/units/meetings/UP2")
    assert response.status_code == 404 and "本单位没有人员受邀" in response.text
    assert "财政工作专题会" not in client.get("/units/meetings").text
    log_in(client, "czj_office")
    page = client.get("/units/meetings/UP2")
    assert page.status_code == 200 and "李一" in page.text and 'id="m-invited">2<' in page.text


@pytest.mark.parametrize(("path", "query", "kind"), ROUTES)
def test_every_route_needs_an_office_login(client, offices, factory, path, query, kind):
    from app.web.auth import SESSION_KEY

    assert client.get(path, query_string=query).status_code == 302
    # A console (WeChat) login is not a unit office's.
    identity = factory.identity(offices.organizer)
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id
    response = client.get(path, query_string=query)
    assert response.status_code == 302 and "/units/login" in response.location


def test_roster_page_shows_binding_and_filters(client, offices):
    log_in(client, "fgj_office")
    page = client.get("/units/people").text
    assert 'id="roster-total">3<' in page and 'id="roster-bound">1<' in page and 'id="roster-unbound">2<' in page
    unbound = client.get("/units/people", query_string={"show": "unbound"}).text
    assert "张二" in unbound and "张一" not in unbound.split('id="roster"')[1]


def test_attendance_page_numbers_and_bad_dates(client, offices):
    log_in(client, "fgj_office")
    page = client.get("/units/attendance", query_string=ATT).text
    assert 'id="att-meetings">4<' in page and 'id="att-rate">83.3%<' in page
    bad = client.get("/units/attendance", query_string={"from": "2026-02-30", "to": "2026-11-30"})
    assert bad.status_code == 400 and "无法识别日期" in bad.text
    export = client.get("/units/attendance/export", query_string={**ATT, "format": "csv"})
    assert export.status_code == 400 and "xlsx 或 pdf" in export.text


def test_a_large_export_is_the_offices_job_only(client, offices, db, monkeypatch):
    from sqlalchemy import select

    from app.services.attendance import export as ex
    from app.services.storage import read_blob
    from models import Job, UnitAccount

    monkeypatch.setitem(ex.INLINE_MAX_PEOPLE, "pdf", 1)
    log_in(client, "fgj_office")
    response = client.get("/units/attendance/export", query_string={**ATT, "format": "pdf"})
    assert response.status_code == 302 and "job=" in response.location
    job = db.session.scalar(select(Job).where(Job.kind == "attendance_export"))
    account = db.session.scalar(select(UnitAccount).where(UnitAccount.username == "fgj_office"))
    assert job.actor == f"unit_account:{account.id}" and job.unit_id == offices.fgj.id
    assert job.args[0]["unit_id"] == offices.fgj.id  # the job reads the office's own people, whatever is asked
    assert client.get(response.location).status_code == 200
    assert client.get(f"/jobs/{job.id}.json").status_code == 200
    log_in(client, "czj_office")
    assert client.get(f"/jobs/{job.id}.json").status_code == 404
    result = ex.export_job(*job.args)
    text = "\n".join(p.get_textpage().get_text_range() for p in pdfium.PdfDocument(read_blob(result["sha"])))
    assert "张一" in text and "李一" not in text
