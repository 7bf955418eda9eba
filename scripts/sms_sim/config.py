"""The SMS simulator's configuration: the account it plays and the knobs tests turn."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Regions where Tencent Cloud SMS answers (X-TC-Region).
SMS_REGIONS = ("ap-guangzhou", "ap-beijing", "ap-nanjing")


@dataclass
class SmsSimConfig:
    # The account: a CAM key pair, the SMS application (SdkAppId) and its approved signatures.
    secret_id: str = "AKIDhuiyiSmsSimulator00000000000000"
    secret_key: str = "huiyi-sms-simulator-key-not-secret"
    sdk_app_id: str = "1400000001"
    sign_names: tuple[str, ...] = ("会易",)
    #: Approved templates: id -> text with {1}{2}… (the app's own texts, app/services/notify/sms.py).
    templates: dict[str, str] = field(default_factory=dict)

    # What the API checks.
    max_clock_skew: int = 300  # AuthFailure.SignatureExpire beyond five minutes either way
    param_max_length: int = 12  # InvalidParameterValue.TemplateParameterLengthLimit
    max_numbers: int = 200  # per SendSms request

    # The account's frequency limits (the console's defaults): same content per number per 30 s,
    # messages per number per hour and per calendar day (China time).
    limit_same_content_30s: int = 1
    limit_per_hour: int = 5
    limit_per_day: int = 10

    # Receipts (回执): where pushes go and when. ``callback_delay`` None: only on demand (push_receipts()).
    callback_url: str | None = None
    callback_delay: float | None = None
    callback_timeout: float = 5.0
