"""Organizer downloads: only the meeting's organizers get the QR, poster and mini-program code."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
import zxingcpp
from PIL import Image

from app import jobs
from app.services.codes import meeting_codes
from app.services.meetings.organizers import add_organizer
from app.web.auth import SESSION_KEY


@pytest.fixture
def meeting(factory):
    unit = factory.unit("ZFB", "区政府办公室")
    m = factory.meeting("ROUTES", title="全区安全生产会议")
    factory.contact(unit, name="周敏", phone="13905710006")
    add_organizer("ROUTES", "13905710006", actor="test", right="viewer")
    return m


def log_in_as(client, factory, contact):
    identity = factory.identity(contact)
    with client.session_transaction() as s:
        s[SESSION_KEY] = identity.id


@pytest.fixture
def organizer_client(client, factory, meeting):
    from app.services.meetings.meetings import find_contact_by_phone

    log_in_as(client, factory, find_contact_by_phone("13905710006"))
    return client


@pytest.mark.parametrize("path", ["qr.png", "poster.png", "poster.pdf", "mp.png"])
def test_non_organizer_is_refused(client, factory, sim, meeting, path):
    log_in_as(client, factory, factory.contact(name="李四"))
    res = client.get(f"/admin/codes/ROUTES/{path}", headers={"Accept": "application/json"})
    assert res.status_code == 403
    assert res.get_json()["error"]["code"] == "not_organizer"


def test_anonymous_visitor_goes_through_wechat_login(client, sim, meeting):
    res = client.get("/admin/codes/ROUTES/qr.png")
    assert res.status_code == 302 and "/connect/oauth2/authorize" in res.headers["Location"]


def test_unknown_meeting_is_404(organizer_client, sim):
    assert organizer_client.get("/admin/codes/NOPE/qr.png").status_code == 404


def test_organizer_gets_qr_png(organizer_client, sim, meeting):
    res = organizer_client.get("/admin/codes/ROUTES/qr.png")
    assert res.status_code == 200 and res.mimetype == "image/png"
    text = zxingcpp.read_barcodes(Image.open(io.BytesIO(res.data)).convert("L"))[0].text
    assert text == meeting_codes.oa_qr(meeting, meeting.sessions[0]).url


def test_organizer_gets_poster_png_and_pdf_with_chinese_file_names(app, organizer_client, sim, meeting):
    # Rendering takes 0.2-0.4 s of CPU: the first request asks a job for it (issue 21.10) and answers
    # at once with the job's page; the job renders it; the page then offers it for download.
    first = organizer_client.get("/admin/codes/ROUTES/poster.pdf")
    assert first.status_code == 302 and "/admin/ROUTES/jobs/" in first.headers["Location"]
    waiting = organizer_client.get(first.headers["Location"]).get_data(as_text=True)
    assert "正在生成文件" in waiting and 'http-equiv="refresh"' in waiting
    assert jobs.run_pending(app) is True
    ready = organizer_client.get(first.headers["Location"]).get_data(as_text=True)
    assert "文件已生成" in ready and "全区安全生产会议-签到海报.pdf" in ready
    job_id = int(re.search(r"/jobs/(\d+)", first.headers["Location"]).group(1))
    download = organizer_client.get(f"/jobs/{job_id}/download")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert f"filename*=UTF-8''{quote('全区安全生产会议-签到海报.pdf')}" in download.headers["Content-Disposition"]

    # Rendered once, it is served at once (cached by content) with its Chinese file name.
    assert organizer_client.get("/admin/codes/ROUTES/poster.png").status_code == 302
    jobs.run_pending(app)
    png = organizer_client.get("/admin/codes/ROUTES/poster.png")
    assert png.status_code == 200 and png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    assert png.headers["Content-Disposition"].startswith("inline")
    pdf = organizer_client.get("/admin/codes/ROUTES/poster.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    disposition = pdf.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"filename*=UTF-8''{quote('全区安全生产会议-签到海报.pdf')}" in disposition
    assert 'filename="ROUTES-poster.pdf"' in disposition
    # Latin-1 only in the header itself (the Chinese name travels percent-encoded).
    disposition.encode("latin-1")


def test_the_web_worker_never_renders_a_poster(app, organizer_client, sim, meeting, monkeypatch):
    from app.services.codes import posters

    rendered = []
    monkeypatch.setattr(posters, "render_poster_pdf", lambda spec: rendered.append(1) or b"%PDF-1.4 stub")
    res = organizer_client.get("/admin/codes/ROUTES/poster.pdf")
    assert res.status_code == 302 and rendered == []
    jobs.run_pending(app)
    assert rendered == [1]


def test_organizer_gets_mp_code(organizer_client, sim, meeting):
    from scripts.wechat_sim import parse_wxacode_payload

    res = organizer_client.get("/admin/codes/ROUTES/mp.png")
    assert res.status_code == 200 and res.mimetype == "image/png"
    text = zxingcpp.read_barcodes(Image.open(io.BytesIO(res.data)).convert("L"))[0].text
    assert parse_wxacode_payload(text)["scene"] == "ROUTES.1"


def test_mp_code_falls_back_to_plain_qr(organizer_client, sim, meeting):
    sim.state.inject_error("/wxa/getwxacodeunlimit", 45009)
    res = organizer_client.get("/admin/codes/ROUTES/mp.png")
    assert res.status_code == 200
    text = zxingcpp.read_barcodes(Image.open(io.BytesIO(res.data)).convert("L"))[0].text
    assert text.startswith("http://weixin.qq.com/q/")
