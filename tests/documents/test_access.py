"""Who sees what: roles × documents × (list, page image, download), before and after recall;
links bound to the viewer's session; every view logged; versions; download switch."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.services.documents import materials as documents
from models import DocumentAccess
from tests.documents.conftest import login, upload_pdf

# Every reader here has confirmed the 保密提醒: these tests are about access itself.
pytestmark = pytest.mark.usefixtures("terms_confirmed")

ROLES = ["leader", "delegate", "observer", "outsider", "organizer"]
#: Who may open each document before recall.
EXPECTED = {
    "all": {"leader", "delegate", "observer", "organizer"},
    "leaders": {"leader", "organizer"},
    "delegates": {"delegate", "organizer"},
}


@pytest.fixture
def docs(world):
    return {
        "all": upload_pdf(world, title="会议议程", allow_download=True),
        "leaders": upload_pdf(world, title="领导讲话稿（征求意见稿）", access="restricted", allowed_roles=["领导"],
                              allow_download=True),
        "delegates": upload_pdf(world, title="代表分组讨论提纲", access="restricted", allowed_groups=["第一代表团"],
                                allow_download=True),
    }


def _token(app, world, version, who):
    # A correctly sealed link for this person's own session: what they would hold had the list
    # shown it to them (or had they been given the document id). Access must still be checked.
    return documents.view_token(app.config["SECRET_KEY"], version_document(version), version,
                                world.people[who].identity.id)


def version_document(version):
    from app.extensions import db
    from models import Document

    return db.session.get(Document, version.document_id)


def _observe(app, client, world, docs, who):
    """(listed titles, page status per doc, download status per doc) as ``who`` sees them."""
    login(client, world.people[who].identity)
    code = world.meeting.code
    listing = client.get(f"/m/{code}/documents")
    listed = {key for key, v in docs.items() if version_document(v).title in listing.get_data(as_text=True)}
    pages, downloads = {}, {}
    for key, version in docs.items():
        token = _token(app, world, version, who)
        pages[key] = client.get(f"/m/{code}/documents/{token}/pages/1.png").status_code
        downloads[key] = client.get(f"/m/{code}/documents/{token}/download").status_code
    return listing.status_code, listed, pages, downloads


@pytest.mark.parametrize("who", ROLES)
def test_access_matrix_before_and_after_recall(app, client, world, docs, who, db):
    status, listed, pages, downloads = _observe(app, client, world, docs, who)
    allowed = {key for key, people in EXPECTED.items() if who in people}
    if who == "outsider":
        assert status == 403
    else:
        assert status == 200 and listed == allowed
    for key in docs:
        expect = 200 if key in allowed else 403
        assert pages[key] == expect, (who, key, "page")
        assert downloads[key] == expect, (who, key, "download")

    organizer = world.people["organizer"].contact
    documents.recall(world.meeting, organizer, docs["leaders"].document_id)
    documents.recall_all(world.meeting, organizer)
    db.session.commit()

    status, listed, pages, downloads = _observe(app, client, world, docs, who)
    if who == "organizer":
        assert listed == set(docs) and set(pages.values()) == {200} and set(downloads.values()) == {200}
        return
    assert listed == set()
    for key in docs:
        # Someone who could read it is told it was recalled; everyone else is refused as before.
        expect = 410 if key in allowed else 403
        assert pages[key] == expect, (who, key, "page after recall")
        assert downloads[key] == expect, (who, key, "download after recall")


def test_page_images_are_private_and_recall_stops_cached_pages(app, client, world, docs, db):
    login(client, world.people["leader"].identity)
    code = world.meeting.code
    token = _token(app, world, docs["all"], "leader")
    url = f"/m/{code}/documents/{token}/pages/2.png"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "image/png"
    assert "no-store" in first.headers["Cache-Control"] and "private" in first.headers["Cache-Control"]
    assert client.get(url).data == first.data  # served from the per-viewer cache
    documents.recall(world.meeting, world.people["organizer"].contact, docs["all"].document_id)
    db.session.commit()
    again = client.get(url, headers={"Accept": "application/json"})
    assert again.status_code == 410
    assert again.get_json()["error"]["code"] == "recalled" and "清退" in again.get_json()["error"]["message"]
    # The reading record stays.
    logged = db.session.scalars(select(DocumentAccess).where(DocumentAccess.document_id == docs["all"].document_id)).all()
    assert [(a.action, a.page) for a in logged] == [("page", 2), ("page", 2)]


def test_link_opened_in_another_session_is_refused(app, client, world, docs):
    code = world.meeting.code
    leader_token = _token(app, world, docs["all"], "leader")
    login(client, world.people["delegate"].identity)  # the delegate may read the document, but not via this link
    for path in ("", "/pages/1.png", "/download"):
        resp = client.get(f"/m/{code}/documents/{leader_token}{path}", headers={"Accept": "application/json"})
        assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "link_not_yours", path
    forged = client.get(f"/m/{code}/documents/{leader_token[:-4]}AAAA/pages/1.png",
                        headers={"Accept": "application/json"})
    assert forged.status_code == 403 and forged.get_json()["error"]["code"] == "link_invalid"


def test_every_page_view_and_download_is_logged(app, client, world, docs, db):
    login(client, world.people["delegate"].identity)
    code = world.meeting.code
    token = _token(app, world, docs["delegates"], "delegate")
    for page in (1, 2, 1):
        assert client.get(f"/m/{code}/documents/{token}/pages/{page}.png").status_code == 200
    assert client.get(f"/m/{code}/documents/{token}/pages/3.png").status_code == 404
    download = client.get(f"/m/{code}/documents/{token}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF-")
    assert "attachment" in download.headers["Content-Disposition"]
    rows = db.session.scalars(select(DocumentAccess).order_by(DocumentAccess.id)).all()
    assert [(r.contact_id, r.action, r.page) for r in rows] == [
        (world.people["delegate"].contact.id, "page", 1), (world.people["delegate"].contact.id, "page", 2),
        (world.people["delegate"].contact.id, "page", 1), (world.people["delegate"].contact.id, "download", None)]
    organizer = world.people["organizer"].contact
    _doc, entries = documents.access_log(world.meeting, organizer, docs["delegates"].document_id)
    assert len(entries) == 4 and entries[0][1] == "王代表"
    login(client, world.people["organizer"].identity)
    page = client.get(f"/admin/{code}/documents/{docs['delegates'].document_id}/log").get_data(as_text=True)
    assert "王代表" in page and "下载原文件" in page and "第 2 页" in page


def test_download_only_when_allowed(app, client, world):
    version = upload_pdf(world, title="不可下载的材料", allow_download=False)
    code = world.meeting.code
    login(client, world.people["observer"].identity)
    token = _token(app, world, version, "observer")
    viewer = client.get(f"/m/{code}/documents/{token}").get_data(as_text=True)
    assert "下载原文件" not in viewer and "1 / 2" in viewer
    resp = client.get(f"/m/{code}/documents/{token}/download", headers={"Accept": "application/json"})
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "download_disabled"
    login(client, world.people["organizer"].identity)
    assert client.get(f"/m/{code}/documents/{_token(app, world, version, 'organizer')}/download").status_code == 200


def test_new_version_keeps_the_old_and_attendees_see_the_newest_ready(app, client, world, db):
    from app.services.documents.convert import process_version
    from tests.documents.conftest import make_pdf

    first = upload_pdf(world, title="工作报告", pages=2)
    organizer = world.people["organizer"].contact
    second = documents.upload(world.meeting, organizer, data=make_pdf(3), file_name="工作报告-修改稿.pdf",
                              document_id=first.document_id)
    assert second.version == 2
    db.session.commit()
    doc = version_document(first)
    assert documents.current_version(doc).id == first.id  # v2 not converted yet: attendees keep v1
    process_version(second.id)
    db.session.commit()
    assert documents.current_version(doc).id == second.id
    assert [v.version for v in doc.versions] == [1, 2]
    login(client, world.people["observer"].identity)
    old = client.get(f"/m/{world.meeting.code}/documents/{_token(app, world, first, 'observer')}/pages/1.png",
                     headers={"Accept": "application/json"})
    assert old.status_code == 403 and old.get_json()["error"]["code"] == "link_invalid"
    listing = client.get(f"/m/{world.meeting.code}/documents").get_data(as_text=True)
    assert "共 3 页" in listing and "第 2 版" in listing


def test_documents_are_numbered(world):
    a = upload_pdf(world, title="甲")
    b = upload_pdf(world, title="乙", number="特-01")
    c = upload_pdf(world, title="丙")
    assert [version_document(v).number for v in (a, b, c)] == ["会-01", "特-01", "会-03"]
    with pytest.raises(documents.DocumentError) as exc:
        upload_pdf(world, title="丁", number="特-01")
    assert exc.value.code == "number_taken"


def test_restricted_without_roles_or_groups_is_refused(world):
    with pytest.raises(documents.DocumentError) as exc:
        upload_pdf(world, title="仅限", access="restricted")
    assert exc.value.code == "access_invalid"
