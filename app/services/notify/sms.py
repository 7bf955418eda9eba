"""SMS: the one seam to the SMS provider, Tencent Cloud SMS (API 3.0, ``tencentcloud-sdk-python-sms``).

Production and the local simulator (scripts/sms_sim) differ only in keys and ``SMS_ENDPOINT``: the
SDK signs every call with TC3-HMAC-SHA256 and posts it to ``SMS_SCHEME://SMS_ENDPOINT/``.

- :func:`send` one message from one of our :func:`templates` to one mobile, after our own per-number
  limits (the provider's documented defaults, checked and counted in Redis in one step, so that
  concurrent senders cannot pass them together); every provider refusal becomes an :class:`SmsError`
  with a stable code and the provider's own code and text kept on it for the delivery record.
- Delivery receipts arrive by the provider's push (:func:`parse_status_callback`, for the view at
  ``POST /sms/status/<token>``) or by pulling (:func:`pull_receipts`); both give :class:`SmsReceipt`.

Phones leave this module in E.164 (``+8613800138000``), as the provider writes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests
from flask import current_app

from app.extensions import get_redis
from app.services.contacts.phones import normalize_phone
from app.services.errors import DomainError
from app.services.timeutil import LOCAL_TZ

log = logging.getLogger(__name__)

__all__ = [
    "SmsError",
    "SmsReceipt",
    "SmsSent",
    "TemplateSpec",
    "configured",
    "missing_settings",
    "parse_status_callback",
    "pull_receipts",
    "send",
    "templates",
]

#: What the status callback must answer for the provider to take the push as received (its docs).
CALLBACK_OK = {"result": 0, "errmsg": "OK"}

#: Tencent refuses a template variable longer than 12 characters (send error 1036, API 3.0
#: ``InvalidParameterValue.TemplateParameterLengthLimit``); every character counts as one.
PARAM_MAX_LENGTH = 12

#: Our per-number limits, the provider's documented defaults (its console can change them; keep these
#: at or below what the account is set to): the same content at most once in 30 s, at most 5 messages
#: an hour and 10 a calendar day (China time) to one number. Refusing here costs nothing; a refusal by
#: the provider still counts as a failed request on its side.
LIMIT_SAME_CONTENT_30S = 1
LIMIT_PER_HOUR = 5
LIMIT_PER_DAY = 10

#: The most receipts one push may carry, and the largest body we read (the provider batches receipts).
MAX_CALLBACK_ITEMS = 5000
MAX_CALLBACK_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True)
class SmsSent:
    """The provider took the message: its serial number (receipts name it) and the E.164 phone."""

    serial_no: str
    phone: str


@dataclass(frozen=True)
class SmsReceipt:
    """What the provider reports about one message: delivered, or not and why."""

    serial_no: str
    phone: str  # E.164
    delivered: bool
    reason: str | None  # the carrier's code and the provider's description when not delivered
    reported_at: datetime  # when the phone received it (or the carrier gave up), UTC aware
    context: str | None = None  # the SessionContext given to send(), when the provider returns it


@dataclass(frozen=True)
class TemplateSpec:
    """One of our message kinds as registered (and approved) with the provider.

    ``text`` is what to submit for approval in the provider's console (no signature: the provider
    puts 【签名】 in front); ``params`` names what each ``{n}`` holds, in order.
    """

    name: str
    template_id: str  # "" until its SMS_TEMPLATE_* setting is filled
    text: str
    params: tuple[str, ...]
    max_lengths: tuple[int, ...]

    def render(self, sign_name: str, values: list[str]) -> str:
        """The message as the phone shows it."""
        body = re.sub(r"\{(\d+)\}", lambda m: values[int(m.group(1)) - 1] if 0 < int(m.group(1)) <= len(values)
                      else m.group(0), self.text)
        return f"【{sign_name}】{body}"


#: name -> (setting holding the provider's template id, text, what each parameter holds).
TEMPLATES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # The personal link's fixed part is in the text (the provider approves links with the template,
    # not in variables); {4} is the 12-character token of the person's notice page (/n/<token>).
    "notice": ("SMS_TEMPLATE_NOTICE",
               "{1}定于{2}在{3}召开。请查看通知全文并回执（参加或请假）：{link}{4}",
               ("会议名称", "会议时间", "会议地点", "通知链接")),
    # Neutral about the time ("将于…开始" would be false once it has started): {4} says what to do,
    # e.g. 请准时到场签到 before the start, 会议已开始请尽快到场 after it.
    "reminder": ("SMS_TEMPLATE_REMINDER",
                 "会议提醒：{1}，{2}开始，地点{3}。{4}。",
                 ("会议名称", "开始时间", "会议地点", "提醒事项")),
    "confidentiality": ("SMS_TEMPLATE_CONFIDENTIALITY",
                        "保密提醒：{1}的会议材料仅供参会使用，请勿拍照、复制或外传，会后按要求交回。",
                        ("会议名称",)),
}

_CREDENTIALS = ("SMS_SECRET_ID", "SMS_SECRET_KEY", "SMS_SDK_APP_ID", "SMS_SIGN_NAME")


class SmsError(DomainError):
    """A message not sent (or a receipt not read). ``provider_code``/``provider_message`` are the
    provider's own words for the record; ``retry_after`` (seconds) says when trying again makes sense."""

    messages: ClassVar[dict[str, str]] = {
        "sms_not_configured": "短信服务未配置：{detail}",
        "sms_bad_phone": "该号码无法接收短信：{detail}",
        "sms_rate_limited": "给该号码发送短信过于频繁：{detail}",
        "sms_refused": "短信平台拒绝发送：{detail}",
        "sms_unavailable": "短信平台暂时不可用，请稍后重试",
        "sms_unknown_template": "没有名为“{detail}”的短信模板",
        "sms_bad_params": "短信模板参数有误：{detail}",
        "sms_bad_callback": "短信回执格式有误：{detail}",
    }
    statuses: ClassVar[dict[str, int]] = {
        "sms_not_configured": 503, "sms_bad_phone": 422, "sms_rate_limited": 429, "sms_refused": 502,
        "sms_unavailable": 503, "sms_unknown_template": 400, "sms_bad_params": 422, "sms_bad_callback": 400,
    }
    #: Trying the same message again later can succeed (nothing about it has to change).
    transient: ClassVar[frozenset[str]] = frozenset({"sms_rate_limited", "sms_unavailable"})

    def __init__(self, code: str, detail: str = "", *, provider_code: str | None = None,
                 provider_message: str | None = None, retry_after: int | None = None) -> None:
        super().__init__(code, detail=detail)
        self.provider_code = provider_code
        self.provider_message = provider_message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.code in self.transient


