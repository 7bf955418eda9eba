"""The organizer's pages over HTTP: upload, new version, status, recall; attendees are refused."""

from __future__ import annotations

import io

from app.services.documents.convert import process_version
from models import Document, DocumentVersion
from tests.documents.conftest import FIXTURES, login, make_pdf


def _post_file(client, url, data: bytes, name: str, **form):
    payload = {"file": (io.BytesIO(data), name), **form}
    return client.post(url, data=payload, content_type="multipart/form-data", headers={"Accept": "application/json"})


def test_organizer_uploads_sees_progress_and_recalls(client, world, db):
    code = world.meeting.code
    login(client, world.people["organizer"].identity)
    resp = _post_file(client, f"/admin/{code}/documents", make_pdf(3), "议程.pdf", title="会议议程 <b>",
                      access="restricted", roles=["领导", "代表"], allow_download="1")
    assert resp.status_code == 201, resp.get_data(as_text=True)
    body = resp.get_json()
    doc = db.session.get(Document, body["document_id"])
    assert (doc.number, doc.access, doc.allowed_roles, doc.allow_download) == ("会-01", "restricted", ["领导", "代表"], True)

    page = client.get(f"/admin/{code}/documents").get_data(as_text=True)
    assert "正在转换" in page and 'http-equiv="refresh"' in page
    assert "会议议程 &lt;b&gt;" in page  # escaped
    process_version(body["version_id"])
    db.session.commit()
    status = client.get(f"/admin/{code}/documents/status.json").get_json()
    assert status["documents"][0]["versions"][0] == {
        "version": 1, "status": "ready", "page_count": 3, "pages_ready": 3, "error_code": None, "error_message": None,
        "job_note": None}

    again = _post_file(client, f"/admin/{code}/documents/{doc.id}/versions", (FIXTURES / "report.docx").read_bytes(),
                       "议程-修改.docx")
    assert again.status_code == 201 and again.get_json()["version"] == 2
    assert "第2版" in client.get(f"/admin/{code}/documents").get_data(as_text=True)

    assert client.post(f"/admin/{code}/documents/{doc.id}/recall").status_code == 302
    db.session.expire_all()
    assert db.session.get(Document, doc.id).recalled_at is not None
    assert "已清退" in client.get(f"/admin/{code}/documents").get_data(as_text=True)


def test_refused_upload_answers_with_a_stable_code(client, world, db):
    login(client, world.people["organizer"].identity)
    resp = _post_file(client, f"/admin/{world.meeting.code}/documents", b"MZ\x90\x00" * 100, "通知.pdf")
    assert resp.status_code == 415
    assert resp.get_json()["error"]["code"] == "type_unsupported"
    assert db.session.query(DocumentVersion).count() == 0


def test_recall_all_from_the_console(client, world, db):
    from tests.documents.conftest import upload_pdf

    a, b = upload_pdf(world, title="甲"), upload_pdf(world, title="乙")
    login(client, world.people["organizer"].identity)
    assert client.post(f"/admin/{world.meeting.code}/documents/recall").status_code == 302
    db.session.expire_all()
    assert all(db.session.get(Document, v.document_id).recalled_at for v in (a, b))


def test_attendees_cannot_use_the_organizer_pages(client, world):
    code = world.meeting.code
    for who in ("leader", "outsider"):
        login(client, world.people[who].identity)
        assert client.get(f"/admin/{code}/documents").status_code == 403
        resp = _post_file(client, f"/admin/{code}/documents", make_pdf(1), "x.pdf")
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "not_organizer"
        assert client.post(f"/admin/{code}/documents/recall").status_code == 403


def test_unknown_visitors_are_sent_through_wechat_login(client, world):
    resp = client.get(f"/m/{world.meeting.code}/documents")
    assert resp.status_code == 302 and "wechat.sim" in resp.headers["Location"]
