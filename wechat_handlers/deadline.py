"""How long a callback may take: WeChat waits 5 s for an answer, then gives up on the request and
sends it again (three tries in all).

Every callback is answered by ``CALLBACK_DEADLINE_S`` whatever is slow behind it (a hung Redis, a
restarting database, WeChat's own API), with what is known to be true by then. The margin to
WeChat's 5 s covers the answer's way back and a busy machine's scheduling.
"""

from __future__ import annotations

import time

#: The latest a callback is answered, counted from its arrival.
CALLBACK_DEADLINE_S = 3.0
#: What the answer itself needs after the work (sealing, keeping it for retries, sending it).
ANSWER_MARGIN_S = 0.3
#: The latest answer counted from when our own proxy received the request (its ``X-Request-Start``,
#: trusted behind that proxy only, TRUST_PROXY). A request the proxy sends again to a second app host
#: after the first went silent mid-request (its machine lost: no reset ever comes back) reaches that
#: host seconds late; it is answered by then all the same, before WeChat's 5 s are up.
PROXY_DEADLINE_S = 4.3
#: A proxy timestamp further back than this is a clock out of step, not a wait: it is ignored.
PLAUSIBLE_WAIT_S = 10.0
#: A first attempt owns its message until this long after it was admitted: its deadline and the
#: time to keep its answer. A retry finding no answer after that takes the message over (the first
#: attempt's worker died, or its answer could not be kept) and answers it for real.
LEASE_S = CALLBACK_DEADLINE_S + 1.0


class Deadline:
    """The time left to a callback, from a monotonic clock started at its arrival."""

    __slots__ = ("ends",)

    def __init__(self, seconds: float = CALLBACK_DEADLINE_S, *, started: float | None = None) -> None:
        self.ends = (time.monotonic() if started is None else started) + seconds

    @classmethod
    def after_waiting(cls, waited_s: float) -> Deadline:
        """The deadline of a request that waited ``waited_s`` before it reached this process (see
        :func:`proxy_wait_s`): the usual one, or earlier when most of WeChat's wait is already gone."""
        deadline = cls()
        if waited_s > 0:
            deadline.ends = min(deadline.ends, time.monotonic() - waited_s + PROXY_DEADLINE_S)
        return deadline

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left before the deadline, less ``reserve``; never negative."""
        return max(0.0, self.ends - reserve - time.monotonic())


def proxy_wait_s(header: str | None, now: float | None = None) -> float:
    """Seconds since our proxy received the request, from its ``X-Request-Start: t=<ms since the
    epoch>`` (HAProxy's ``%[date(0,ms)]``; nginx's ``t=${msec}``, seconds with a fraction, is read too).
    0 without the header, for one that does not parse, and for one that is implausible (ahead of
    this clock, or more than PLAUSIBLE_WAIT_S back): the hosts' clocks are kept in step (NTP), and a
    wrong clock must not cut every callback short."""
    if not header:
        return 0.0
    value = header.strip().removeprefix("t=")
    try:
        started = float(value) if "." in value else int(value) / 1000
    except ValueError:
        return 0.0
    waited = (time.time() if now is None else now) - started
    return waited if 0 < waited <= PLAUSIBLE_WAIT_S else 0.0
