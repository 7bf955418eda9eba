"""Tencent Cloud SMS API 3.0 as the simulator answers it: ``POST /`` with the action in X-TC-Action,
signed with TC3-HMAC-SHA256; every answer HTTP 200 with ``{"Response": {...}}``, errors as
``{"Response": {"Error": {"Code", "Message"}, "RequestId"}}`` exactly as the provider writes them."""

from __future__ import annotations

import hmac
import json
import math
import re
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from flask import Response, request

from scripts.sms_sim.config import SMS_REGIONS
from scripts.sms_sim.signing import parse_authorization, signature
from scripts.sms_sim.state import CHINA, Receipt, SimSms, mainland_mobile

if TYPE_CHECKING:
    from scripts.sms_sim.simulator import SmsSimulator

VERSION = "2021-01-11"
SERVICE = "sms"
_PLACEHOLDER = re.compile(r"\{(\d+)\}")
_URL = re.compile(r"(https?://|www\.)", re.IGNORECASE)

MESSAGES = {
    "AuthFailure.InvalidAuthorization": "Authorization in the request header is invalid.",
    "AuthFailure.SecretIdNotFound": "The SecretId is not found, please ensure that your SecretId is correct.",
    "AuthFailure.SignatureExpire": "Signature expired. Timestamp and server time cannot differ by more than five "
                                   "minutes.",
    "AuthFailure.SignatureFailure": "The provided credentials could not be validated. Please check your signature "
                                    "is correct.",
    "InvalidAction": "The action does not exist.",
    "NoSuchVersion": "The version does not exist.",
    "UnsupportedRegion": "The region is not supported.",
    "MissingParameter": "A required parameter is missing.",
    "FailedOperation.JsonParseFail": "解析请求包体时候失败。",
    "InvalidParameterValue.SdkAppIdNotExist": "SdkAppId 不存在。",
    "FailedOperation.SignatureIncorrectOrUnapproved": "签名未审批或格式错误。",
    "FailedOperation.TemplateIncorrectOrUnapproved": "模板未审批或内容不匹配。",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "请求内容与审核通过的模板内容不匹配。",
    "InvalidParameterValue.TemplateParameterLengthLimit": "单个模板变量字符数超过12个。",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "禁止在模板变量中使用 URL。",
    "InvalidParameterValue.ContentLengthLimit": "请求的短信内容太长。",
    "LimitExceeded.PhoneNumberCountLimit": "调用接口单次提交的手机号个数超过200个。",
    "InvalidParameterValue.LimitVerifyFail": "Limit 参数校验失败。",
    "InvalidParameterValue.IncorrectPhoneNumber": "手机号格式错误。",
    "FailedOperation.PhoneNumberInBlacklist": "手机号在免打扰名单库中。",
    "LimitExceeded.PhoneNumberThirtySecondLimit": "单个手机号30秒内下发短信条数超过设定的上限。",
    "LimitExceeded.PhoneNumberOneHourLimit": "单个手机号1小时内下发短信条数超过设定的上限。",
    "LimitExceeded.PhoneNumberDailyLimit": "单个手机号日下发短信条数超过设定的上限。",
    "InternalError.Timeout": "请求下发短信超时。",
    "InternalError.OtherError": "其他错误。",
}


class ApiError(Exception):
    def __init__(self, code: str, message: str | None = None) -> None:
        self.code = code
        self.message = message or MESSAGES.get(code, code)
        super().__init__(f"{code}: {self.message}")


def answer(payload: dict[str, Any]) -> Response:
    # The SDK reads an error only from a response whose Content-Type is exactly application/json.
    body = {"Response": {**payload, "RequestId": str(uuid.uuid4())}}
    return Response(json.dumps(body, ensure_ascii=False), status=200, content_type="application/json")


def error(code: str, message: str | None = None) -> Response:
    return answer({"Error": {"Code": code, "Message": message or MESSAGES.get(code, code)}})


