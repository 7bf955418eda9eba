"""The simulator checks a request as the provider does: its TC3-HMAC-SHA256 signature over the exact
bytes sent, and answers refusals in the provider's shape."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import requests

from scripts.sms_sim import signature
from scripts.wechat_sim.transport import WsgiAdapter
from tests.conftest import SMS_TEST_CONFIG


def _post(sim, body: bytes, *, sign_body: bytes | None = None, key: str | None = None, auth: str | None = None):
    ts = int(time.time())
    date = datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")
    headers = {"Content-Type": "application/json", "Host": "sms.sim", "X-TC-Action": "SendSms",
               "X-TC-Timestamp": str(ts), "X-TC-Version": "2021-01-11", "X-TC-Region": "ap-guangzhou"}
    sig = signature(key or SMS_TEST_CONFIG["SMS_SECRET_KEY"], method="POST", uri="/", query="",
                    headers={"content-type": "application/json", "host": "sms.sim"},
                    signed_headers=("content-type", "host"), payload=sign_body if sign_body is not None else body,
                    timestamp=str(ts), date=date, service="sms")
    headers["Authorization"] = auth if auth is not None else (
        f"TC3-HMAC-SHA256 Credential={SMS_TEST_CONFIG['SMS_SECRET_ID']}/{date}/sms/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={sig}")
    http = requests.Session()
    http.mount("http://sms.sim/", WsgiAdapter(sim.app))
    res = http.post("http://sms.sim/", data=body, headers=headers)
    assert res.status_code == 200 and res.headers["Content-Type"] == "application/json"
    return res.json()["Response"]


BODY = json.dumps({"PhoneNumberSet": ["+8613905710101"], "SmsSdkAppId": "1400000001", "SignName": "会易",
                   "TemplateId": "2003", "TemplateParamSet": ["全区经济工作会议"]}, ensure_ascii=False).encode()


def test_a_request_signed_by_the_documented_algorithm_is_taken(sms_sim):
    answer = _post(sms_sim, BODY)
    [status] = answer["SendStatusSet"]
    assert status["Code"] == "Ok" and status["SerialNo"] and answer["RequestId"]
    assert status["Fee"] == 1 and status["PhoneNumber"] == "+8613905710101"


def test_a_body_changed_after_signing_is_refused(sms_sim):
    tampered = BODY.replace(b"13905710101", b"13905710102")
    answer = _post(sms_sim, tampered, sign_body=BODY)
    assert answer["Error"]["Code"] == "AuthFailure.SignatureFailure" and answer["RequestId"]
    assert sms_sim.state.messages == []


def test_no_or_a_malformed_authorization_is_refused(sms_sim):
    for auth in ("", "Basic abc", "TC3-HMAC-SHA256 Credential=x"):
        assert _post(sms_sim, BODY, auth=auth)["Error"]["Code"] == "AuthFailure.InvalidAuthorization"


def test_param_count_and_length_are_checked(sms_sim):
    two = BODY.replace("[\"全区经济工作会议\"]".encode(), b"[\"a\", \"b\"]")
    assert _post(sms_sim, two)["Error"]["Code"] == "FailedOperation.TemplateParamSetNotMatchApprovedTemplate"
    long = BODY.replace("全区经济工作会议".encode(), ("会" * 13).encode())
    assert _post(sms_sim, long)["Error"]["Code"] == "InvalidParameterValue.TemplateParameterLengthLimit"
    url = BODY.replace("全区经济工作会议".encode(), b"http://x.cn")
    assert _post(sms_sim, url)["Error"]["Code"] == "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter"
