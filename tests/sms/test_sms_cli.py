"""``flask sms status|send|pull-receipts``."""

from __future__ import annotations

import json


def test_status_names_what_is_missing(runner, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SECRET_ID", "")
    out = runner.invoke(args=["sms", "status", "--json"])
    data = json.loads(out.output)
    assert data["configured"] is False and "SMS_SECRET_ID" in data["missing"]
    assert {t["name"] for t in data["templates"]} == {"notice", "reminder", "confidentiality"}


def test_send_and_pull_receipts(runner, sms_sim, applied):
    out = runner.invoke(args=["sms", "send", "13905710101", "reminder", "会议", "明天9:30", "302室", "请准时到场", "--json"])
    assert out.exit_code == 0, out.output
    serial = json.loads(out.output)["serial_no"]
    assert sms_sim.state.inbox("13905710101")[0].serial_no == serial
    out = runner.invoke(args=["sms", "pull-receipts", "--json"])
    assert json.loads(out.output) == {"pulled": 1, "matched": 1}
    assert [r.serial_no for r in applied] == [serial]


def test_a_refused_send_exits_non_zero_with_the_code(runner, sms_sim):
    out = runner.invoke(args=["sms", "send", "12345", "reminder", "会议", "明天", "302室", "请准时到场", "--json"])
    assert out.exit_code == 1
    assert json.loads(out.output.splitlines()[0])["error"]["code"] == "sms_bad_phone"
