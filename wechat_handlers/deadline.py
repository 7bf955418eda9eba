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
#: A first attempt owns its message until this long after it was admitted: its deadline and the
#: time to keep its answer. A retry finding no answer after that takes the message over (the first
#: attempt's worker died, or its answer could not be kept) and answers it for real.
LEASE_S = CALLBACK_DEADLINE_S + 1.0


class Deadline:
    """The time left to a callback, from a monotonic clock started at its arrival."""

    __slots__ = ("ends",)

    def __init__(self, seconds: float = CALLBACK_DEADLINE_S, *, started: float | None = None) -> None:
        self.ends = (time.monotonic() if started is None else started) + seconds

    def left(self, reserve: float = 0.0) -> float:
        """Seconds left before the deadline, less ``reserve``; never negative."""
        return max(0.0, self.ends - reserve - time.monotonic())