# -- configuration ------------------------------------------------------------------------------------


def missing_settings() -> list[str]:
    """The SMS settings still empty (credentials first, then template ids), for the UI."""
    cfg = current_app.config
    names = [*_CREDENTIALS, *(setting for setting, _t, _p in TEMPLATES.values())]
    return [name for name in names if not str(cfg.get(name) or "").strip()]


def configured() -> bool:
    """SMS can be sent at all: the provider's keys, app id and signature are set (a template whose id
    is missing refuses on its own, with sms_not_configured naming the setting)."""
    return not any(name in _CREDENTIALS for name in missing_settings())


def templates() -> dict[str, TemplateSpec]:
    """Our message kinds with their provider template ids (from the config)."""
    cfg = current_app.config
    link = str(cfg.get("PUBLIC_BASE_URL") or "").rstrip("/") + "/n/"
    return {name: TemplateSpec(name=name, template_id=str(cfg.get(setting) or "").strip(),
                               text=text.replace("{link}", link),
                               params=params, max_lengths=(PARAM_MAX_LENGTH,) * len(params))
            for name, (setting, text, params) in TEMPLATES.items()}


class SmsApi:
    """The SDK client for one set of settings, on a ``requests`` session that tests can mount an
    in-process adapter on (``sms_http().mount("http://sms.sim/", WsgiAdapter(sim.app))``)."""

    def __init__(self, cfg: Any, http: requests.Session) -> None:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        profile = ClientProfile(httpProfile=HttpProfile(
            protocol=cfg.get("SMS_SCHEME") or "https", endpoint=cfg.get("SMS_ENDPOINT") or None,
            reqTimeout=int(float(cfg.get("SMS_HTTP_TIMEOUT") or 10))))
        self.sdk_app_id = str(cfg["SMS_SDK_APP_ID"])
        self.sign_name = str(cfg["SMS_SIGN_NAME"])
        self.client = sms_client.SmsClient(
            credential.Credential(cfg["SMS_SECRET_ID"], cfg["SMS_SECRET_KEY"]), cfg.get("SMS_REGION") or "ap-guangzhou",
            profile)
        # The SDK makes its own requests.Session per client; ours outlives a client rebuilt for new
        # settings, so an adapter mounted on it keeps working.
        self.client.request.conn._session = http


