"""Delivery receipts: pushed by the provider to POST /sms/status/<token>, or pulled."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.services.notify import sms
from app.services.notify.sms import SmsError
from tests.conftest import SMS_TEST_CONFIG

URL = f"/sms/status/{SMS_TEST_CONFIG['SMS_CALLBACK_TOKEN']}"
PARAMS = ["区发改局年度工作会议", "12月5日 09:30", "区政府3号楼302", "请准时到场签到"]


def test_receipts_pushed_to_the_callback_reach_the_delivery_records(sms_sim, applied):
    sms_sim.state.fail_number("13905710102", "UNDELIV", "空号")
    ok = sms.send("13905710101", "reminder", PARAMS, context="delivery:1")
    bad = sms.send("13905710102", "reminder", PARAMS)
    [(status, body)] = sms_sim.push_receipts()
    assert (status, json.loads(body)) == (200, {"result": 0, "errmsg": "OK"})
    by_serial = {r.serial_no: r for r in applied}
    assert by_serial[ok.serial_no].delivered and by_serial[ok.serial_no].reason is None
    assert by_serial[ok.serial_no].phone == "+8613905710101"
    failed = by_serial[bad.serial_no]
    assert not failed.delivered and failed.reason == "UNDELIV 空号"
    assert failed.reported_at.tzinfo is not None
    assert abs((datetime.now(UTC) - failed.reported_at).total_seconds()) < 120
    assert sms_sim.push_receipts() == []  # taken: not pushed again


def test_receipts_can_be_pulled_once(sms_sim):
    sms_sim.state.fail_number("13905710102")
    ok = sms.send("13905710101", "reminder", PARAMS, context="delivery:7")
    bad = sms.send("13905710102", "reminder", PARAMS)
    receipts = {r.serial_no: r for r in sms.pull_receipts()}
    assert receipts[ok.serial_no].delivered and receipts[ok.serial_no].context == "delivery:7"
    assert not receipts[bad.serial_no].delivered and receipts[bad.serial_no].reason == "空号"
    assert sms.pull_receipts() == []


def test_a_push_that_is_not_taken_is_pushed_again(sms_sim, applied, app, monkeypatch):
    sent = sms.send("13905710101", "reminder", PARAMS)
    sms_sim.config.callback_url = "http://huiyi.test/sms/status/wrong-token-0000000000"
    [(status, _)] = sms_sim.push_receipts()
    assert status == 404 and applied == []
    sms_sim.config.callback_url = "http://huiyi.test" + URL
    sms_sim.push_receipts()
    assert [r.serial_no for r in applied] == [sent.serial_no]


def test_the_documented_sample_is_read():
    body = json.dumps([{"user_receive_time": "2015-10-17 08:03:04", "nationcode": "86", "mobile": "13900000000",
                        "report_status": "SUCCESS", "errmsg": "DELIVRD", "description": "用户短信送达成功",
                        "sid": "xxxxxxx"}]).encode()
    [receipt] = sms.parse_status_callback(body)
    assert receipt == sms.SmsReceipt(serial_no="xxxxxxx", phone="+8613900000000", delivered=True, reason=None,
                                     reported_at=datetime(2015, 10, 17, 0, 3, 4, tzinfo=UTC))


GOOD = {"user_receive_time": "2026-12-03 08:03:04", "nationcode": "86", "mobile": "13900000000",
        "report_status": "FAIL", "errmsg": "UNDELIV", "description": "空号", "sid": "2640:1"}
HOSTILE = [
    b"", b"   ", b"\xff\xfe not utf-8", b"not json", b"[" * 100000, b"42", b'"text"', b"null",
    json.dumps([1, 2]).encode(), json.dumps([{**GOOD, "sid": ""}]).encode(),
    json.dumps([{**GOOD, "sid": "x" * 1000}]).encode(), json.dumps([{**GOOD, "sid": {"$ne": 1}}]).encode(),
    json.dumps([{**GOOD, "mobile": "138-0000"}]).encode(), json.dumps([{**GOOD, "report_status": "MAYBE"}]).encode(),
    json.dumps([{**GOOD, "user_receive_time": "yesterday"}]).encode(),
    json.dumps([{**GOOD, "user_receive_time": None}]).encode(),
    json.dumps([{**GOOD, "nationcode": True}]).encode(), json.dumps([GOOD] * 5001).encode(),
    b"\x00" * 100, "[{\"sid\": \"\u0000\"}]".encode(),
]


@pytest.mark.parametrize("body", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_callback_bodies_get_a_stable_code(client, applied, monkeypatch, app, body):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_TOKEN", SMS_TEST_CONFIG["SMS_CALLBACK_TOKEN"])
    res = client.post(URL, data=body, content_type="application/json")
    assert res.status_code == 400
    answer = res.get_json()
    assert answer["result"] != 0 and answer["errmsg"] == "sms_bad_callback"
    assert answer["error"]["code"] == "sms_bad_callback" and "回执" in answer["error"]["message"]
    assert applied == []
    with pytest.raises(SmsError):
        sms.parse_status_callback(body)


def test_an_oversized_push_is_refused_unread(client, applied, monkeypatch, app):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_TOKEN", SMS_TEST_CONFIG["SMS_CALLBACK_TOKEN"])
    res = client.post(URL, data=b"[" + b" " * (sms.MAX_CALLBACK_BYTES + 10) + b"]", content_type="application/json")
    assert res.status_code == 400 and res.get_json()["errmsg"] == "sms_bad_callback"


@pytest.mark.parametrize(("configured", "posted"), [("", "x"), (None, "x"),
                                                   (SMS_TEST_CONFIG["SMS_CALLBACK_TOKEN"], "wrong"),
                                                   (SMS_TEST_CONFIG["SMS_CALLBACK_TOKEN"], "令牌")])
def test_without_the_token_the_push_is_not_found(client, applied, monkeypatch, app, configured, posted):
    monkeypatch.setitem(app.config, "SMS_CALLBACK_TOKEN", configured)
    res = client.post(f"/sms/status/{posted}", data=json.dumps([GOOD]), content_type="application/json")
    assert res.status_code == 404 and applied == []
    assert res.get_json()["error"]["code"] == "not_found"
    assert client.post("/sms/status/", data=b"[]").status_code in (404, 405)
