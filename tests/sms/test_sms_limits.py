"""Per-number limits: ours (Redis, checked and counted in one step) and the provider's, mapped alike."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from app.services.notify import sms
from app.services.notify.sms import SmsError
from app.services.timeutil import LOCAL_TZ

PHONE = "13905710101"
MORNING = datetime(2026, 12, 3, 8, 0, tzinfo=LOCAL_TZ).timestamp()


def remind(n: int = 0, *, now: float | None = None, phone: str = PHONE):
    return sms.send(phone, "reminder", [f"第{n}次会议", "明天 09:30", "302室", "请准时到场"], now=now)


def test_the_same_content_twice_in_30_seconds_is_refused_before_the_provider(sms_sim):
    remind(now=MORNING)
    with pytest.raises(SmsError) as caught:
        remind(now=MORNING + 29)
    assert caught.value.code == "sms_rate_limited" and caught.value.retry_after == 30
    assert caught.value.status == 429 and caught.value.retryable
    assert sms_sim.state.calls["SendSms"] == 1
    remind(1, now=MORNING + 1)  # other content goes
    sms_sim.state.clear()  # the provider's own 30 s window is on its clock, not ours
    remind(now=MORNING + 31)


def test_five_an_hour_and_ten_a_day(sms_sim):
    # The provider counts on its own (real) clock; ours is moved here, so only ours is under test.
    sms_sim.config.limit_per_hour = sms_sim.config.limit_per_day = 100
    for n in range(5):
        remind(n, now=MORNING + n)
    with pytest.raises(SmsError) as caught:
        remind(5, now=MORNING + 10)
    assert caught.value.code == "sms_rate_limited" and caught.value.retry_after == 3600
    assert "1 小时" in caught.value.message
    for n in range(5, 10):
        remind(n, now=MORNING + 3601 + n)
    with pytest.raises(SmsError) as caught:
        remind(10, now=MORNING + 2 * 3600 + 20)  # the hour has room again, the day has not
    assert "今日" in caught.value.message
    assert caught.value.retry_after == 16 * 3600 - (2 * 3600 + 20)  # until midnight, China time
    remind(10, now=MORNING + 16 * 3600)  # the next calendar day
    remind(0, phone="13905710102", now=MORNING + 2 * 3600)  # other numbers are not affected


def test_concurrent_senders_never_pass_the_limit_together(sms_sim, app):
    results: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def worker(n: int) -> None:
        with app.app_context():
            start.wait()
            try:
                remind(n)
                outcome = "sent"
            except SmsError as exc:
                outcome = exc.code
            with lock:
                results.append(outcome)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["sent"] * 5 + ["sms_rate_limited"] * 15
    assert len(sms_sim.state.inbox(PHONE)) == 5
    assert sms_sim.state.calls["SendSms"] == 5  # the refused ones never reached the provider


@pytest.mark.parametrize(("limit", "provider_code"), [
    ("limit_same_content_30s", "LimitExceeded.PhoneNumberThirtySecondLimit"),
    ("limit_per_hour", "LimitExceeded.PhoneNumberOneHourLimit"),
    ("limit_per_day", "LimitExceeded.PhoneNumberDailyLimit"),
])
def test_the_providers_own_limits_are_mapped_alike(sms_sim, monkeypatch, limit, provider_code):
    # The account's console set stricter than our defaults: the provider refuses, we say the same thing.
    for name in ("limit_same_content_30s", "limit_per_hour", "limit_per_day"):
        setattr(sms_sim.config, name, 100)
        monkeypatch.setattr(sms, name.replace("limit_", "LIMIT_").upper(), 100)
    setattr(sms_sim.config, limit, 1)
    remind(0)
    with pytest.raises(SmsError) as caught:
        remind(0 if limit == "limit_same_content_30s" else 1)
    assert caught.value.code == "sms_rate_limited"
    assert caught.value.provider_code == provider_code and caught.value.retry_after


def test_limits_are_not_enforced_when_redis_is_away(sms_sim, monkeypatch):
    class Away:
        def eval(self, *args, **kwargs):
            raise ConnectionError("redis down")

    monkeypatch.setattr(sms, "get_redis", lambda: Away())
    remind(0)
    with pytest.raises(SmsError) as caught:
        remind(0)
    assert caught.value.provider_code == "LimitExceeded.PhoneNumberThirtySecondLimit"  # the provider's own