def sms_http() -> requests.Session:
    """The HTTP session every SDK client of this app uses."""
    return current_app.extensions.setdefault("sms_http", requests.Session())  # type: ignore[no-any-return]


def _api() -> SmsApi:
    if not configured():
        raise SmsError("sms_not_configured", "请设置 " + "、".join(n for n in missing_settings() if n in _CREDENTIALS))
    cfg = current_app.config
    key = tuple(str(cfg.get(n) or "") for n in (*_CREDENTIALS, "SMS_ENDPOINT", "SMS_SCHEME", "SMS_REGION"))
    cached = current_app.extensions.get("sms_api")
    if cached is None or cached[0] != key:
        cached = (key, SmsApi(cfg, sms_http()))
        current_app.extensions["sms_api"] = cached
    return cached[1]  # type: ignore[no-any-return]


# -- sending --------------------------------------------------------------------------------------------


def e164(phone: str) -> str:
    """A mainland mobile as the provider wants it (``+8613800138000``), or sms_bad_phone."""
    result = normalize_phone(phone)
    if not result.ok:
        raise SmsError("sms_bad_phone", result.detail or "号码无效")
    if not result.is_mobile:
        raise SmsError("sms_bad_phone", f"{result.display}不是手机号")
    return "+86" + str(result.number)


def fit_params(spec: TemplateSpec, params: list[str]) -> list[str]:
    """The values as the provider accepts them: one per ``{n}``, on one line, no 【】 (that would read
    as a second signature), each cut to its variable's limit with "…"."""
    if not isinstance(params, (list, tuple)) or len(params) != len(spec.params):
        got = len(params) if isinstance(params, (list, tuple)) else 0
        raise SmsError("sms_bad_params", f"模板“{spec.name}”需要 {len(spec.params)} 个参数（{'、'.join(spec.params)}），"
                                         f"收到 {got} 个")
    values = []
    for value, limit in zip(params, spec.max_lengths, strict=True):
        text = " ".join(str(value if value is not None else "").split())
        text = text.replace("【", "[").replace("】", "]")
        values.append(text if len(text) <= limit else text[: limit - 1] + "…")
    return values


def send(phone: str, template: str, params: list[str], *, context: str | None = None,
         now: float | None = None) -> SmsSent:
    """Send one message of our ``template`` kind to one mobile; :class:`SmsError` when not sent.

    ``context`` (under 512 bytes) comes back with pulled receipts (the provider's SessionContext).
    """
    spec = templates().get(template) if isinstance(template, str) else None
    if spec is None:
        raise SmsError("sms_unknown_template", str(template)[:40])
    api = _api()
    if not spec.template_id:
        raise SmsError("sms_not_configured", f"请设置 {TEMPLATES[template][0]}（模板“{template}”的模板 ID）")
    number = e164(phone)
    values = fit_params(spec, params)
    if context is not None and len(context.encode("utf-8")) >= 512:
        raise SmsError("sms_bad_params", "SessionContext 须小于 512 字节")
    hold = _take(number, spec.template_id, values, now or time.time())
    try:
        return _send_one(api, number, spec, values, context)
    except SmsError as exc:
        if exc.code in ("sms_bad_phone", "sms_refused", "sms_not_configured"):
            _give_back(hold)  # never reached a phone: it does not count against the person
        raise


def _send_one(api: SmsApi, number: str, spec: TemplateSpec, values: list[str], context: str | None) -> SmsSent:
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.sms.v20210111 import models

    request = models.SendSmsRequest()
    request.PhoneNumberSet = [number]
    request.SmsSdkAppId = api.sdk_app_id
    request.SignName = api.sign_name
    request.TemplateId = spec.template_id
    request.TemplateParamSet = values
    if context:
        request.SessionContext = context
    try:
        response = api.client.SendSms(request)
    except TencentCloudSDKException as exc:
        raise provider_error(str(exc.get_code() or ""), str(exc.get_message() or ""), spec) from exc
    status = next(iter(response.SendStatusSet or []), None)
    if status is None:
        raise SmsError("sms_unavailable", provider_code="EmptySendStatusSet", provider_message="no SendStatus")
    if status.Code != "Ok":
        raise provider_error(str(status.Code or ""), str(status.Message or ""), spec)
    return SmsSent(serial_no=str(status.SerialNo), phone=str(status.PhoneNumber or number))