def handle(sim: SmsSimulator) -> Response:
    """One API call: authenticate, then the action."""
    try:
        action = authenticate(sim)
        params = _json_body()
        injected = sim.state.take_injected(action)
        if injected:
            raise ApiError(injected)
        if action == "SendSms":
            return answer(send_sms(sim, params))
        return answer(pull_status(sim, params))
    except ApiError as exc:
        return error(exc.code, exc.message)


def authenticate(sim: SmsSimulator) -> str:
    config = sim.config
    auth = parse_authorization(request.headers.get("Authorization", ""))
    if auth is None or "host" not in auth.signed_headers or "content-type" not in auth.signed_headers:
        raise ApiError("AuthFailure.InvalidAuthorization")
    try:
        timestamp = int(request.headers.get("X-TC-Timestamp", ""))
    except ValueError as exc:
        raise ApiError("MissingParameter", "The request is missing a required parameter `Timestamp`.") from exc
    if abs(sim.clock() - timestamp) > config.max_clock_skew:
        raise ApiError("AuthFailure.SignatureExpire")
    if auth.secret_id != config.secret_id:
        raise ApiError("AuthFailure.SecretIdNotFound")
    headers = {k.lower(): v for k, v in request.headers.items()}
    expected = signature(
        config.secret_key, method=request.method, uri=request.path, query=request.query_string.decode("latin-1"),
        headers=headers, signed_headers=auth.signed_headers, payload=request.get_data(), timestamp=str(timestamp),
        date=auth.date, service=auth.service)
    if (auth.service != SERVICE or auth.date != datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
            or not hmac.compare_digest(expected, auth.signature)):
        raise ApiError("AuthFailure.SignatureFailure")
    action = request.headers.get("X-TC-Action", "")
    if action not in ("SendSms", "PullSmsSendStatus"):
        raise ApiError("InvalidAction", f"The action `{action[:60]}` is not found.")
    if request.headers.get("X-TC-Version") != VERSION:
        raise ApiError("NoSuchVersion")
    if request.headers.get("X-TC-Region") not in SMS_REGIONS:
        raise ApiError("UnsupportedRegion")
    return action


