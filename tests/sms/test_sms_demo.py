"""`make run` carries the SMS simulator: Tencent's SDK, configured as the demo configures the app,
sends through the demo's port; the message shows on 短信模拟器 and its receipt is pushed back."""

from __future__ import annotations

import time

import pytest
import requests

from tests.codes.test_run_demo import demo  # noqa: F401  (the fixture: a fresh demo on a free port)

pytestmark = [pytest.mark.slow, pytest.mark.real_clock]


def test_the_demo_sends_sms_through_the_mounted_simulator(demo):  # noqa: F811
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models, sms_client

    from app.config import SMS_SIMULATOR_SECRETS
    from scripts.run_demo import SMS_DEMO

    base, printed = demo
    assert f"{base}/_sms/" in printed
    client = sms_client.SmsClient(
        credential.Credential(SMS_SIMULATOR_SECRETS["SMS_SECRET_ID"], SMS_SIMULATOR_SECRETS["SMS_SECRET_KEY"]),
        "ap-guangzhou", ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=base.split("//", 1)[1])))
    request = models.SendSmsRequest()
    request.PhoneNumberSet = ["+8613905710101"]
    request.SmsSdkAppId = SMS_DEMO["SMS_SDK_APP_ID"]
    request.SignName = SMS_DEMO["SMS_SIGN_NAME"]
    request.TemplateId = SMS_DEMO["SMS_TEMPLATE_REMINDER"]
    request.TemplateParamSet = ["全区经济工作会议", "12月5日09:30", "区政府302", "请准时到场签到"]
    [status] = client.SendSms(request).SendStatusSet
    assert status.Code == "Ok"

    page = requests.get(f"{base}/_sms/", timeout=5).text
    assert "短信模拟器" in page and "【会易】会议提醒：全区经济工作会议，12月5日09:30开始" in page
    deadline = time.monotonic() + 10
    while True:  # the simulator pushes the receipt to the app a second later
        [message] = requests.get(f"{base}/_sms/messages", timeout=5).json()
        if message["pushed"] or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert message["serial_no"] == status.SerialNo and message["status"] == "delivered"
    # Pushed means the app answered {"result": 0} at /sms/status/<token>, once the delivery records
    # (app/services/notify/deliveries.py) take receipts; until then the push stays pending.