# Provider codes (SendSms errors, whole-request or per number) and what they mean for us.
_RATE_LIMITS = {
    "LimitExceeded.PhoneNumberThirtySecondLimit": ("该号码 30 秒内已收到相同内容的短信", 30),
    "LimitExceeded.DeliveryFrequencyLimit": ("命中短信平台的频率限制", 30),
    "LimitExceeded.PhoneNumberOneHourLimit": ("该号码 1 小时内收到的短信已达上限", 3600),
    "LimitExceeded.PhoneNumberDailyLimit": ("该号码今日收到的短信已达上限", None),
    "LimitExceeded.PhoneNumberSameContentDailyLimit": ("该号码今日已多次收到相同内容", None),
}
_BAD_PHONE = {
    "InvalidParameterValue.IncorrectPhoneNumber": "短信平台认为号码格式错误",
    "FailedOperation.PhoneNumberParseFail": "短信平台无法解析该号码",
    "UnsupportedOperation.UnsupportedRegion": "不支持向该地区发送短信",
}
_REFUSALS = {
    "FailedOperation.PhoneNumberInBlacklist": "对方已退订或在运营商免打扰名单中",
    "FailedOperation.SignatureIncorrectOrUnapproved": "短信签名未审核通过或与 SMS_SIGN_NAME 不符",
    "FailedOperation.TemplateIncorrectOrUnapproved": "短信模板未审核通过或内容不符（模板 ID {template_id}）",
    "FailedOperation.TemplateIdNotExist": "短信模板不存在（模板 ID {template_id}）",
    "FailedOperation.TemplateUnapprovedOrNotExist": "短信模板未审核通过或不存在（模板 ID {template_id}）",
    "FailedOperation.TemplateParamSetNotMatchApprovedTemplate": "参数个数与审核通过的模板不符（模板 ID {template_id}）",
    "InvalidParameterValue.TemplateParameterLengthLimit": "模板变量超过长度限制",
    "InvalidParameterValue.ProhibitedUseUrlInTemplateParameter": "模板变量中不能含有网址",
    "InvalidParameterValue.ContentLengthLimit": "短信内容过长",
    "FailedOperation.ContainSensitiveWord": "短信内容含有敏感词",
    "InvalidParameterValue.SdkAppIdNotExist": "短信应用 SdkAppId 不存在（SMS_SDK_APP_ID）",
    "UnauthorizedOperation.SdkAppIdIsDisabled": "短信应用已被禁用",
    "FailedOperation.InsufficientBalanceInSmsPackage": "短信套餐包余量不足",
    "UnauthorizedOperation.RequestIpNotInWhitelist": "服务器 IP 不在短信平台的白名单中",
}
#: Whole-account daily caps: nothing to change about the message, tomorrow it goes.
_ACCOUNT_CAPS = ("LimitExceeded.AppDailyLimit", "LimitExceeded.AppGlobalDailyLimit",
                 "LimitExceeded.AppMainlandChinaDailyLimit", "LimitExceeded.DailyLimit")
#: First parts of the provider's own codes; anything else came from the SDK or the network.
_PROVIDER_FAMILIES = {"AuthFailure", "FailedOperation", "InvalidParameter", "InvalidParameterValue", "LimitExceeded",
                      "MissingParameter", "UnauthorizedOperation", "UnsupportedOperation", "UnknownParameter",
                      "ResourceNotFound", "InvalidAction", "NoSuchVersion", "ActionOffline"}