def _json_body() -> dict[str, Any]:
    try:
        data = json.loads(request.get_data().decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ApiError("FailedOperation.JsonParseFail") from exc
    if not isinstance(data, dict):
        raise ApiError("FailedOperation.JsonParseFail")
    return data


def _strings(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ApiError("InvalidParameter", f"`{name}` should be an array of strings.")
    return value


def send_sms(sim: SmsSimulator, params: dict[str, Any]) -> dict[str, Any]:
    config = sim.config
    phones = _strings(params.get("PhoneNumberSet"), "PhoneNumberSet")
    values = _strings(params.get("TemplateParamSet"), "TemplateParamSet")
    if not phones or not params.get("SmsSdkAppId") or not params.get("TemplateId"):
        raise ApiError("MissingParameter")
    if len(phones) > config.max_numbers:
        raise ApiError("LimitExceeded.PhoneNumberCountLimit")
    if str(params["SmsSdkAppId"]) != config.sdk_app_id:
        raise ApiError("InvalidParameterValue.SdkAppIdNotExist")
    sign_name = str(params.get("SignName") or "")
    if sign_name not in config.sign_names:
        raise ApiError("FailedOperation.SignatureIncorrectOrUnapproved")
    text = config.templates.get(str(params["TemplateId"]))
    if text is None:
        raise ApiError("FailedOperation.TemplateIncorrectOrUnapproved")
    if len(set(_PLACEHOLDER.findall(text))) != len(values):
        raise ApiError("FailedOperation.TemplateParamSetNotMatchApprovedTemplate")
    if any(len(v) > config.param_max_length for v in values):
        raise ApiError("InvalidParameterValue.TemplateParameterLengthLimit")
    if any(_URL.search(v) for v in values):
        raise ApiError("InvalidParameterValue.ProhibitedUseUrlInTemplateParameter")
    context = str(params.get("SessionContext") or "")
    if len(context.encode("utf-8")) >= 512:
        raise ApiError("InvalidParameterValue", "SessionContext 长度需小于512字节。")
    shown = f"【{sign_name}】" + _PLACEHOLDER.sub(lambda m: values[int(m.group(1)) - 1], text)
    if len(shown) > 500:
        raise ApiError("InvalidParameterValue.ContentLengthLimit")
    return {"SendStatusSet": [_send_one(sim, phone, sign_name, str(params["TemplateId"]), values, shown, context)
                              for phone in phones]}


def _send_one(sim: SmsSimulator, raw: str, sign_name: str, template_id: str, values: list[str], shown: str,
              context: str) -> dict[str, Any]:
    config, state = sim.config, sim.state
    number = mainland_mobile(raw)
    status = {"SerialNo": "", "PhoneNumber": raw, "Fee": 0, "SessionContext": context, "IsoCode": "CN"}
    if number is None:
        return {**status, "Code": "InvalidParameterValue.IncorrectPhoneNumber", "IsoCode": "DEF",
                "Message": MESSAGES["InvalidParameterValue.IncorrectPhoneNumber"]}
    phone = "+86" + number
    status["PhoneNumber"] = phone
    with state.lock:  # the limits are checked and the message recorded in one step
        now = sim.clock()
        code = None
        if number in state.blacklist:
            code = "FailedOperation.PhoneNumberInBlacklist"
        elif state.sends_since(phone, now - 30, (template_id, values)) >= config.limit_same_content_30s:
            code = "LimitExceeded.PhoneNumberThirtySecondLimit"
        elif state.sends_since(phone, now - 3600) >= config.limit_per_hour:
            code = "LimitExceeded.PhoneNumberOneHourLimit"
        elif state.sends_today(phone) >= config.limit_per_day:
            code = "LimitExceeded.PhoneNumberDailyLimit"
        if code:
            return {**status, "Code": code, "Message": MESSAGES[code]}
        message = SimSms(id=len(state.messages) + 1, serial_no=state.next_serial(), phone=phone, sign_name=sign_name,
                         template_id=template_id, params=list(values), text=shown, session_context=context,
                         sent_at=now)
        failing = state.failing.get(number)
        message.receipt = (Receipt(False, failing[0], failing[1], now) if failing
                           else Receipt(True, "DELIVRD", "用户短信送达成功", now))
        state.record(message)
    sim.receipt_due()
    # Billing: 70 characters in one message, 67 each once it is split (Tencent's rule for mainland SMS).
    fee = 1 if len(shown) <= 70 else math.ceil(len(shown) / 67)
    return {**status, "SerialNo": message.serial_no, "Fee": fee, "Code": "Ok", "Message": "send success"}


def pull_status(sim: SmsSimulator, params: dict[str, Any]) -> dict[str, Any]:
    limit = params.get("Limit")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 100:
        raise ApiError("InvalidParameterValue.LimitVerifyFail")
    if str(params.get("SmsSdkAppId") or "") != sim.config.sdk_app_id:
        raise ApiError("InvalidParameterValue.SdkAppIdNotExist")
    out = []
    with sim.state.lock:
        for message in sim.state.messages:
            if len(out) >= limit:
                break
            if message.receipt is None or message.pulled:
                continue
            message.pulled = True  # a queue: each receipt is handed out once
            out.append({"UserReceiveTime": int(message.receipt.at), "CountryCode": "86",
                        "SubscriberNumber": message.phone[3:], "PhoneNumber": message.phone,
                        "SerialNo": message.serial_no,
                        "ReportStatus": "SUCCESS" if message.receipt.delivered else "FAIL",
                        "Description": message.receipt.description, "SessionContext": message.session_context})
    return {"PullSmsSendStatusSet": out}


def callback_item(message: SimSms) -> dict[str, str]:
    """One receipt as the provider's status push writes it."""
    receipt = message.receipt
    assert receipt is not None
    return {"user_receive_time": datetime.fromtimestamp(receipt.at, CHINA).strftime("%Y-%m-%d %H:%M:%S"),
            "nationcode": "86", "mobile": message.phone[3:],
            "report_status": "SUCCESS" if receipt.delivered else "FAIL", "errmsg": receipt.errmsg,
            "description": receipt.description, "sid": message.serial_no}
