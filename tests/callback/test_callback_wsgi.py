"""The callback's POSTs are answered in front of Flask (wechat_handlers.callback); the rest is Flask's."""

from __future__ import annotations

from contextlib import contextmanager

from flask import request_started

from tests.callback.test_callback_hostile import event_xml, signed_query


@contextmanager
def flask_requests(app):
    started: list[str] = []

    def record(sender, **_extra):
        from flask import request

        started.append(f"{request.method} {request.path}")

    request_started.connect(record, app)
    try:
        yield started
    finally:
        request_started.disconnect(record, app)


def test_callback_posts_skip_flask_and_everything_else_reaches_it(app, client, db):
    with flask_requests(app) as started:
        response = client.post("/wechat/callback", query_string=signed_query(app), data=event_xml())
        assert response.status_code == 200 and "找不到该会议" in response.get_data(as_text=True)
        assert started == []
        query = signed_query(app, nonce="n2") | {"echostr": "42"}
        assert client.get("/wechat/callback", query_string=query).data == b"42"
        assert client.post("/wechat/callback/", query_string=signed_query(app, nonce="n3"),
                           data=event_xml()).status_code in (404, 405, 308)
        assert client.get("/healthz").status_code == 200
    assert started == ["GET /wechat/callback", "POST /wechat/callback/", "GET /healthz"]


def test_a_repeated_query_parameter_keeps_its_first_value_as_flask_would(app, client, db):
    query = signed_query(app)
    forged = "&".join(f"{k}={v}" for k, v in query.items()) + "&signature=" + "0" * 40
    assert client.post(f"/wechat/callback?{forged}", data=event_xml()).status_code == 200
    forged_first = f"signature={'0' * 40}&" + "&".join(f"{k}={v}" for k, v in query.items())
    assert client.post(f"/wechat/callback?{forged_first}", data=event_xml()).status_code == 403


def test_a_declared_oversize_body_is_refused_before_it_is_read(app, client, db):
    response = client.post("/wechat/callback", query_string=signed_query(app), data=b"<xml/>",
                           environ_overrides={"CONTENT_LENGTH": str(10 * 1024 * 1024)})
    assert response.status_code == 413


def test_a_malformed_content_length_is_a_bad_request(app, client, db):
    response = client.post("/wechat/callback", query_string=signed_query(app), data=b"<xml/>",
                           environ_overrides={"CONTENT_LENGTH": "12abc"})
    assert response.status_code == 400


def test_a_bug_answers_500_and_is_logged(app, client, db, monkeypatch, caplog):
    def broken(*_args, **_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("wechat_handlers.callback.open_envelope", broken)
    response = client.post("/wechat/callback", query_string=signed_query(app), data=event_xml())
    assert response.status_code == 500
    assert "WeChat callback failed" in caplog.text
