"""A token bucket over all requests: locally, what API Gateway's stage throttling does."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


def default_burst(rate: float) -> int:
    """The burst used when none is given: one second's worth of requests, at least one."""
    return max(1, int(rate))


class TokenBucket:
    """Up to ``burst`` requests at once, refilled at ``rate`` tokens per second; safe to share between threads."""

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1, not {rate} and {burst}")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)  # a fresh server takes a full burst, as a fresh stage does
        self._stamp = clock()

    def take(self) -> bool:
        """Spend one token if there is one (True), else refuse (False); refusals spend nothing."""
        with self._lock:
            now = self._clock()
            self._tokens = min(float(self.burst), self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def __str__(self) -> str:
        noun = "request" if self.rate == 1 else "requests"
        return f"{self.rate:g} {noun} per second, burst {self.burst}"
