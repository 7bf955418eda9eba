"""An injectable clock, so tests can move time instead of sleeping."""

from __future__ import annotations

import threading
import time


class SimClock:
    """Wall-clock time plus an offset that tests advance."""

    def __init__(self, start: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = 0.0 if start is None else start - time.time()

    def now(self) -> float:
        with self._lock:
            return time.time() + self._offset

    def __call__(self) -> float:
        return self.now()

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds
