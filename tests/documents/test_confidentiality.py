"""保密提醒: versioned terms, confirmations (stale refused, idempotent), the gate at both doors
(H5 viewer/pages/downloads and the mini program), the attendee's confirm page and the organizer's page."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from app.services.documents import confidentiality as conf
from app.services.documents import materials as documents
from app.services.documents.confidentiality import ConfidentialityError
from app.services.documents.errors import DocumentError
from app.services.meetings.organizers import OrganizerError
from models import AuditLog, ConfidentialityConfirmation, ConfidentialityTerms, Document
from tests.documents.conftest import login, upload_pdf
from tests.mp.conftest import API, bearer, token_for
from tests.reports.helpers import xlsx_sheets

JSON = {"Accept": "application/json"}


@pytest.fixture
def doc(world):
    return upload_pdf(world, title="经济运行情况通报（内部）", allow_download=True)


def _token(app, world, version, who):
    from app.extensions import db

    return documents.view_token(app.config["SECRET_KEY"], db.session.get(Document, version.document_id), version,
                                world.people[who].identity.id)


def _count(db, model=ConfidentialityConfirmation, **where):
    query = select(func.count()).select_from(model)
    for key, value in where.items():
        query = query.where(getattr(model, key) == value)
    return db.session.scalar(query)


# --- The service ---------------------------------------------------------------------------------

def test_default_terms_are_version_one_and_required(world):
    terms = conf.terms_of(world.meeting)
    assert (terms.version, terms.required, terms.written) == (1, True, False)
    for words in ("拍照", "转发", "带离会场", "清退"):
        assert words in terms.text
    assert conf.confirm_url(world.meeting).endswith(f"/m/{world.meeting.code}/confidentiality")


def test_a_changed_text_is_a_new_version_and_the_switch_is_not(world, db):
    organizer = world.people["organizer"].contact
    same = conf.set_terms(world.meeting, organizer, text=conf.DEFAULT_TEXT + "\r\n\r\n", required=True)
    assert (same.version, same.written) == (1, True)  # the default as it stood: nothing new to read
    edited = conf.set_terms(world.meeting, organizer, text="材料不得外传。\r\n会后清退。", required=True)
    assert edited.version == 2 and edited.text == "材料不得外传。\n会后清退。"
    off = conf.set_terms(world.meeting, organizer, text=edited.text, required=False)
    assert (off.version, off.required) == (2, False)
    again = conf.set_terms(world.meeting, organizer, text="第三稿", required=True, expected_version=2)
    assert again.version == 3
    actions = db.session.scalars(select(AuditLog).where(AuditLog.action == "confidentiality.set")
                                 .order_by(AuditLog.id)).all()
    assert [(a.data["version"], a.data["text_changed"], a.data["required"]) for a in actions] == [
        (1, False, True), (2, True, True), (2, False, False), (3, True, True)]


def test_only_the_documents_right_edits_the_terms(world, db):
    for who in ("leader", "delegate", "outsider"):
        with pytest.raises(OrganizerError):
            conf.set_terms(world.meeting, world.people[who].contact, text="改掉", required=False)
    assert _count(db, ConfidentialityTerms) == 0


@pytest.mark.parametrize("text, code", [("", "terms_empty"), (" \r\n\t ", "terms_empty"),
                                        ("密" * (conf.MAX_TEXT + 1), "terms_too_long")])
def test_hostile_text_is_refused(world, db, text, code):
    with pytest.raises(ConfidentialityError) as exc:
        conf.set_terms(world.meeting, world.people["organizer"].contact, text=text, required=True)
    assert exc.value.code == code and len(exc.value.message) < 100
    assert conf.set_terms(world.meeting, world.people["organizer"].contact, text="密" * conf.MAX_TEXT,
                          required=True).version == 2


def test_an_edit_over_someone_elses_is_refused(world):
    organizer = world.people["organizer"].contact
    conf.set_terms(world.meeting, organizer, text="第二版", required=True)
    with pytest.raises(ConfidentialityError) as exc:
        conf.set_terms(world.meeting, organizer, text="从第一版改的", required=True, expected_version=1)
    assert exc.value.code == "confidentiality_edited" and exc.value.status == 409
    assert conf.terms_of(world.meeting).text == "第二版"


def test_confirming_is_idempotent_and_recorded(world, db):
    delegate = world.people["delegate"].contact
    first = conf.confirm(world.meeting, delegate, 1, "h5")
    second = conf.confirm(world.meeting, delegate, 1, "mp")
    assert first.id == second.id and second.channel == "h5"
    assert _count(db) == 1
    assert conf.is_confirmed(world.meeting, delegate)
    assert not conf.is_confirmed(world.meeting, world.people["leader"].contact)
    # The first confirmation froze the default text as the meeting's version 1.
    row = db.session.get(ConfidentialityTerms, world.meeting.id)
    assert (row.version, row.text) == (1, conf.DEFAULT_TEXT) and first.text_sha256 == row.text_sha256
    logged = db.session.scalars(select(AuditLog).where(AuditLog.action == "confidentiality.confirm")).all()
    assert [(a.actor, a.data["version"], a.data["channel"]) for a in logged] == [(f"contact:{delegate.id}", 1, "h5")]


def test_a_second_tap_landing_at_the_same_moment_is_the_same_confirmation(world, db, monkeypatch):
    delegate = world.people["delegate"].contact
    first = conf.confirm(world.meeting, delegate, 1, "h5")
    db.session.commit()
    real, calls = conf.confirmation_of, []

    def not_yet_seen(*args):
        # The other tap's row lands between this one's check and its insert: the unique key decides.
        calls.append(args)
        return None if len(calls) == 1 else real(*args)

    monkeypatch.setattr(conf, "confirmation_of", not_yet_seen)
    again = conf.confirm(world.meeting, delegate, 1, "mp")
    db.session.commit()  # the session survived the refused insert
    assert again.id == first.id and again.channel == "h5" and _count(db) == 1
    assert _count(db, AuditLog, action="confidentiality.confirm") == 1


def test_a_stale_or_unknown_version_is_refused(world, db):
    delegate = world.people["delegate"].contact
    conf.confirm(world.meeting, delegate, 1, "h5")
    conf.set_terms(world.meeting, world.people["organizer"].contact, text="新的保密要求", required=True)
    assert not conf.is_confirmed(world.meeting, delegate)  # v1 does not count for v2
    with pytest.raises(ConfidentialityError) as exc:
        conf.confirm(world.meeting, delegate, 1, "h5")
    assert (exc.value.code, exc.value.status) == ("confidentiality_stale", 409) and "第 2 版" in exc.value.message
    for bad in (0, -1, 3, 2**40, True, "2", None):
        with pytest.raises(ConfidentialityError) as exc:
            conf.confirm(world.meeting, delegate, bad, "h5")
        assert exc.value.code == "version_invalid", bad
    with pytest.raises(ConfidentialityError) as exc:
        conf.confirm(world.meeting, delegate, 2, "sms")
    assert exc.value.code == "channel_invalid"
    assert _count(db) == 1
    conf.confirm(world.meeting, delegate, 2, "mp")
    assert conf.is_confirmed(world.meeting, delegate)


def test_only_readers_confirm(world, db):
    with pytest.raises(DocumentError) as exc:
        conf.confirm(world.meeting, world.people["outsider"].contact, 1, "h5")
    assert exc.value.code == "not_invited"
    with pytest.raises(DocumentError):
        conf.confirm(world.meeting, None, 1, "h5")
    assert _count(db) == 0


def test_the_gate_rule(world):
    meeting, organizer = world.meeting, world.people["organizer"].contact
    leader = world.people["leader"].contact
    assert conf.pending(meeting, leader).version == 1
    assert conf.pending(meeting, organizer) is None  # organizers preview
    with pytest.raises(ConfidentialityError) as exc:
        conf.require_confirmed(meeting, leader)
    assert (exc.value.code, exc.value.status) == ("confidentiality_unconfirmed", 403)
    conf.set_terms(meeting, organizer, text=conf.DEFAULT_TEXT, required=False)
    assert conf.pending(meeting, leader) is None
    conf.require_confirmed(meeting, leader)


def test_the_organizers_overview(world, db):
    meeting, organizer = world.meeting, world.people["organizer"].contact
    conf.confirm(meeting, world.people["leader"].contact, 1, "h5")
    conf.confirm(meeting, world.people["delegate"].contact, 1, "mp")
    conf.set_terms(meeting, organizer, text="第二版", required=True)
    conf.confirm(meeting, world.people["delegate"].contact, 2, "mp")
    overview = conf.confirmations(meeting, organizer)
    assert overview.total == 3 and overview.terms.version == 2
    assert [(r.contact.name, r.confirmation.channel) for r in overview.confirmed] == [("王代表", "mp")]
    assert {r.contact.name: r.earlier_version for r in overview.unconfirmed} == {"李书记": 1, "赵列席": None}
    with pytest.raises(OrganizerError):
        conf.confirmations(meeting, world.people["leader"].contact)


# --- The H5 door ---------------------------------------------------------------------------------

def test_h5_viewer_sends_to_the_terms_and_back(app, client, world, doc, db):
    code = world.meeting.code
    login(client, world.people["delegate"].identity)
    token = _token(app, world, doc, "delegate")

    listing = client.get(f"/m/{code}/documents").get_data(as_text=True)
    assert "经济运行情况通报" in listing and "阅读保密提醒" in listing  # titles listed, the way to the terms shown
    opened = client.get(f"/m/{code}/documents/{token}")
    assert opened.status_code == 302
    assert unquote(opened.headers["Location"]).endswith(f"/m/{code}/confidentiality?doc={token}")
    for path in ("/pages/1.png", "/download"):
        refused = client.get(f"/m/{code}/documents/{token}{path}", headers=JSON)
        assert refused.status_code == 403
        assert refused.get_json()["error"]["code"] == "confidentiality_unconfirmed"

    page = client.get(opened.headers["Location"]).get_data(as_text=True)
    assert "保密提醒" in page and "不得拍照" in page and "我已阅读并遵守" in page
    assert f'name="doc" value="{token}"' in page and 'name="version" value="1"' in page
    done = client.post(f"/m/{code}/confidentiality", data={"version": "1", "doc": token})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/m/{code}/documents/{token}")
    assert client.get(done.headers["Location"]).status_code == 200
    assert client.get(f"/m/{code}/documents/{token}/pages/1.png").mimetype == "image/png"
    assert "阅读保密提醒" not in client.get(f"/m/{code}/documents").get_data(as_text=True)
    assert db.session.scalar(select(ConfidentialityConfirmation.channel)) == "h5"
    again = client.get(f"/m/{code}/confidentiality?doc={token}").get_data(as_text=True)
    assert "您已于" in again and "继续查看材料" in again and "我已阅读并遵守" not in again
    # A second tap (a retry, the back button) changes nothing.
    assert client.post(f"/m/{code}/confidentiality", data={"version": "1"}).status_code == 302
    assert _count(db) == 1


def test_h5_stale_confirmation_shows_the_new_text(app, client, world, doc, db):
    code = world.meeting.code
    login(client, world.people["leader"].identity)
    conf.set_terms(world.meeting, world.people["organizer"].contact, text="新版：会后材料全部收回", required=True)
    db.session.commit()
    resp = client.post(f"/m/{code}/confidentiality", data={"version": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "已更新为第 2 版" in page and "新版：会后材料全部收回" in page
    assert 'name="version" value="2"' in page
    assert _count(db) == 0


@pytest.mark.parametrize("version", ["", "abc", "١", "99999999999999999999", "-1", "0", "1.0", "3"])
def test_h5_bad_versions_are_refused_cleanly(app, client, world, doc, db, version):
    login(client, world.people["leader"].identity)
    resp = client.post(f"/m/{world.meeting.code}/confidentiality", data={"version": version}, headers=JSON)
    assert resp.status_code == 422 and resp.get_json()["error"]["code"] == "version_invalid"
    assert _count(db) == 0


def test_h5_a_foreign_way_back_is_dropped(app, client, world, doc):
    code = world.meeting.code
    login(client, world.people["leader"].identity)
    for doc_param in ("//evil.example/x", "../../admin", "a" * 5000):
        page = client.get(f"/m/{code}/confidentiality", query_string={"doc": doc_param}).get_data(as_text=True)
        assert 'name="doc"' not in page
        done = client.post(f"/m/{code}/confidentiality", data={"version": "1", "doc": doc_param})
        assert done.headers["Location"].endswith(f"/m/{code}/documents")


def test_h5_outsiders_see_no_terms_and_the_switch_opens_the_door(app, client, world, doc, db):
    code = world.meeting.code
    login(client, world.people["outsider"].identity)
    assert client.get(f"/m/{code}/confidentiality", headers=JSON).status_code == 403
    assert client.post(f"/m/{code}/confidentiality", data={"version": "1"}, headers=JSON).status_code == 403
    login(client, world.people["organizer"].identity)  # organizers preview without confirming
    assert client.get(f"/m/{code}/documents/{_token(app, world, doc, 'organizer')}").status_code == 200
    conf.set_terms(world.meeting, world.people["organizer"].contact, text=conf.DEFAULT_TEXT, required=False)
    db.session.commit()
    login(client, world.people["observer"].identity)
    assert client.get(f"/m/{code}/documents/{_token(app, world, doc, 'observer')}").status_code == 200
    assert "阅读保密提醒" not in client.get(f"/m/{code}/documents").get_data(as_text=True)


def test_a_recalled_document_says_recalled_before_the_terms(app, client, world, doc, db):
    documents.recall(world.meeting, world.people["organizer"].contact, doc.document_id)
    db.session.commit()
    login(client, world.people["leader"].identity)
    resp = client.get(f"/m/{world.meeting.code}/documents/{_token(app, world, doc, 'leader')}/pages/1.png",
                      headers=JSON)
    assert resp.status_code == 410 and resp.get_json()["error"]["code"] == "recalled"


# --- The mini-program door -------------------------------------------------------------------------

def test_mini_program_gate_terms_and_confirmation(app, client, world, doc, db):
    code = world.meeting.code
    h = bearer(token_for(app, world.people["delegate"].identity))
    listing = client.get(f"{API}/meetings/{code}/documents", headers=h).json
    assert listing["confidentiality_pending"] is True and listing["items"][0]["title"].startswith("经济运行")
    item = listing["items"][0]
    for url in (item["first_page_url"], item["download_url"]):
        refused = client.get(url, headers=h)
        assert refused.status_code == 403 and refused.json["error"]["code"] == "confidentiality_unconfirmed"

    conf.set_terms(world.meeting, world.people["organizer"].contact, text="小程序里看到的第二版", required=True)
    db.session.commit()
    terms = client.get(f"{API}/meetings/{code}/confidentiality", headers=h).json
    assert terms == {"version": 2, "text": "小程序里看到的第二版", "required": True, "confirmed": False,
                     "confirmed_at": None}
    stale = client.post(f"{API}/meetings/{code}/confidentiality/confirmation", json={"version": 1}, headers=h)
    assert stale.status_code == 409 and stale.json["error"]["code"] == "confidentiality_stale"
    for body in ({"version": "x"}, {"version": 0}, {}, {"version": 2, "extra": 1}, {"version": 2**40}):
        bad = client.post(f"{API}/meetings/{code}/confidentiality/confirmation", json=body, headers=h)
        assert bad.status_code == 422 and bad.json["error"]["code"] == "invalid_input", body
    future = client.post(f"{API}/meetings/{code}/confidentiality/confirmation", json={"version": 9}, headers=h)
    assert future.status_code == 422 and future.json["error"]["code"] == "version_invalid"
    ok = client.post(f"{API}/meetings/{code}/confidentiality/confirmation", json={"version": 2}, headers=h)
    assert ok.status_code == 200 and ok.json["status"] == "confirmed" and ok.json["version"] == 2
    assert client.post(f"{API}/meetings/{code}/confidentiality/confirmation", json={"version": 2},
                       headers=h).status_code == 200
    assert _count(db) == 1 and db.session.scalar(select(ConfidentialityConfirmation.channel)) == "mp"
    assert client.get(item["first_page_url"], headers=h).status_code == 200
    assert client.get(f"{API}/meetings/{code}/documents", headers=h).json["confidentiality_pending"] is False
    assert client.get(f"{API}/meetings/{code}/confidentiality", headers=h).json["confirmed"] is True


def test_openapi_documents_the_terms_and_the_code(app, client):
    spec = client.get(f"{API}/openapi.json").json
    paths = spec["paths"]
    assert set(paths[f"{API}/meetings/{{code}}/confidentiality"]) == {"get"}
    confirm = paths[f"{API}/meetings/{{code}}/confidentiality/confirmation"]["post"]
    assert {"200", "403", "409", "422"} <= set(confirm["responses"])
    assert "confidentiality_stale" in confirm["description"]
    page = paths[f"{API}/meetings/{{code}}/documents/{{token}}/pages/{{n}}.png"]["get"]
    assert "confidentiality_unconfirmed" in page["description"]
    assert "confidentiality_pending" in spec["components"]["schemas"]["DocumentList"]["properties"]


# --- The organizer's page --------------------------------------------------------------------------

def test_organizer_page_edits_and_lists(app, client, world, doc, db):
    code = world.meeting.code
    conf.confirm(world.meeting, world.people["delegate"].contact, 1, "mp")
    db.session.commit()
    login(client, world.people["organizer"].identity)
    docs_page = client.get(f"/admin/{code}/documents").get_data(as_text=True)
    assert f"/admin/{code}/documents/confidentiality" in docs_page and "保密提醒（第 1 版）" in docs_page
    page = client.get(f"/admin/{code}/documents/confidentiality").get_data(as_text=True)
    assert "已确认 <strong>1</strong> / 3 人" in page and "王代表" in page and "小程序" in page
    assert "李书记" in page and "尚未确认" in page and "不得拍照" in page
    export = client.get(f"/admin/{code}/reports/documents.xlsx")  # the export the page links to
    assert f"/admin/{code}/reports/documents.xlsx" in page and export.status_code == 200
    assert "保密提醒确认" in xlsx_sheets(export.data)

    saved = client.post(f"/admin/{code}/documents/confidentiality",
                        data={"text": "第二版 <script>alert(1)</script>", "required": "1", "version": "1"})
    assert saved.status_code == 302
    page = client.get(f"/admin/{code}/documents/confidentiality").get_data(as_text=True)
    assert "已保存为第 2 版" in page and "&lt;script&gt;" in page and "<script>alert" not in page
    assert "已确认第 1 版，需重新确认" in page and "已确认 <strong>0</strong> / 3 人" in page

    too_long = client.post(f"/admin/{code}/documents/confidentiality",
                           data={"text": "长" * 5000, "required": "1", "version": "2"})
    assert too_long.status_code == 302
    page = client.get(f"/admin/{code}/documents/confidentiality").get_data(as_text=True)
    assert "不能超过 2000 个字" in page and conf.terms_of(world.meeting).version == 2
    for version in ("", "x", "1"):  # missing, garbage, or someone else's edit since
        client.post(f"/admin/{code}/documents/confidentiality", data={"text": "第三版", "version": version})
    assert conf.terms_of(world.meeting).text.startswith("第二版")
    off = client.post(f"/admin/{code}/documents/confidentiality", data={"text": "第二版", "version": "2"})
    assert off.status_code == 302 and conf.terms_of(world.meeting).required is False
    log = client.get(f"/admin/{code}/log").get_data(as_text=True)
    assert "修改保密提醒" in log and "确认保密提醒" in log and "孙会务" in log


def test_attendees_cannot_use_the_organizer_page(app, client, world, db):
    login(client, world.people["leader"].identity)
    code = world.meeting.code
    assert client.get(f"/admin/{code}/documents/confidentiality", headers=JSON).status_code == 403
    resp = client.post(f"/admin/{code}/documents/confidentiality", data={"text": "x", "version": "1"}, headers=JSON)
    assert resp.status_code == 403 and _count(db, ConfidentialityTerms) == 0


# --- The export: a section of the 材料阅读与清退 report ----------------------------------------------

def test_the_documents_report_lists_the_confirmations(world, db):
    from app.services.reports.export import export
    from tests.reports.helpers import assert_pdf_rows, pdf_pages, render_png

    meeting, organizer = world.meeting, world.people["organizer"].contact
    conf.confirm(meeting, world.people["leader"].contact, 1, "h5")
    conf.set_terms(meeting, organizer, text="第二版", required=True)
    conf.confirm(meeting, world.people["delegate"].contact, 2, "mp")
    assert [c.name for c in conf.unconfirmed_contacts(meeting)] == ["李书记", "赵列席"]
    sheet = xlsx_sheets(export(meeting, "documents", "xlsx", actor="test").data)["保密提醒确认"]
    rows = [r[:4] + [r[5]] for r in sheet["rows"]]
    assert rows == [["李书记", "区政府办公室", "领导", "已确认第 1 版，需重新确认", None],
                    ["王代表", "区政府办公室", "代表", "已确认", "小程序"],
                    ["赵列席", "区政府办公室", "列席", "未确认", None]]
    assert sheet["rows"][1][4] is not None  # the time of the confirmation
    pdf = export(meeting, "documents", "pdf", actor="test").data
    assert_pdf_rows(pdf, sheet["rows"])
    render_png(pdf, "confidentiality-report.png", page=len(pdf_pages(pdf)) - 1)
    conf.set_terms(meeting, organizer, text="第二版", required=False)
    assert conf.unconfirmed_contacts(meeting) == []