def provider_error(code: str, message: str, spec: TemplateSpec | None = None) -> SmsError:
    """The :class:`SmsError` for a provider (or SDK) error code."""
    kept = {"provider_code": code or None, "provider_message": message[:500] or None}
    if code in _RATE_LIMITS:
        detail, after = _RATE_LIMITS[code]
        return SmsError("sms_rate_limited", detail, retry_after=after or _seconds_to_local_midnight(time.time()),
                        **kept)
    if code in _BAD_PHONE:
        return SmsError("sms_bad_phone", _BAD_PHONE[code], **kept)
    if code in _ACCOUNT_CAPS:
        return SmsError("sms_unavailable", retry_after=_seconds_to_local_midnight(time.time()), **kept)
    if code in _REFUSALS:
        return SmsError("sms_refused", _REFUSALS[code].format(template_id=spec.template_id if spec else "?"), **kept)
    if code.startswith("AuthFailure"):
        return SmsError("sms_refused", "短信平台不认可我们的密钥或签名（请检查 SMS_SECRET_ID、SMS_SECRET_KEY 与服务器时间）",
                        **kept)
    if code.split(".", 1)[0] in _PROVIDER_FAMILIES:
        return SmsError("sms_refused", f"错误码 {code[:80]}", **kept)
    # InternalError.*, RequestLimitExceeded.*, the SDK's ClientNetworkError/ServerNetworkError, or an
    # exception name from inside the SDK: the provider is away or busy; the same message may go later.
    return SmsError("sms_unavailable", **kept)


# -- per-number limits --------------------------------------------------------------------------------

