"""Sending through Tencent Cloud's SDK to the simulator: signing, templates, phones, refusals."""

from __future__ import annotations

import pytest

from app.services.notify import sms
from app.services.notify.sms import SmsError

PHONE = "13905710101"


def test_send_reaches_the_phone_as_it_shows_it(sms_sim):
    sent = sms.send(PHONE, "reminder", ["区发改局年度工作会议", "12月5日 09:30", "区政府3号楼302", "请准时到场签到"])
    assert sent.phone == "+8613905710101"
    assert sent.serial_no.startswith("2640:")
    [message] = sms_sim.state.inbox(PHONE)
    assert message.serial_no == sent.serial_no
    assert message.text == "【会易】会议提醒：区发改局年度工作会议，12月5日 09:30开始，地点区政府3号楼302。请准时到场签到。"


def test_a_notice_carries_its_personal_link(sms_sim):
    sms.send(PHONE, "notice", ["区发改局年度工作会议", "12月5日09:30", "区政府3号楼302", "AbCdEfGh-_12"])
    [message] = sms_sim.state.inbox(PHONE)
    assert message.text == ("【会易】区发改局年度工作会议定于12月5日09:30在区政府3号楼302召开。"
                            "请查看通知全文并回执（参加或请假）：http://huiyi.test/n/AbCdEfGh-_12")


def test_long_values_are_cut_to_the_providers_limit_and_kept_on_one_line(sms_sim):
    sms.send(" 139-0571-0101 ", "confidentiality", ["二〇二六年全区\n经济工作会议暨【表彰】大会"])
    [message] = sms_sim.state.inbox(PHONE)
    [value] = message.params
    assert len(value) == sms.PARAM_MAX_LENGTH and value.endswith("…")
    assert "\n" not in value and "【" not in value
    assert message.text.startswith("【会易】保密提醒：二〇二六年全区 经济工…的会议材料")


def test_a_wrong_key_is_refused_by_the_simulators_signature_check(sms_sim, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SECRET_KEY", "not-the-key")
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.code == "sms_refused"
    assert caught.value.provider_code == "AuthFailure.SignatureFailure"
    assert sms_sim.state.messages == []


def test_a_clock_five_minutes_off_is_refused_as_expired(sms_sim):
    sms_sim.clock.advance(301)
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.provider_code == "AuthFailure.SignatureExpire"


def test_an_unknown_secret_id_is_refused(sms_sim, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_SECRET_ID", "AKIDsomeoneelse")
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.provider_code == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize("raw", ["12345", "010-12345678", "无", "", "+1 415 555 0100", "1390571010"])
def test_bad_phones_never_reach_the_provider(sms_sim, raw):
    with pytest.raises(SmsError) as caught:
        sms.send(raw, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.code == "sms_bad_phone"
    assert caught.value.status == 422
    assert sms_sim.state.calls["SendSms"] == 0


@pytest.mark.parametrize(("setting", "value", "provider_code", "code"), [
    ("SMS_SIGN_NAME", "别人的签名", "FailedOperation.SignatureIncorrectOrUnapproved", "sms_refused"),
    ("SMS_TEMPLATE_REMINDER", "9999", "FailedOperation.TemplateIncorrectOrUnapproved", "sms_refused"),
    ("SMS_SDK_APP_ID", "1400999999", "InvalidParameterValue.SdkAppIdNotExist", "sms_refused"),
])
def test_provider_refusals_are_mapped_and_kept(sms_sim, app, monkeypatch, setting, value, provider_code, code):
    monkeypatch.setitem(app.config, setting, value)
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert (caught.value.code, caught.value.provider_code) == (code, provider_code)
    assert caught.value.provider_message
    assert not caught.value.retryable


def test_an_unsubscribed_number_is_refused_and_does_not_count(sms_sim):
    sms_sim.state.block_number(PHONE)
    for _ in range(2):
        with pytest.raises(SmsError) as caught:
            sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
        assert caught.value.code == "sms_refused"
        assert caught.value.provider_code == "FailedOperation.PhoneNumberInBlacklist"
    # Same content twice in 30 s: had the refused sends counted, our own limit would answer instead.


def test_the_provider_down_is_transient(sms_sim):
    sms_sim.state.inject("SendSms", "InternalError.Timeout")
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.code == "sms_unavailable" and caught.value.retryable
    assert caught.value.status == 503


def test_no_network_is_transient(app, app_ctx, monkeypatch):
    from tests.conftest import SMS_TEST_CONFIG

    for name, value in SMS_TEST_CONFIG.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.setitem(app.config, "SMS_ENDPOINT", "127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.setitem(app.config, "SMS_HTTP_TIMEOUT", 2)
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.code == "sms_unavailable"
    assert caught.value.provider_code == "ClientNetworkError"


def test_not_configured_is_a_clear_state(app, app_ctx, monkeypatch):
    for name in ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_SDK_APP_ID", "SMS_SIGN_NAME"):
        monkeypatch.setitem(app.config, name, "")
    assert not sms.configured()
    assert "SMS_SECRET_ID" in sms.missing_settings()
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["会", "明天", "这里", "请准时到场"])
    assert caught.value.code == "sms_not_configured" and "SMS_SECRET_ID" in caught.value.message


def test_a_template_without_its_id_is_not_configured(sms_sim, app, monkeypatch):
    monkeypatch.setitem(app.config, "SMS_TEMPLATE_NOTICE", "")
    assert sms.configured()
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "notice", ["会", "明天", "这里", "123"])
    assert caught.value.code == "sms_not_configured" and "SMS_TEMPLATE_NOTICE" in caught.value.message


def test_templates_name_their_ids_and_params(sms_sim):
    specs = sms.templates()
    assert set(specs) == {"notice", "reminder", "confidentiality"}
    for spec in specs.values():
        assert spec.template_id and len(spec.params) == len(spec.max_lengths) == spec.text.count("{")
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "reminder", ["只有一个"])
    assert caught.value.code == "sms_bad_params"
    with pytest.raises(SmsError) as caught:
        sms.send(PHONE, "nonsense", [])
    assert caught.value.code == "sms_unknown_template"


def test_production_refuses_the_simulators_secrets(monkeypatch):
    from app.config import Config, public_default_problems
    from tests.conftest import SMS_TEST_CONFIG

    for name, value in SMS_TEST_CONFIG.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SMS_CALLBACK_TOKEN", "short")
    problems = "\n".join(public_default_problems(Config()))
    assert "SMS_SECRET_KEY" in problems and "SMS_SECRET_ID" in problems and "SMS_CALLBACK_TOKEN" in problems
    for name in ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_SDK_APP_ID"):
        monkeypatch.delenv(name)
    assert not any("SMS" in p for p in public_default_problems(Config()))
