"""What the simulated provider remembers: every message as the phone shows it, its receipt, the
per-number send log behind the frequency limits, and the numbers told to fail."""

from __future__ import annotations

import itertools
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))  # the provider writes receipt times in China time
_MOBILE = re.compile(r"1[3-9]\d{9}")


def mainland_mobile(number: str) -> str | None:
    """The 11 digits of a mainland mobile written as the provider accepts it (+86…, 0086…, 86…, bare)."""
    for prefix in ("+86", "0086", "86"):
        if number.startswith(prefix) and len(number) == len(prefix) + 11:
            number = number[len(prefix):]
            break
    return number if _MOBILE.fullmatch(number) else None


@dataclass
class Receipt:
    delivered: bool
    errmsg: str  # the carrier's status code: DELIVRD, or why not
    description: str
    at: float


@dataclass
class SimSms:
    id: int
    serial_no: str
    phone: str  # E.164
    sign_name: str
    template_id: str
    params: list[str]
    text: str  # 【签名】 + the rendered template: what the phone shows
    session_context: str
    sent_at: float
    receipt: Receipt | None = None
    pushed: bool = False
    pulled: bool = False

    def public(self) -> dict:
        r = self.receipt
        return {"id": self.id, "serial_no": self.serial_no, "phone": self.phone, "text": self.text,
                "template_id": self.template_id, "params": self.params, "sent_at": self.sent_at,
                "status": "pending" if r is None else ("delivered" if r.delivered else "failed"),
                "errmsg": r.errmsg if r else None, "description": r.description if r else None,
                "pushed": self.pushed, "pulled": self.pulled}


@dataclass
class SmsSimState:
    clock: Callable[[], float]
    lock: threading.RLock = field(default_factory=threading.RLock)
    messages: list[SimSms] = field(default_factory=list)
    #: E.164 phone -> its messages (the limits look at one number's, not at every message sent).
    by_phone: dict[str, list[SimSms]] = field(default_factory=lambda: defaultdict(list))
    #: phone (11 digits) -> (errmsg, description) of the receipt it gets instead of DELIVRD.
    failing: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: phone (11 digits) -> refused at once with FailedOperation.PhoneNumberInBlacklist.
    blacklist: set[str] = field(default_factory=set)
    #: action -> error codes to answer with, once each (tests: "the provider is down now").
    injected: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    #: What the callback URL answered to each push (status, body), for tests.
    push_answers: list[tuple[int, bytes]] = field(default_factory=list)
    _serials: itertools.count = field(default_factory=lambda: itertools.count(1))

    def fail_number(self, phone: str, errmsg: str = "UNDELIV", description: str = "空号") -> None:
        """Messages to ``phone`` are accepted but their receipt says FAIL (an empty or dead number)."""
        number = mainland_mobile(phone) or phone
        with self.lock:
            self.failing[number] = (errmsg, description)

    def block_number(self, phone: str) -> None:
        """``phone`` unsubscribed: the provider refuses sends to it (PhoneNumberInBlacklist)."""
        with self.lock:
            self.blacklist.add(mainland_mobile(phone) or phone)

    def inject(self, action: str, code: str, times: int = 1) -> None:
        with self.lock:
            self.injected[action].extend([code] * times)

    def take_injected(self, action: str) -> str | None:
        with self.lock:
            queue = self.injected.get(action)
            return queue.pop(0) if queue else None

    def next_serial(self) -> str:
        # Tencent's serial numbers look like "2640:4275816615917283717116711"; unique is what matters.
        return f"2640:{int(self.clock() * 1000)}{next(self._serials):012d}"

    def record(self, message: SimSms) -> None:
        with self.lock:
            self.messages.append(message)
            self.by_phone[message.phone].append(message)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()
            self.by_phone.clear()

    def inbox(self, phone: str) -> list[SimSms]:
        number = mainland_mobile(phone) or phone
        with self.lock:
            return list(self.by_phone.get("+86" + number, ()))

    def sends_since(self, phone: str, since: float, content: tuple | None = None) -> int:
        with self.lock:
            return sum(1 for m in self.by_phone.get(phone, ()) if m.sent_at > since
                       and (content is None or (m.template_id, m.params) == content))

    def sends_today(self, phone: str) -> int:
        today = datetime.fromtimestamp(self.clock(), CHINA).date()
        with self.lock:
            return sum(1 for m in self.by_phone.get(phone, ())
                       if datetime.fromtimestamp(m.sent_at, CHINA).date() == today)
