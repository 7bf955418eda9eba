"""The console's badges page: who may see and print, the preview, the print as a job with its
download, "only the changed", and hostile input refused with a stable code and nothing written."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select

from app import jobs
from app.services.logistics import badges
from app.services.signin import personal_codes as pc
from models import AuditLog, Job
from tests.console.conftest import login_as
from tests.reports.helpers import pdf_pages

JSON = {"Accept": "application/json"}


def _url(scene, tail=""):
    return f"/admin/{scene.meeting.code}/badges{tail}"


def _jobs(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Job).where(Job.kind == badges.JOB_KIND))


@pytest.mark.parametrize(("who", "can_print"), [("viewer", False), ("staff", True), ("owner", True)])
def test_the_page_shows_the_choices_and_the_print_button_to_those_who_may(client, scene, who, can_print):
    login_as(client, scene.console, who)
    page = client.get(_url(scene))
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'class="subtabs"' in text and "胸卡" in text and "第一代表团" in text and "新疆代表团" in text
    assert 'id="badge-preview"' in text and "有照片" in text
    assert ("生成胸卡 PDF" in text) is can_print


@pytest.mark.parametrize("who", ["stranger", "outsider"])
def test_others_are_refused(client, scene, who):
    login_as(client, scene.console, who)
    assert client.get(_url(scene), headers=JSON).status_code == 403
    assert client.get(_url(scene, "/preview.png"), headers=JSON).status_code == 403
    assert client.post(_url(scene, "/print"), headers=JSON).status_code == 403


def test_the_viewer_cannot_print(client, db, scene):
    login_as(client, scene.console, "viewer")
    assert client.post(_url(scene, "/print"), headers=JSON).status_code == 403
    assert _jobs(db) == 0


def test_the_preview_is_a_png_of_the_first_card_without_a_real_code(client, scene):
    login_as(client, scene.console, "viewer")
    answer = client.get(_url(scene, "/preview.png?size=large&filter=role&role=媒体&colour_3=%2300ff00"))
    assert answer.status_code == 200 and answer.mimetype == "image/png" and answer.data[:4] == b"\x89PNG"
    image = Image.open(io.BytesIO(answer.data))
    assert image.width < image.height  # the large card stands
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [badges.PREVIEW_CODE]


def test_print_runs_as_a_job_then_only_the_changed_reprint(app, client, db, scene):
    login_as(client, scene.console, "staff")
    answer = client.post(_url(scene, "/print"), data={"size": "small", "filter": "all", "colour_1": "#112233"})
    assert answer.status_code == 302 and "job=" in answer.location
    job = db.session.scalar(select(Job).where(Job.kind == badges.JOB_KIND))
    assert (job.state, job.actor, job.meeting_id) == ("queued", f"contact:{scene.console.staff.id}", scene.meeting.id)
    assert "job-progress" in client.get(answer.location).get_data(as_text=True)
    jobs.run_pending(app)
    db.session.expire_all()
    status = client.get(f"/jobs/{job.id}.json").get_json()
    assert status["state"] == "done", status
    pdf = client.get(status["download_url"])
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert len(pdf_pages(pdf.data)) == 2 and "有照片" in "".join(pdf_pages(pdf.data))
    page = client.get(answer.location).get_data(as_text=True)
    assert "已生成 <strong>12</strong> 张" in page and "坏照片：照片无法识别或已损坏" in page
    assert 'value="#112233"' in page  # the last print's colours are the page's defaults

    # A lost badge: its code is revoked, so that person's card changed; and a newcomer was never printed.
    pc.revoke(db.session.merge(scene.meeting), scene.people["media"], reason="胸卡遗失", actor=scene.console.owner)
    db.session.commit()
    assert badges.page_data(scene.meeting)["changed"] == 1
    answer = client.post(_url(scene, "/print"), data={"size": "large", "filter": "changed"})
    jobs.run_pending(app)
    db.session.expire_all()
    second = db.session.scalars(select(Job).where(Job.kind == badges.JOB_KIND).order_by(Job.id.desc())).first()
    assert second.state == "done" and second.result["count"] == 1
    assert "记者刘" in pdf_pages(client.get(f"/jobs/{second.id}/download").data)[0]
    assert badges.page_data(scene.meeting)["changed"] == 0
    assert client.post(_url(scene, "/print"), data={"filter": "changed"}, headers=JSON).get_json()["error"]["code"] \
        == "badges_empty"
    actions = db.session.scalars(select(AuditLog.actor).where(AuditLog.action == "badges.print")).all()
    assert actions == [f"contact:{scene.console.staff.id}"] * 2


HOSTILE = [
    ({"size": "huge"}, "size_invalid"),
    ({"size": "small\x00"}, "bad_input"),  # app/web/input_guard.py, before any view
    ({"filter": "'; drop table jobs;--"}, "filter_invalid"),
    ({"filter": "role", "role": "皇帝"}, "role_invalid"),
    ({"filter": "role", "role": ""}, "role_invalid"),
    ({"filter": "group", "group": "团" * 65}, "group_invalid"),
    ({"filter": "group", "group": "第一\x00代表团"}, "bad_input"),
    ({"filter": "group", "group": "第一\u202e代表团"}, "group_invalid"),
    ({"filter": "group", "group": "没有这个团"}, "badges_empty"),
    ({"filter": "people", "people": "abc"}, "people_invalid"),
    ({"filter": "people", "people": "-3"}, "people_invalid"),
    ({"filter": "people", "people": "99999999999"}, "people_invalid"),
    ({"filter": "people"}, "people_invalid"),
    ({"colour_0": "red"}, "colour_invalid"),
    ({"colour_1": "#12345g"}, "colour_invalid"),
    ({"colour_2": "#1234567"}, "colour_invalid"),
    ({"colour_3": "javascript:alert(1)"}, "colour_invalid"),
]


@pytest.mark.parametrize(("form", "code"), HOSTILE)
def test_hostile_input_is_refused_with_a_stable_code_and_nothing_written(client, db, scene, form, code):
    login_as(client, scene.console, "staff")
    answer = client.post(_url(scene, "/print"), data=form, headers=JSON)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == code and error["message"]
    assert _jobs(db) == 0


def test_a_person_not_on_the_roster_is_refused(client, db, scene):
    login_as(client, scene.console, "staff")
    answer = client.post(_url(scene, "/print"), data={"filter": "people", "people": str(scene.console.stranger.id)},
                         headers=JSON)
    assert answer.get_json()["error"]["code"] == "person_not_listed" and _jobs(db) == 0


def test_a_refusal_in_the_browser_is_a_message_on_the_page(client, db, scene):
    login_as(client, scene.console, "staff")
    answer = client.post(_url(scene, "/print"), data={"colour_0": "red"}, follow_redirects=True)
    assert answer.status_code == 200 and "颜色须为 #RRGGBB 格式：领导" in answer.get_data(as_text=True)


@pytest.mark.parametrize(("query", "code"), [("size=huge", "size_invalid"), ("colour_4=%23zzzzzz", "colour_invalid"),
                                             ("filter=x", "filter_invalid")])
def test_the_preview_refuses_hostile_input_too(client, scene, query, code):
    login_as(client, scene.console, "viewer")
    answer = client.get(_url(scene, f"/preview.png?{query}"), headers=JSON)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] == code


def test_the_options_parser_refuses_what_a_form_cannot_send(db):
    for kwargs, code in [({"size": 5}, "size_invalid"), ({"role": ["代表"]}, "filter_invalid"),
                         ({"people": {"a": 1}}, "people_invalid"), ({"people": [True]}, "people_invalid"),
                         ({"people": list(range(1, badges.MAX_CHOSEN + 2))}, "too_many"),
                         ({"colours": ["#000000"]}, "colour_invalid"), ({"colours": {"皇帝": "#000000"}}, "role_invalid"),
                         ({"changed": "maybe"}, "filter_invalid")]:
        with pytest.raises(badges.BadgeError) as err:
            badges.parse_options(**kwargs)
        assert err.value.code == code, kwargs