# Check every limit, then count against all of them, in one step (a check before any concurrent
# sender has counted would let them all through). 30 s and 1 h are sliding windows (sorted sets of
# send times); the day is China's calendar day. KEYS: same-content set, hour set, day counter.
# ARGV: now (ms), a unique member, the three limits, the day counter's TTL. Returns 0 (counted) or
# the number of the limit that refused (1, 2, 3).
_TAKE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 30000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - 3600000)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return 2 end
if tonumber(redis.call('GET', KEYS[3]) or '0') >= tonumber(ARGV[5]) then return 3 end
redis.call('ZADD', KEYS[1], now, ARGV[2])
redis.call('PEXPIRE', KEYS[1], 31000)
redis.call('ZADD', KEYS[2], now, ARGV[2])
redis.call('PEXPIRE', KEYS[2], 3601000)
redis.call('INCR', KEYS[3])
redis.call('EXPIRE', KEYS[3], ARGV[6])
return 0
"""
_GIVE_BACK = """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECR', KEYS[3]) end
return 0
"""
_REFUSED_BY = {1: _RATE_LIMITS["LimitExceeded.PhoneNumberThirtySecondLimit"][0],
               2: _RATE_LIMITS["LimitExceeded.PhoneNumberOneHourLimit"][0],
               3: _RATE_LIMITS["LimitExceeded.PhoneNumberDailyLimit"][0]}


@dataclass(frozen=True)
class _Hold:
    keys: tuple[str, str, str]
    member: str


def _limit_keys(number: str, template_id: str, values: list[str], now: float) -> tuple[str, str, str]:
    content = hashlib.sha256(json.dumps([template_id, values], ensure_ascii=False).encode()).hexdigest()[:24]
    day = datetime.fromtimestamp(now, LOCAL_TZ).strftime("%Y%m%d")
    return (f"huiyi:sms:30s:{number}:{content}", f"huiyi:sms:1h:{number}", f"huiyi:sms:day:{number}:{day}")


def _take(number: str, template_id: str, values: list[str], now: float) -> _Hold | None:
    keys = _limit_keys(number, template_id, values, now)
    member = f"{now:.6f}:{uuid.uuid4().hex}"
    try:
        refused = int(get_redis().eval(_TAKE, 3, *keys, int(now * 1000), member, LIMIT_SAME_CONTENT_30S,
                                       LIMIT_PER_HOUR, LIMIT_PER_DAY, 26 * 3600))
    except Exception:
        # As app/services/ratelimit.py: a cache away must not stop the meeting's messages; the
        # provider still applies its own limits, and those refusals are mapped like ours.
        log.warning("SMS per-number limits unavailable (Redis down); not enforced for this send")
        return None
    if refused:
        after = {1: 30, 2: 3600}.get(refused) or _seconds_to_local_midnight(now)
        raise SmsError("sms_rate_limited", _REFUSED_BY[refused], retry_after=after)
    return _Hold(keys, member)


def _give_back(hold: _Hold | None) -> None:
    if hold is None:
        return
    try:
        get_redis().eval(_GIVE_BACK, 3, *hold.keys, hold.member)
    except Exception:
        log.warning("SMS per-number limit not given back (Redis down)")


def _seconds_to_local_midnight(now: float) -> int:
    here = datetime.fromtimestamp(now, LOCAL_TZ)
    midnight = (here + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - here).total_seconds()))


# -- receipts -------------------------------------------------------------------------------------------


def pull_receipts(limit: int = 100) -> list[SmsReceipt]:
    """Receipts not pulled before (the provider hands each out once), at most ``limit`` (≤ 100)."""
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.sms.v20210111 import models

    api = _api()
    request = models.PullSmsSendStatusRequest()
    request.Limit = max(1, min(int(limit), 100))
    request.SmsSdkAppId = api.sdk_app_id
    try:
        response = api.client.PullSmsSendStatus(request)
    except TencentCloudSDKException as exc:
        raise provider_error(str(exc.get_code() or ""), str(exc.get_message() or "")) from exc
    receipts = []
    for item in response.PullSmsSendStatusSet or []:
        delivered = item.ReportStatus == "SUCCESS"
        phone = item.PhoneNumber or f"+{item.CountryCode or '86'}{item.SubscriberNumber or ''}"
        receipts.append(SmsReceipt(
            serial_no=str(item.SerialNo or ""), phone=str(phone), delivered=delivered,
            reason=None if delivered else (str(item.Description or "") or "发送失败")[:200],
            reported_at=datetime.fromtimestamp(int(item.UserReceiveTime or time.time()), UTC),
            context=item.SessionContext or None))
    return receipts


_RECEIPT_TIME = "%Y-%m-%d %H:%M:%S"


def parse_status_callback(body: bytes) -> list[SmsReceipt]:
    """The provider's status push (回执推送: a JSON array of receipts) as :class:`SmsReceipt`;
    anything else is sms_bad_callback (never an exception of another kind)."""
    if not isinstance(body, (bytes, bytearray)) or not body.strip():
        raise SmsError("sms_bad_callback", "内容为空")
    if len(body) > MAX_CALLBACK_BYTES:
        raise SmsError("sms_bad_callback", "内容过大")
    try:
        data = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SmsError("sms_bad_callback", "不是 UTF-8 的 JSON") from exc
    items = [data] if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise SmsError("sms_bad_callback", "应为回执数组")
    if len(items) > MAX_CALLBACK_ITEMS:
        raise SmsError("sms_bad_callback", f"一次最多 {MAX_CALLBACK_ITEMS} 条回执")
    return [_receipt(item, n) for n, item in enumerate(items, 1)]


_DIGITS = re.compile(r"\d{1,20}")
_SID = re.compile(r"[\x21-\x7e]{1,128}")


def _receipt(item: object, n: int) -> SmsReceipt:
    if not isinstance(item, dict):
        raise SmsError("sms_bad_callback", f"第 {n} 条不是对象")

    def text(name: str, limit: int = 200) -> str:
        value = item.get(name)
        if value is None:
            return ""
        if not isinstance(value, (str, int)) or isinstance(value, bool):
            raise SmsError("sms_bad_callback", f"第 {n} 条的 {name} 不是文本")
        return str(value).strip()[:limit]

    sid, mobile, nation, status = text("sid", 500), text("mobile", 500), text("nationcode", 500) or "86", text("report_status")
    if not _SID.fullmatch(sid):
        raise SmsError("sms_bad_callback", f"第 {n} 条缺少有效的 sid")
    if not _DIGITS.fullmatch(mobile) or not _DIGITS.fullmatch(nation):
        raise SmsError("sms_bad_callback", f"第 {n} 条的号码无效")
    if status not in ("SUCCESS", "FAIL"):
        raise SmsError("sms_bad_callback", f"第 {n} 条的 report_status 应为 SUCCESS 或 FAIL")
    try:
        reported = datetime.strptime(text("user_receive_time"), _RECEIPT_TIME).replace(tzinfo=LOCAL_TZ).astimezone(UTC)
    except ValueError as exc:
        raise SmsError("sms_bad_callback", f"第 {n} 条的 user_receive_time 无法识别") from exc
    delivered = status == "SUCCESS"
    reason = None if delivered else (" ".join(p for p in (text("errmsg", 60), text("description")) if p) or "发送失败")
    return SmsReceipt(serial_no=sid, phone=f"+{nation}{mobile}", delivered=delivered, reason=reason,
                      reported_at=reported)
